"""Hook specifications: the whole contract between ganframe and its plugins.

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose
names match the specs below. ganframe's own built-ins in ``plugins/`` use
exactly these hooks; nothing is registered behind a plugin author's back.

Two groups of hooks exist:

**Registration hooks** (``register_*``) are called once per process, when the
plugin manager loads. Each receives a ``register`` callable and calls it once
per component. They register *factories*, never built modules: a factory is
called only when a run needs that component, with a spec that tells it how to
size itself (sample shape, class count, latent size). A factory may be given
as an import string ``"package.module:callable"`` so that registering stays
cheap and ``ganframe plugins`` never imports torch.

**Lifecycle hooks** (``on_*``) are called by the training engine with the
run's :class:`ganframe.train.state.RunState`. They let plugins log, sample, write
files and evaluate without touching the engine. They are called on every
process of a distributed run; check ``state.is_main_process`` before writing
files.

As in pluggy generally, an implementation may accept fewer arguments than the
spec names, so specs can gain arguments without breaking plugins. An
implementation whose name matches no spec (a typo) is reported as a warning
naming the plugin and the unknown hook.

The plugin author's guide, ``docs/writing-plugins.md``, documents every hook
below with its arguments and the contracts of each component; a test keeps
the two in step (every spec documented, every documented hook a spec).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from ganframe.train.state import RunState

PROJECT_NAME = "ganframe"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The ``register`` callable every registration hook receives.

    ``register(name, factory, *, help="", **metadata)``

    - ``name``: the short name users type (``--model NAME``): no ``:``, ``,``
      or whitespace. Lower case, digits and ``-`` are conventional. Every
      component is also reachable as ``distribution:name``.
    - ``factory``: a callable, or an import string ``"package.module:attr"``
      that is imported only when the component is first used.
    - ``help``: one line shown by ``ganframe plugins``; defaults to the first
      line of the factory's docstring.
    - ``metadata``: only for generators and discriminators: ``conditional``
      (bool, the network takes class labels); only for generators:
      ``defaults`` (dict of run settings this model was designed for, keys
      among ``loss``, ``latent_dim``, ``batch_size``, ``lr``, ``beta1``,
      ``beta2``, ``optimizer``, ``g_ema``, such as
      ``{"latent_dim": 64, "batch_size": 100}``; a user's explicit option
      always wins); only for metrics: ``default`` (bool, scored by
      ``ganframe eval`` and ``--eval-every`` when no ``--metrics`` is given,
      on every data set the metric does not decline).

    A malformed call raises, which fails (and skips) the registering plugin
    with a message naming the mistake.
    """

    def __call__(self, name: str, factory: Any, *, help: str | None = None, **metadata: Any) -> None: ...


# ---------------------------------------------------------------------------
# Registration hooks: called once, when the plugin manager loads.
# ---------------------------------------------------------------------------


@hookspec
def register_generators(register: Register) -> None:
    """Register generator factories.

    Called once when plugins load. For each generator call
    ``register(name, factory, help=..., conditional=False, defaults=None)``.

    ``factory(spec: ganframe.plugin.specs.ModelSpec) -> torch.nn.Module``. The module's
    ``forward(z)`` (or ``forward(z, labels)`` when ``conditional=True``) takes
    noise of shape ``(N, spec.latent_dim)`` and returns a float tensor of shape
    ``(N, *spec.sample_shape)`` with values in ``[-1, 1]``.

    A generator and a discriminator registered under the same name form a
    *model*, selected with ``--model NAME``.

    :param register: call it once per generator, as described above; see
        :class:`Register` for its arguments. Registering nothing is fine.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def register_discriminators(register: Register) -> None:
    """Register discriminator factories.

    Called once when plugins load. For each discriminator call
    ``register(name, factory, help=..., conditional=False)``.

    ``factory(spec: ganframe.plugin.specs.ModelSpec) -> torch.nn.Module``. The module's
    ``forward(x)`` (or ``forward(x, labels)`` when ``conditional=True``) takes a
    batch of shape ``(N, *spec.sample_shape)`` in ``[-1, 1]`` and returns
    **logits** (no sigmoid) of shape ``(N,)`` or ``(N, 1)``.

    :param register: call it once per discriminator, as described above; see
        :class:`Register` for its arguments. Registering nothing is fine.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register adversarial loss factories.

    Called once when plugins load. For each loss call
    ``register(name, factory, help=...)``.

    ``factory(spec: ganframe.plugin.specs.LossSpec)`` returns an object with two
    methods, each given a :class:`ganframe.nn.losses.LossInputs` and returning a
    0-dim tensor: ``discriminator_loss(inputs)`` (minimised by D's optimizer)
    and ``generator_loss(inputs)`` (minimised by G's optimizer). ``inputs``
    carries the logits, both batches, their labels and the discriminator
    itself (for penalties such as WGAN-GP's); ``real_logits`` is ``None`` in
    the generator phase. Subclass :class:`ganframe.nn.losses.GANLoss` if you
    like. Options given with ``--loss-option KEY=VALUE`` arrive in
    ``spec.options``.

    :param register: call it once per loss, as described above; see
        :class:`Register` for its arguments. Registering nothing is fine.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register data set factories.

    Called once when plugins load. For each data set call
    ``register(name, factory, help=...)``.

    ``factory(spec: ganframe.plugin.specs.DatasetSpec)`` returns a
    :class:`ganframe.train.data.InMemoryDataset` (preferred: the engine keeps it on
    the training device and batches by index) or any map-style dataset with
    ``sample_shape``, ``num_classes`` (0 when unlabelled) and
    ``__getitem__(i) -> (x, label)``, ``x`` a float tensor already scaled to
    ``[-1, 1]`` and ``label`` an integer (``-1`` when unlabelled). ``spec.root``
    is the folder to read or download into (only when ``spec.download``);
    ``spec.train`` selects the training or the held-out split.

    :param register: call it once per data set, as described above; see
        :class:`Register` for its arguments. Registering nothing is fine.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def register_loggers(register: Register) -> None:
    """Register run loggers, enabled with ``--logger NAME``.

    Called once when plugins load. For each logger call
    ``register(name, factory, help=...)``.

    ``factory(run_dir: pathlib.Path, config: dict)`` returns a plugin object
    whose ``@hookimpl`` lifecycle methods (below) are registered for the
    duration of one run. Raise :class:`ganframe.errors.UsageError` from the
    factory when the logger cannot work (a missing optional dependency, say).

    :param register: call it once per logger, as described above; see
        :class:`Register` for its arguments. Registering nothing is fine.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Register sample-quality metrics, chosen with ``ganframe eval --metrics NAME,...``
    and ``ganframe run --eval-metrics NAME,...``.

    Called once when plugins load. For each metric call
    ``register(name, factory, help=..., default=False)``.

    :param register: the :class:`Register` callable; ``default=True`` puts the
        metric in the set scored when the user names none (today's
        ``classifier`` figures are such a default).

    ``factory(spec: ganframe.MetricSpec)`` returns an object with
    ``score(samples, labels=None) -> dict[str, float]``: ``samples`` are
    generated samples shaped like the data set's (``(N, *sample_shape)`` in
    ``[-1, 1]``), ``labels`` the classes a conditional generator was asked for
    (or ``None``); the figures are finite floats under the same keys on every
    call (they are logged as ``eval/<key>``). The factory must be cheap: it
    only checks that it can score ``spec.dataset`` and reads its options
    (``spec.options``, from ``--metric-option KEY=VALUE`` or
    ``NAME.KEY=VALUE``). A metric that cannot score the data set raises
    :class:`ganframe.MetricDeclined` with one sentence saying why; that is an
    error when the user asked for the metric, and skips it when it was a
    default. Expensive preparation (a classifier, real-image statistics) goes
    in an optional ``prepare()`` method, called once, on the main process,
    before the first ``score``. An optional ``report(samples, labels)`` returns
    a richer JSON-able dict for ``ganframe eval --json`` (default: ``score``).
    ``ganframe.testing.check_metric`` checks this contract.
    """


# ---------------------------------------------------------------------------
# Lifecycle hooks: called by the training engine, in this order.
# ---------------------------------------------------------------------------


@hookspec
def on_train_start(state: RunState) -> None:
    """Called once before the first step, after networks, optimizers and data
    are ready (and, on resume, after the checkpoint is restored: ``state.step``
    and ``state.history`` then continue the interrupted run; a logger that
    appends should drop what it wrote after ``state.step``).

    :param state: the run: its config, networks, optimizers, data set,
        counters and history (``state.step`` is 0 for a new run, the
        checkpoint's step on resume).
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def on_step_end(state: RunState) -> None:
    """Called after every training step (D phase then G phase).

    Runs on the hot path: do not read tensors from the device here (no
    ``.item()``); use :func:`on_metrics` for values. ``state.step`` is the
    number of steps completed so far.

    :param state: the run: its config, networks, optimizers, data set,
        counters and history (``state.step`` counts the step just taken).
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def on_metrics(state: RunState, metrics: dict[str, float]) -> None:
    """Called whenever metrics are read from the device (every
    ``--log-every`` steps, at epoch end, and when a plugin logs figures such as
    evaluation scores).

    :param state: the run: its config, networks, optimizers, data set,
        counters and history (a plugin logs its own figures with
        ``state.log(figures)``).
    :param metrics: plain Python numbers by name: always ``step`` and
        ``epoch``; from training ``d_loss``, ``g_loss``, ``D(x)`` and
        ``D(G(z))``; from ``--eval-every`` figures under ``eval/...``. Do not
        change it: every plugin receives the same dict.
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def on_epoch_end(state: RunState) -> None:
    """Called after the last step of each epoch; ``state.epoch`` is the
    number of the epoch just finished (1-based).

    Lifecycle hooks other than ``on_step_end`` run with the random number
    generators saved and restored around them, so drawing random numbers here
    (samples, evaluation) never changes training. A checkpoint written here
    stores the generators' states as training left them
    (``state.rng_snapshot``, used by :meth:`ganframe.run.checkpoint.Checkpoint.of`).

    :param state: the run: its config, networks, optimizers, data set,
        counters and history (``state.batch_in_epoch`` is 0 here).
    :returns: nothing; a returned value is ignored.
    """


@hookspec
def on_train_end(state: RunState) -> None:
    """Called once when training stops; ``state.stop_reason`` says why:
    ``finished``, ``max_steps``, ``SIGINT`` / ``SIGTERM``, a plugin's
    ``request_stop`` reason, or ``error`` / ``nonfinite`` / ``interrupted``
    (a second Ctrl-C). ``state.stopped_cleanly`` is true for the first group,
    the only ones after which a checkpoint should be written.

    :param state: the run: its config, networks, optimizers, data set,
        counters and history (``state.stop_reason`` is set).
    :returns: nothing; a returned value is ignored.
    """
