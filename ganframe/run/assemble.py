"""From a config and the registry to built, checked components.

Everything a user can get wrong is checked here, before a run directory is
created: unknown or ambiguous names, a conditional model on a data set
without labels, unknown component options, an unavailable device, and
networks that break the plugin contract (wrong output shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganframe.config import RunConfig, option_name, resolve, setting
from ganframe.train.data import sample_shape_of
from ganframe.train.precision import resolve_precision
from ganframe.run.data_root import resolve_data_root
from ganframe.errors import PluginContractError, UsageError
from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.registry import Component, Registry
from ganframe.plugin.specs import DatasetSpec, LossSpec, ModelSpec, Options


@dataclass
class Components:
    generator: Component
    discriminator: Component
    loss: Component
    dataset: Component

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


def _network(registry: Registry, kind: str, name: str | None, model: str) -> Component:
    if name is not None:
        return registry.get(kind, name, option=option_name(kind))
    found = registry.find(kind, model, option=option_name("model"))
    if found is None:
        other = "discriminator" if kind == "generator" else "generator"
        half = registry.find(other, model, option=option_name("model"))
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


def resolve_components(config: RunConfig, registry: Registry) -> Components:
    """Look up every named component; unknown names raise with a suggestion. Without ``--loss``
    the loss is the data set's or the generator's default (``defaults={"loss": ...}``), else ``bce``."""
    generator = _network(registry, "generator", config.generator, config.model)
    dataset = registry.get("dataset", config.dataset, option="--dataset")
    return Components(
        generator=generator,
        discriminator=_network(registry, "discriminator", config.discriminator, config.model),
        loss=registry.get("loss", setting(config, "loss", run_defaults(generator, dataset)), option=option_name("loss")),
        dataset=dataset,
    )


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
            fake = Conditioned(generator, g.conditional)(noise, labels)
            if tuple(fake.shape) != (n, *spec.sample_shape):
                raise PluginContractError(
                    f"Generator '{g.qualified_name}' returned shape {tuple(fake.shape)} for {n} samples; "
                    f"expected {(n, *spec.sample_shape)} (N x the data set's sample shape)."
                )
            d = components.discriminator
            logits = Conditioned(discriminator, d.conditional)(fake, labels)
            if logits.numel() != n:
                raise PluginContractError(
                    f"Discriminator '{d.qualified_name}' returned shape {tuple(logits.shape)} for {n} samples; "
                    f"expected one logit per sample: ({n},) or ({n}, 1)."
                )
    finally:
        generator.train(modes[0])
        discriminator.train(modes[1])


def build_loss(component: Component, config: RunConfig):
    """The loss object and the options it used."""
    options = Options(config.loss_options, owner=f"loss '{component.name}'")
    loss = component.load()(LossSpec(options=options))
    options.check_all_read()
    for method in ("discriminator_loss", "generator_loss"):
        if not callable(getattr(loss, method, None)):
            raise PluginContractError(f"Loss '{component.qualified_name}' has no {method}(inputs) method.")
    return loss, options.effective()


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
    defaults = run_defaults(components.generator, components.dataset)
    config = resolve(config, defaults, str(resolve_data_root(config.data_root)))
    device = resolve_device(config.device)
    config.precision = resolve_precision(config.precision, device)  # recorded as bf16 / fp32, never auto
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
    return Setup(config, components, dataset, spec, generator, discriminator, loss, device)
