"""Checks for loss factories: both phases exactly as the engine runs them.

A tiny generator and discriminator stand in for real networks. The
discriminator phase hands the loss fakes made under ``no_grad`` (no gradient
may reach G); the generator phase freezes D's weights (no gradient may reach
them), and ``real_logits`` is ``None``. Each loss must be a finite 0-dim
tensor, and both are minimised: D's loss must fall as D scores real samples
higher and fakes lower, G's as D scores fakes higher (a flipped sign is the
most common loss bug, and training "works" with it, badly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod
from typing import Any

import torch
from torch import nn

from ganframe.nn.conditioning import Conditioned
from ganframe.nn.losses import LossInputs
from ganframe.plugin.specs import LossSpec
from ganframe.testing._common import (
    DEVICE_HINT,
    attempt,
    build,
    check_gradients,
    clear_gradients,
    default_devices,
    expect_tensor,
    fail,
    moved,
    options_for,
    resolve,
    without_label,
)

LATENT = 4


class TinyNetwork(nn.Module):
    """A two-layer network, conditional by a label embedding; stands in for G or D."""

    def __init__(self, in_size: int, out_size: int, num_classes: int, out_shape: Sequence[int], tanh: bool):
        super().__init__()
        self.embedding = nn.Embedding(num_classes, 3) if num_classes else None
        self.net = nn.Sequential(
            nn.Linear(in_size + (3 if num_classes else 0), 16),
            nn.LeakyReLU(0.2),
            nn.Linear(16, out_size),
            *([nn.Tanh()] if tanh else []),
        )
        self.out_shape = tuple(out_shape)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = x.flatten(1)
        if self.embedding is not None:
            x = torch.cat([x, self.embedding(labels)], dim=1)
        return self.net(x).reshape(len(x), *self.out_shape)


class LossPhases:
    """The two phases of one training step around a loss object, on one device."""

    def __init__(
        self,
        label: str,
        loss: Any,
        generator: TinyNetwork,
        discriminator: TinyNetwork,
        num_classes: int,
        batch_size: int,
        sample_shape: Sequence[int],
        device: str = "cpu",
    ):
        self.label, self.loss, self.g, self.d = label, loss, generator, discriminator
        self.num_classes, self.n, self.device = num_classes, batch_size, device
        # both take labels when the run is labelled
        self.g_call, self.d_call = (
            Conditioned(generator, bool(num_classes)),
            Conditioned(discriminator, bool(num_classes)),
        )
        self.real = torch.rand(batch_size, *sample_shape, device=device) * 2 - 1
        self.real_labels = self.labels()

    def labels(self) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(0, self.num_classes, (self.n,), device=self.device)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        logits = self.d_call(x, labels)
        return logits.reshape(logits.shape[0]).float()

    def generate(self, labels: torch.Tensor | None) -> torch.Tensor:
        noise = torch.randn(self.n, LATENT, device=self.device)
        return self.g_call(noise, labels)

    def discriminator_inputs(self, real_logits=None, fake_logits=None) -> LossInputs:
        fake_labels = self.labels()
        with torch.no_grad():
            fake = self.generate(fake_labels)
        real_logits = self.discriminate(self.real, self.real_labels) if real_logits is None else real_logits
        fake_logits = self.discriminate(fake, fake_labels) if fake_logits is None else fake_logits
        return LossInputs(
            "discriminator", real_logits, fake_logits, self.real, fake, self.real_labels, fake_labels, self.discriminate
        )

    def generator_inputs(self, fake_logits=None) -> LossInputs:
        fake_labels = self.labels()
        fake = self.generate(fake_labels)
        fake_logits = self.discriminate(fake, fake_labels) if fake_logits is None else fake_logits
        return LossInputs(
            "generator", None, fake_logits, self.real, fake, self.real_labels, fake_labels, self.discriminate
        )

    def value(self, method: str, inputs: LossInputs) -> torch.Tensor:
        hint = (
            (
                "(inputs.real_logits is None in the generator phase; a loss that needs D's view of the real "
                "batch calls inputs.discriminator(inputs.real, inputs.real_labels))"
            )
            if inputs.phase == "generator"
            else ""
        )
        loss = attempt(
            self.label,
            f"{method}(inputs) in the {inputs.phase} phase",
            lambda: getattr(self.loss, method)(inputs),
            hint,
        )
        loss = expect_tensor(self.label, loss, f"{method}() in the {inputs.phase} phase")
        if loss.dim() != 0:
            fail(
                self.label,
                f"{method}() returned shape {tuple(loss.shape)}; it must return a 0-dim tensor (reduce with .mean()).",
            )
        if not loss.requires_grad:
            fail(self.label, f"{method}() returned a tensor without a gradient graph (detached?).")
        return loss

    def discriminator_step(self) -> torch.Tensor:
        clear_gradients(self.g, self.d)
        loss = self.value("discriminator_loss", self.discriminator_inputs())
        attempt(self.label, "backward() of discriminator_loss", loss.backward)
        return loss

    def generator_step(self) -> torch.Tensor:
        clear_gradients(self.g, self.d)
        self.d.requires_grad_(False)
        try:
            loss = self.value("generator_loss", self.generator_inputs())
            attempt(self.label, "backward() of generator_loss (real_logits is None in this phase)", loss.backward)
        finally:
            self.d.requires_grad_(True)
        return loss


def _no_gradient(label: str, module: nn.Module, network: str, phase: str) -> None:
    if any(p.grad is not None for p in module.parameters()):
        fail(
            label,
            f"the {phase} loss sent gradients into the {network}; in the {phase} phase only the "
            f"{'discriminator' if network == 'generator' else 'generator'} may learn.",
        )


def _slopes(loss: torch.Tensor, *logits: torch.Tensor) -> list[float]:
    grads = torch.autograd.grad(loss, logits, allow_unused=True, retain_graph=True)
    return [0.0 if g is None else g.sum().item() for g in grads]


def _check_signs(phases: LossPhases, tolerance: float = 1e-6) -> None:
    label = phases.label
    n = phases.n
    real_logits = torch.zeros(n, requires_grad=True)
    fake_logits = torch.zeros(n, requires_grad=True)
    loss = phases.value("discriminator_loss", phases.discriminator_inputs(real_logits, fake_logits))
    real_slope, fake_slope = _slopes(loss, real_logits, fake_logits)
    if real_slope > tolerance or fake_slope < -tolerance or (real_slope > -tolerance and fake_slope < tolerance):
        fail(
            label,
            "discriminator_loss must fall as D scores real samples higher and fakes lower (ganframe "
            f"minimises it); at logits 0 its slope is {real_slope:+.3g} for real and {fake_slope:+.3g} "
            "for fake logits. Is a sign flipped? (check_signs=False skips this check.)",
        )
    fake_logits = torch.zeros(n, requires_grad=True)
    loss = phases.value("generator_loss", phases.generator_inputs(fake_logits))
    (slope,) = _slopes(loss, fake_logits)
    if slope > -tolerance:
        fail(
            label,
            "generator_loss must fall as D scores fakes higher (ganframe minimises it); at logits 0 "
            f"its slope is {slope:+.3g}. Is a sign flipped? (check_signs=False skips this check.)",
        )


def check_loss(
    factory_or_name: Any,
    *,
    options: Mapping[str, Any] | None = None,
    conditional: bool = False,
    num_classes: int = 3,
    sample_shape: Sequence[int] = (1, 4, 4),
    batch_size: int = 8,
    devices: Sequence[str] | None = None,
    check_signs: bool = True,
) -> Any:
    """Check a loss factory (or registered name) in both training phases; returns the loss object.

    ``options`` are ``--loss-option`` values (every one must be read);
    ``conditional`` runs it with labelled batches and label-taking networks.
    """
    factory, _component, label = resolve("loss", factory_or_name)
    loss = build(label, factory, LossSpec(options=options_for(options, label)), "to build")
    for method in ("discriminator_loss", "generator_loss"):
        if not callable(getattr(loss, method, None)):
            fail(label, f"the factory returned a {type(loss).__name__} without a {method}(inputs) method.")
    classes = num_classes if conditional else 0
    size = prod(sample_shape)
    torch.manual_seed(0)

    def networks() -> tuple[TinyNetwork, TinyNetwork]:
        return (
            TinyNetwork(LATENT, size, classes, sample_shape, tanh=True),
            TinyNetwork(size, 1, classes, (1,), tanh=False),
        )

    generator, discriminator = networks()
    phases = LossPhases(label, loss, generator, discriminator, classes, batch_size, sample_shape)
    phases.discriminator_step()
    check_gradients(label, discriminator, "discriminator (from discriminator_loss)")
    _no_gradient(label, generator, "generator", "discriminator")
    phases.generator_step()
    check_gradients(label, generator, "generator (from generator_loss)")
    _no_gradient(label, discriminator, "discriminator", "generator")
    if check_signs:
        _check_signs(phases)
    for device in default_devices() if devices is None else devices:
        g, d = (moved(label, net, device) for net in networks())
        elsewhere = LossPhases(label, loss, g, d, classes, batch_size, sample_shape, device)
        for step in (elsewhere.discriminator_step, elsewhere.generator_step):
            try:
                value = step()
            except AssertionError as exc:
                fail(label, f"fails with networks and batches on '{device}': {without_label(label, exc)} {DEVICE_HINT}")
            if value.device.type != device:
                fail(label, f"with batches on '{device}' the loss is on '{value.device}'. {DEVICE_HINT}")
    return loss
