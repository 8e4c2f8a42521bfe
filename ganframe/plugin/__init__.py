"""ganframe uses `pluggy <https://pluggy.readthedocs.io/>`_ for everything a run is made of.

A **plugin** is an installed Python package that names a module in the
``ganframe`` entry-point group; that module holds functions marked
``@hookimpl`` and named like the hooks below. Each registration hook adds
components (generators, discriminators, losses, data sets, loggers) that users
then pick by name, exactly like the built-ins, which are plugins themselves.
For example, a package adding a loss::

    # pyproject.toml
    [project.entry-points.ganframe]
    tutorial = "ganframe_tutorial"

    # ganframe_tutorial/__init__.py
    from ganframe import hookimpl


    @hookimpl
    def register_losses(register):
        register("rsgan", "ganframe_tutorial.components:RelativisticLoss", help="relativistic standard GAN loss")

after which ``ganframe run --loss rsgan`` trains with it and ``ganframe plugins``
lists it.

The hooks, by phase (their specs, with every argument, are in
:mod:`ganframe.plugin.spec`):

- **When plugins load**, once per process, each given a ``register`` callable:
  ``register_generators``, ``register_discriminators`` (a pair under one name
  is a *model*, ``--model NAME``), ``register_losses``, ``register_datasets``,
  ``register_loggers`` (enabled per run with ``--logger NAME``).
- **During a run**, in this order, each given the run's ``state``:
  ``on_train_start``; then ``on_step_end`` after every step, ``on_metrics``
  whenever figures are read, ``on_epoch_end`` after each epoch; and
  ``on_train_end`` once when training stops.

What to import: only from ``ganframe`` (``hookimpl``, the specs factories
receive, ``GANLoss`` and ``LossInputs``, ``InMemoryDataset``, ``RunState``,
the reusable layers, ``Conditioned`` and the error types; the full list is
``ganframe.__all__``) and, in a plugin's tests, from ``ganframe.testing``
(``check_model``, ``check_loss``, ``check_dataset``, ``check_plugin``,
``check_training``, ...). Everything else under ``ganframe`` may change
between releases.

The guide, ``docs/writing-plugins.md``, goes from an empty folder to an
installed, tested plugin and states each component's contract;
``plugins/ganframe-dcgan`` is a complete example package.

The rest of this package is ganframe's side of the contract: ``spec`` (the
hook specifications), ``specs`` (what factories receive), ``registry`` (the
components registered), ``manager`` (finding and loading plugins) and
``checks`` (hook functions pluggy would silently ignore: misspelled or unmarked).
"""
