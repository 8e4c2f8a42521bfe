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

from ganframe.config import RunConfig, resolve, setting
from ganframe.train.data import sample_shape_of
from ganframe.run.data_root import resolve_data_root
from ganframe.errors import PluginContractError, UsageError
from ganframe.plugin.registry import Component, Registry
from ganframe.plugin.specs import AugmentationSpec, DatasetSpec, LossSpec, ModelSpec, Options, RegularizerSpec, StepSpec
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
        """Run settings the components recommend: the loss's win over the model's, which win over
        the data set's (an explicit option wins over all)."""
        return {**self.dataset.defaults, **self.generator.defaults, **self.loss.defaults}

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


def _network(registry: Registry, kind: str, name: str | None, model: str) -> Component:
    if name is not None:
        return registry.get(kind, name, option=f"--{kind}")
    found = registry.find(kind, model, option="--model")
    if found is None:
        other = "discriminator" if kind == "generator" else "generator"
        half = registry.find(other, model, option="--model")
        if half is not None:  # a plugin registered only one half of the model
            raise UsageError(
                f"Model '{model}' has a {other} (from {half.distribution or half.plugin}) but no {kind} "
                f"registered under that name, and a model needs both. Choose a {kind} with --{kind} NAME, "
                f"or use one of the complete models: {', '.join(registry.model_names())}."
            )
        raise Registry.unknown("model", model, registry.model_names(), option="--model")
    return found


def resolve_components(config: RunConfig, registry: Registry) -> Components:
    """Look up every named component; unknown names raise with a suggestion. Without ``--loss``
    the loss is the generator's default (``defaults={"loss": ...}``), else the data set's, else ``bce``;
    without ``--step`` the step is the loss's, the model's or the data set's default, else ``two-phase``."""
    generator = _network(registry, "generator", config.generator, config.model)
    dataset = registry.get("dataset", config.dataset, option="--dataset")
    loss = registry.get("loss", setting(config, "loss", {**dataset.defaults, **generator.defaults}), option="--loss")
    components = Components(
        generator=generator,
        discriminator=_network(registry, "discriminator", config.discriminator, config.model),
        loss=loss,
        dataset=dataset,
        regularizers=[registry.get("regularizer", name, option="--regularizer") for name in config.regularizers],
        augmentation=registry.get("augmentation", config.augment, option="--augment") if config.augment else None,
    )
    components.step = registry.get("step", setting(config, "step", components.defaults), option="--step")
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
    dataset = component.load()(spec)
    options.check_all_read()
    return dataset, options.effective()


def build_networks(components: Components, spec: ModelSpec) -> tuple[nn.Module, nn.Module]:
    """Build G and D from one spec; both read the same ``--model-option`` values."""
    g_spec = ModelSpec(spec.sample_shape, spec.num_classes, spec.latent_dim, components.generator.conditional, spec.options)
    d_spec = ModelSpec(spec.sample_shape, spec.num_classes, spec.latent_dim, components.discriminator.conditional, spec.options)
    generator = components.generator.load()(g_spec)
    discriminator = components.discriminator.load()(d_spec)
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
            fake = generator(noise, labels) if g.conditional else generator(noise)
            if tuple(fake.shape) != (n, *spec.sample_shape):
                raise PluginContractError(
                    f"Generator '{g.qualified_name}' returned shape {tuple(fake.shape)} for {n} samples; "
                    f"expected {(n, *spec.sample_shape)} (N x the data set's sample shape)."
                )
            d = components.discriminator
            output = discriminator(fake, labels) if d.conditional else discriminator(fake)
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
    loss = component.load()(LossSpec(options=options))
    options.check_all_read()
    for method in ("discriminator_loss", "generator_loss"):
        if not callable(getattr(loss, method, None)):
            raise PluginContractError(f"Loss '{component.qualified_name}' has no {method}(inputs) method.")
    return loss, options.effective()


def build_step_phases(component: Component, config: RunConfig) -> tuple[tuple[Phase, ...], dict[str, Any]]:
    """The step's phases and the options it used."""
    options = Options(config.step_options, owner=f"step '{component.name}'")
    phases = component.load()(StepSpec(options=options))
    options.check_all_read()
    return tuple(check_phases(phases, f"Step '{component.qualified_name}'")), options.effective()


def build_regularizations(components: list[Component], config: RunConfig):
    """The regularisers (as the step uses them) and the options each used, by name as given."""
    built, effective = [], {}
    for name, component in zip(config.regularizers, components):
        options = Options(config.regularizer_options.get(name, {}), owner=f"regularizer '{component.name}'")
        regularizer = component.load()(RegularizerSpec(options=options))
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
    augment = component.load()(AugmentationSpec(sample_shape=tuple(sample_shape), options=options))
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


def build_setup(config: RunConfig, registry: Registry) -> Setup:
    """Resolve, load and build everything for a run, raising on any user mistake."""
    components = resolve_components(config, registry)
    config = resolve(config, components.defaults, str(resolve_data_root(config.data_root)))
    unknown = sorted(set(config.regularizer_options) - set(config.regularizers))
    if unknown:
        raise UsageError(
            f"--regularizer-option names '{unknown[0]}', which is not given with --regularizer "
            f"({', '.join(config.regularizers) or 'none given'}); add --regularizer {unknown[0]}."
        )
    phases, config.step_options = build_step_phases(components.step, config)
    regularizations, config.regularizer_options = build_regularizations(components.regularizers, config)
    device = resolve_device(config.device)
    if config.cuda_graph and device.type != "cuda":
        raise UsageError(f"--cuda-graph needs a CUDA device, but this run uses {device}; leave it out or use --device cuda.")
    torch.manual_seed(config.seed)  # initial weights are part of what --seed repeats
    loss, config.loss_options = build_loss(components.loss, config)
    dataset, config.dataset_options = load_dataset(components.dataset, config)
    num_classes = check_labels(components, dataset, config.dataset)
    model_options = Options(config.model_options, owner=f"model '{config.model}'")
    spec = ModelSpec(sample_shape_of(dataset), num_classes, config.latent_dim, components.conditional, model_options)
    # initial weights are a function of the seed alone, not of whatever ran earlier in this process
    # (several runs in one process, the ranks of a distributed run, a run and its restart)
    torch.manual_seed(config.seed)
    generator, discriminator = build_networks(components, spec)
    config.model_options = model_options.effective()
    generator, discriminator = generator.to(device), discriminator.to(device)
    check_networks(components, spec, generator, discriminator)
    augment, config.augment_options = build_augmentation(components.augmentation, config, spec.sample_shape)
    return Setup(config, components, dataset, spec, generator, discriminator, loss, device,
                 phases, regularizations, augment)
