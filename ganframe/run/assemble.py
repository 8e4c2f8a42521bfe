"""From a config and the registry to built, checked components.

Everything a user can get wrong is checked here, before a run directory is
created: unknown or ambiguous names, a conditional model on a data set
without labels, unknown component options, an unavailable device, and
networks that break the plugin contract (wrong output shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganframe.config import RunConfig, option_name, resolve, setting
from ganframe.errors import GanframeError, PluginContractError, UsageError
from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.registry import Component, Registry
from ganframe.plugin.specs import AugmentationSpec, DatasetSpec, LossSpec, ModelSpec, Options, RegularizerSpec, StepSpec
from ganframe.run.data_root import resolve_data_root
from ganframe.train.data import sample_shape_of
from ganframe.train.precision import resolve_precision
from ganframe.train.schedule import TWO_PHASE, Phase, Regularization, check_phases


@dataclass
class Components:
    generator: Component
    discriminator: Component
    loss: Component
    dataset: Component
    step: Component | None = None
    regularizers: list[Component] = field(default_factory=list)
    augmentation: Component | None = None

    @property
    def defaults(self) -> dict[str, Any]:
        """Run settings the components recommend: the loss's win over the data set's, which win over
        the model's (:func:`run_defaults`: a data set knows its own scale); an explicit option wins over all."""
        return {**run_defaults(self.generator, self.dataset), **self.loss.defaults}

    @property
    def conditional(self) -> bool:
        return self.generator.conditional or self.discriminator.conditional

    def names(self) -> dict[str, str]:
        return {
            "generator": self.generator.qualified_name,
            "discriminator": self.discriminator.qualified_name,
            "loss": self.loss.qualified_name,
            "dataset": self.dataset.qualified_name,
        }


@dataclass
class Setup:
    """Everything the engine needs, built and on its device."""

    config: RunConfig
    components: Components
    dataset: Any
    model_spec: ModelSpec
    generator: nn.Module
    discriminator: nn.Module
    loss: Any
    device: torch.device
    #: the training step's schedule, the regularisers and the augmentation of D's inputs
    phases: tuple[Phase, ...] = TWO_PHASE
    regularizations: tuple[Regularization, ...] = ()
    augment: Any = None


#: the distribution of ganframe's built-in components: what a default name means when it is ambiguous
BUILTIN_DISTRIBUTION = "ganframe"


def _network(registry: Registry, kind: str, name: str | None, model: str, model_typed: bool = True) -> Component:
    if name is not None:
        return registry.get(kind, name, option=option_name(kind))
    by_default = (
        {} if model_typed else {"prefer": (BUILTIN_DISTRIBUTION,), "source": f"the default of --model, {model}"}
    )
    found = registry.find(kind, model, option=option_name("model"), **by_default)
    if found is None:
        other = "discriminator" if kind == "generator" else "generator"
        half = registry.find(other, model, option=option_name("model"), **by_default)
        if half is not None:  # a plugin registered only one half of the model
            raise UsageError(
                f"Model '{model}' has a {other} (from {half.distribution or half.plugin}) but no {kind} "
                f"registered under that name, and a model needs both. Choose a {kind} with --{kind} NAME, "
                f"or use one of the complete models: {', '.join(registry.model_names())}."
            )
        raise Registry.unknown("model", model, registry.model_names(), option=option_name("model"))
    return found


def run_defaults(generator: Component, dataset: Component) -> dict[str, Any]:
    """The settings recommended for this run: the generator's ``defaults``, overridden by the data
    set's (a data set knows its own scale: ``ring``'s 2-D points want another learning rate than
    the 784 pixels the generator's defaults were measured on). Explicit options beat both."""
    return {**generator.defaults, **dataset.defaults}


def resolve_components(config: RunConfig, registry: Registry, typed: set[str] | None = None) -> Components:
    """Look up every named component; unknown names raise with a suggestion. Without ``--loss``
    the loss is the data set's or the generator's default (``defaults={"loss": ...}``), else ``bce``;
    without ``--step`` the step is the loss's, the data set's or the model's default, else ``two-phase``.

    ``typed`` names the RunConfig fields the user typed (``None``: treat every name given as typed).
    Only a typed name may be ambiguous; a default one that several distributions register
    resolves to the model's own distribution's component, else ganframe's built-in."""

    def was_typed(name: str) -> bool:
        return typed is None or name in typed

    model_typed = was_typed("model")
    dataset_default = (
        {}
        if was_typed("dataset")
        else {"prefer": (BUILTIN_DISTRIBUTION,), "source": f"the default of --dataset, {config.dataset}"}
    )
    dataset = registry.get("dataset", config.dataset, option=option_name("dataset"), **dataset_default)
    generator = _network(registry, "generator", config.generator, config.model, model_typed)
    if config.loss is not None and was_typed("loss"):
        loss = registry.get("loss", config.loss, option=option_name("loss"))
    else:
        source = (
            f"the default loss of model '{generator.qualified_name}', from its registered defaults"
            if "loss" in generator.defaults and config.loss is None
            else "the loss the run was started with"
            if config.loss is not None
            else "ganframe's default loss"
        )
        loss = registry.get(
            "loss",
            setting(config, "loss", run_defaults(generator, dataset)),
            option=option_name("loss"),
            prefer=(generator.distribution, BUILTIN_DISTRIBUTION),
            source=source,
        )
    components = Components(
        generator=generator,
        discriminator=_network(registry, "discriminator", config.discriminator, config.model, model_typed),
        loss=loss,
        dataset=dataset,
        regularizers=[
            registry.get("regularizer", name, option=option_name("regularizers")) for name in config.regularizers
        ],
        augmentation=registry.get("augmentation", config.augment, option=option_name("augment"))
        if config.augment
        else None,
    )
    components.step = registry.get("step", setting(config, "step", components.defaults), option=option_name("step"))
    return components


def resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            "--device cuda was asked for, but this PyTorch sees no CUDA GPU "
            f"(torch {torch.__version__}); use --device cpu or --device auto."
        )
    return torch.device(requested)


def load_dataset(component: Component, config: RunConfig, *, train: bool = True):
    """The data set and the options it used."""
    options = Options(config.dataset_options, owner=f"dataset '{component.name}'")
    spec = DatasetSpec(root=resolve_data_root(config.data_root), train=train, options=options)
    dataset = component.build(spec)
    options.check_all_read()
    return dataset, options.effective()


def build_networks(components: Components, spec: ModelSpec) -> tuple[nn.Module, nn.Module]:
    """Build G and D from one spec; both read the same ``--model-option`` values."""
    g_spec = ModelSpec(
        spec.sample_shape, spec.num_classes, spec.latent_dim, components.generator.conditional, spec.options
    )
    d_spec = ModelSpec(
        spec.sample_shape, spec.num_classes, spec.latent_dim, components.discriminator.conditional, spec.options
    )
    generator = components.generator.build(g_spec)
    discriminator = components.discriminator.build(d_spec)
    spec.options.check_all_read()
    for kind, net in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(net, nn.Module):
            component = getattr(components, kind)
            raise PluginContractError(
                f"The {kind} factory of '{component.qualified_name}' returned {type(net).__name__}, "
                "not a torch.nn.Module."
            )
    return generator, discriminator


def check_networks(components: Components, spec: ModelSpec, generator: nn.Module, discriminator: nn.Module) -> None:
    """Run both networks once on a tiny batch and check the shapes the engine relies on."""
    n = 2
    device = next(generator.parameters(), torch.empty(0)).device
    noise = torch.randn(n, spec.latent_dim, device=device)
    labels = torch.zeros(n, dtype=torch.long, device=device)
    modes = (generator.training, discriminator.training)
    generator.eval()
    discriminator.eval()
    try:
        with torch.no_grad():
            g = components.generator
            fake = Conditioned(generator, g.conditional)(noise, labels)
            if tuple(fake.shape) != (n, *spec.sample_shape):
                raise PluginContractError(
                    f"Generator '{g.qualified_name}' returned shape {tuple(fake.shape)} for {n} samples; "
                    f"expected {(n, *spec.sample_shape)} (N x the data set's sample shape)."
                )
            d = components.discriminator
            output = Conditioned(discriminator, d.conditional)(fake, labels)
            logits = _logits_of(output, d.qualified_name)
            if logits.numel() != n:
                raise PluginContractError(
                    f"Discriminator '{d.qualified_name}' returned logits of shape {tuple(logits.shape)} for {n} "
                    f"samples; expected one logit per sample: ({n},) or ({n}, 1)."
                )
    finally:
        generator.train(modes[0])
        discriminator.train(modes[1])


def _logits_of(output: Any, name: str) -> torch.Tensor:
    """The logits tensor of a discriminator's output, before reshaping (see split_discriminator_output)."""
    if isinstance(output, dict):
        output = output.get("logits")
    elif isinstance(output, (tuple, list)) and len(output) == 2 and isinstance(output[1], dict):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise PluginContractError(
            f"Discriminator '{name}' returned {type(output).__name__}; it must return logits (a tensor of shape "
            "(N,) or (N, 1)), a tuple (logits, dict of extra outputs), or a dict with the key 'logits'."
        )
    return output


def build_loss(component: Component, config: RunConfig):
    """The loss object and the options it used."""
    options = Options(config.loss_options, owner=f"loss '{component.name}'")
    loss = component.build(LossSpec(options=options))
    options.check_all_read()
    for method in ("discriminator_loss", "generator_loss"):
        if not callable(getattr(loss, method, None)):
            raise PluginContractError(f"Loss '{component.qualified_name}' has no {method}(inputs) method.")
    return loss, options.effective()


def check_loss_runs(components: Components, loss: Any, num_classes: int, sample_shape: tuple[int, ...]) -> None:
    """Both phases of one step through the loss, on the plugin test kit's tiny networks (conditional
    when the model is), so a loss that mishandles labels fails now with the kit's message instead
    of with a raw TypeError mid-run. It runs on a copy of the loss (a loss may count its calls), and
    training's random numbers are left as they were; a loss that cannot be copied is not checked."""
    import copy

    from ganframe.plugin.failures import origin, plugin_line
    from ganframe.testing.loss_checks import LATENT, LossPhases, TinyNetwork, attempt, without_label

    component = components.loss
    classes = num_classes if components.conditional else 0
    size = int(torch.Size(sample_shape).numel())
    label = f"loss '{component.qualified_name}'"
    try:
        loss = copy.deepcopy(loss)
    except Exception:
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        generator = TinyNetwork(LATENT, size, classes, sample_shape, tanh=True)
        discriminator = TinyNetwork(size, 1, classes, (1,), tanh=False)
        phases = LossPhases(label, loss, generator, discriminator, classes, 2, sample_shape)
        try:  # only exceptions count here: the engine checks what the loss returns (ganframe.train.step)
            for method, inputs in (
                ("discriminator_loss", phases.discriminator_inputs),
                ("generator_loss", phases.generator_inputs),
            ):
                batch = inputs()
                attempt(
                    label,
                    f"{method}(inputs) in the {batch.phase} phase",
                    lambda method=method, batch=batch: getattr(loss, method)(batch),
                )
        except AssertionError as exc:
            cause = exc.__context__
            if isinstance(cause, GanframeError):  # the loss refuses the kit's plain networks on purpose
                return  # (ACGAN's needs D's class head): the real networks tell at the first step
            line = plugin_line(cause, type(loss)) if cause is not None else None
            where = f" (at {line[0]}:{line[1]})" if line else ""
            hint = (
                (
                    " The model is conditional: a loss that calls the discriminator itself must pass the labels, "
                    "inputs.discriminator(x, inputs.real_labels or inputs.fake_labels)."
                )
                if classes
                else ""
            )
            raise PluginContractError(
                f"The {label} of {origin(component.plugin, component.distribution, component.version)} fails on "
                f"{'labelled' if classes else 'unlabelled'} batches: {without_label(label, exc).rstrip('.')}{where}."
                f"{hint} ganframe runs every loss once on tiny networks before training, as "
                f"ganframe.testing.check_loss(..., conditional={bool(classes)}) does; nothing was written."
            ) from exc


def build_step_phases(component: Component, config: RunConfig) -> tuple[tuple[Phase, ...], dict[str, Any]]:
    """The step's phases and the options it used."""
    options = Options(config.step_options, owner=f"step '{component.name}'")
    phases = component.build(StepSpec(options=options))
    options.check_all_read()
    return tuple(check_phases(phases, f"Step '{component.qualified_name}'")), options.effective()


def build_regularizations(components: list[Component], config: RunConfig):
    """The regularisers (as the step uses them) and the options each used, by name as given."""
    built, effective = [], {}
    for name, component in zip(config.regularizers, components):
        options = Options(config.regularizer_options.get(name, {}), owner=f"regularizer '{component.name}'")
        regularizer = component.build(RegularizerSpec(options=options))
        options.check_all_read()
        built.append(Regularization.of(component.qualified_name, regularizer))
        effective[name] = options.effective()
    return tuple(built), effective


def build_augmentation(component: Component | None, config: RunConfig, sample_shape: tuple[int, ...]):
    """The augmentation callable (or None) and the options it used."""
    if component is None:
        if config.augment_options:
            raise UsageError("--augment-option was given without --augment NAME; name the augmentation it is for.")
        return None, {}
    options = Options(config.augment_options, owner=f"augmentation '{component.name}'")
    augment = component.build(AugmentationSpec(sample_shape=tuple(sample_shape), options=options))
    options.check_all_read()
    if not callable(augment):
        raise PluginContractError(
            f"Augmentation '{component.qualified_name}' returned {type(augment).__name__}; it must return a callable "
            "augment(x) -> tensor of x's shape."
        )
    return augment, options.effective()


def check_labels(components: Components, dataset: Any, dataset_name: str) -> int:
    """Number of classes; a conditional model on an unlabelled data set is a UsageError."""
    num_classes = int(getattr(dataset, "num_classes", 0) or 0)
    if components.conditional and num_classes <= 0:
        model = components.generator if components.generator.conditional else components.discriminator
        raise UsageError(
            f"Model '{model.name}' is conditional (it needs class labels), but dataset '{dataset_name}' "
            "has no labels; pick a labelled data set such as 'mnist', or an unconditional model such as 'mlp'."
        )
    return num_classes


def build_setup(config: RunConfig, registry: Registry, typed: set[str] | None = None) -> Setup:
    """Resolve, load and build everything for a run, raising on any user mistake. ``typed``: the
    fields the user typed (see :func:`resolve_components`). The config keeps the component options
    as given: a factory's own defaults are not recorded as if the user had chosen them (they would
    be passed back on resume and to the held-out split, whose defaults may differ)."""
    components = resolve_components(config, registry, typed)
    config = resolve(config, components.defaults, str(resolve_data_root(config.data_root)))
    phases, config.step_options = build_step_phases(components.step, config)
    regularizations, config.regularizer_options = build_regularizations(components.regularizers, config)
    device = resolve_device(config.device)
    config.precision = resolve_precision(config.precision, device)  # recorded as bf16 / fp32, never auto
    if config.cuda_graph and device.type != "cuda":
        raise UsageError(
            f"--cuda-graph needs a CUDA device, but this run uses {device}; leave it out or use --device cuda."
        )
    torch.manual_seed(config.seed)  # initial weights are part of what --seed repeats
    loss, _ = build_loss(components.loss, config)
    dataset, _ = load_dataset(components.dataset, config)
    num_classes = check_labels(components, dataset, config.dataset)
    check_loss_runs(components, loss, num_classes, sample_shape_of(dataset))
    model_options = Options(config.model_options, owner=f"model '{config.model}'")
    spec = ModelSpec(sample_shape_of(dataset), num_classes, config.latent_dim, components.conditional, model_options)
    # initial weights are a function of the seed alone, not of whatever ran earlier in this process
    # (several runs in one process, the ranks of a distributed run, a run and its restart)
    torch.manual_seed(config.seed)
    generator, discriminator = build_networks(components, spec)
    generator, discriminator = generator.to(device), discriminator.to(device)
    check_networks(components, spec, generator, discriminator)
    augment, config.augment_options = build_augmentation(components.augmentation, config, spec.sample_shape)
    return Setup(
        config, components, dataset, spec, generator, discriminator, loss, device, phases, regularizations, augment
    )
