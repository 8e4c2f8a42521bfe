"""Building pieces of a run directly (without the CLI) for unit tests."""

from __future__ import annotations

import torch
from torch import nn

from ganframe.config import RunConfig, resolve
from ganframe.plugin.specs import ModelSpec, Options
from ganframe.run.assemble import Components, build_loss, build_networks
from ganframe.train.engine import make_optimizer
from ganframe.train.step import StepLevers, TrainStep


def build_model(registry, model: str, sample_shape=(1, 28, 28), num_classes: int = 10, latent_dim: int | None = None):
    """(G, D, spec, components) for a registered model sized for ``sample_shape``."""
    g = registry.get("generator", model)
    d = registry.get("discriminator", model)
    latent_dim = latent_dim or g.defaults.get("latent_dim", 100)
    components = Components(g, d, registry.get("loss", "bce"), registry.get("dataset", "ring"))
    spec = ModelSpec(tuple(sample_shape), num_classes, latent_dim, components.conditional, Options())
    generator, discriminator = build_networks(components, spec)
    return generator, discriminator, spec, components


def build_step(
    registry,
    model: str = "mlp",
    loss: str = "bce",
    sample_shape=(1, 28, 28),
    num_classes: int = 10,
    levers: StepLevers = StepLevers(),
    **config_kwargs,
):
    """A TrainStep over freshly built networks, plus its parts."""
    generator, discriminator, spec, components = build_model(registry, model, sample_shape, num_classes)
    config = resolve(RunConfig(model=model, loss=loss, seed=0, **config_kwargs), components.generator.defaults)
    loss_obj, _ = build_loss(registry.get("loss", loss), config)
    step = TrainStep(
        generator,
        discriminator,
        loss_obj,
        make_optimizer(generator.parameters(), config, torch.device("cpu")),
        make_optimizer(discriminator.parameters(), config, torch.device("cpu")),
        latent_dim=spec.latent_dim,
        num_classes=num_classes,
        g_conditional=components.generator.conditional,
        d_conditional=components.discriminator.conditional,
        levers=levers,
    )
    return step


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: nn.Module) -> set[str]:
    return {name for name, p in module.named_parameters() if not torch.equal(before[name], p.detach())}


def linear_shapes(module: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def said(result) -> str:
    """A CLI result's output with line wrapping undone (error paragraphs are wrapped for the terminal)."""
    return " ".join(result.output.split())
