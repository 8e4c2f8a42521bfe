"""Checks for training steps, regularisers and augmentations, run through ganframe's own step.

Each check builds the component the way ``ganframe run`` does and trains a
tiny MLP GAN a few steps with it through :class:`ganframe.train.step.TrainStep`
(the code a run uses), so what passes here runs in a real run: the schedule
updates both networks, a regulariser's penalty is a finite scalar that sends
gradients into the network it regularises (lazily when it says so), and an
augmentation keeps the shape, is differentiable and is applied to what D sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod
from typing import Any

import torch
from torch import nn

from ganframe.nn.losses import bce_with_target
from ganframe.plugin.specs import AugmentationSpec, RegularizerSpec, StepSpec
from ganframe.testing._common import attempt, build, expect_tensor, fail, options_for, resolve
from ganframe.train.schedule import Phase, Regularization, check_phases
from ganframe.train.step import TrainStep

LATENT = 4


class _BCE:
    def discriminator_loss(self, inputs):
        return (bce_with_target(inputs.real_logits, 1.0) + bce_with_target(inputs.fake_logits, 0.0)) / 2

    def generator_loss(self, inputs):
        return bce_with_target(inputs.fake_logits, 1.0)


def _tiny_step(sample_shape: Sequence[int], phases=None, regularizations=(), augment=None) -> TrainStep:
    size = prod(sample_shape)
    generator = nn.Sequential(
        nn.Linear(LATENT, 16), nn.ReLU(), nn.Linear(16, size), nn.Tanh(), nn.Unflatten(1, tuple(sample_shape))
    )
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(size, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    kwargs = {"phases": phases} if phases is not None else {}
    return TrainStep(
        generator,
        discriminator,
        _BCE(),
        torch.optim.Adam(generator.parameters(), 1e-3),
        torch.optim.Adam(discriminator.parameters(), 1e-3),
        latent_dim=LATENT,
        regularizations=regularizations,
        augment=augment,
        **kwargs,
    )


def _real(batch_size: int, sample_shape: Sequence[int]) -> torch.Tensor:
    return torch.rand(batch_size, *sample_shape) * 2 - 1


def check_step(
    factory_or_name: Any,
    *,
    options: Mapping[str, Any] | None = None,
    steps: int = 12,
    sample_shape: Sequence[int] = (2,),
    batch_size: int = 8,
) -> list[Phase]:
    """Check a training-step factory (or registered name); returns its phases.

    The factory must return a non-empty list of :class:`ganframe.Phase` that
    updates both networks; ``steps`` steps of a tiny GAN on its schedule must
    give finite metrics and update each network exactly as often as the
    schedule says (counted on the optimizers). ``options`` are
    ``--step-option`` values; every one must be read.
    """
    factory, _component, label = resolve("step", factory_or_name)
    phases = build(label, factory, StepSpec(options=options_for(options, label)), "to build")
    try:
        phases = check_phases(phases, label)
    except Exception as exc:  # PluginContractError
        fail(label, getattr(exc, "message", str(exc)))
    torch.manual_seed(0)
    step = _tiny_step(sample_shape, phases)
    for _ in range(steps):
        metrics = attempt(label, "a training step on its schedule", lambda: step(_real(batch_size, sample_shape), None))
        metrics = expect_tensor(label, metrics, "the step's metrics", (4,))
        if not torch.isfinite(metrics).all():
            fail(label, f"a step gave non-finite metrics {metrics.tolist()}.")
    counters = step.schedule.counters
    expected = {p.name: sum(p.runs_at(i) for i in range(steps)) for p in phases}
    if counters.phases != expected:
        fail(label, f"phase counts {counters.phases} after {steps} steps; its intervals say {expected}.")
    for network, optimizer in (("discriminator", step.d_optimizer), ("generator", step.g_optimizer)):
        updates = counters.networks[network]
        taken = int(next(iter(optimizer.state.values()), {}).get("step", 0)) if optimizer.state else 0
        if taken != updates:
            fail(label, f"the {network}'s optimizer stepped {taken} times for {updates} scheduled updates.")
        if updates == 0:
            fail(label, f"the {network} was never updated in {steps} steps; use steps= larger than its interval.")
    return phases


def check_regularizer(
    factory_or_name: Any,
    *,
    options: Mapping[str, Any] | None = None,
    sample_shape: Sequence[int] = (1, 4, 4),
    batch_size: int = 8,
) -> Any:
    """Check a regulariser factory (or registered name); returns the regulariser.

    It must declare ``network`` and ``interval``; its ``penalty(inputs)``,
    called inside a real step of a tiny GAN, must return a finite 0-dim tensor
    that sends gradients into the network it regularises; and it must be
    applied on every ``interval``-th update of that network only. ``options``
    are ``--regularizer-option`` values for it (``{"gamma": "5"}``).
    """
    factory, component, label = resolve("regularizer", factory_or_name)
    regularizer = build(label, factory, RegularizerSpec(options=options_for(options, label)), "to build")
    try:
        term = Regularization.of(component.qualified_name if component else "regularizer", regularizer)
    except Exception as exc:
        fail(label, getattr(exc, "message", str(exc)))
    seen: list[torch.Tensor] = []
    step = None

    class _Probe:
        network, interval = term.network, term.interval
        real_input_grad, fake_input_grad = term.real_input_grad, term.fake_input_grad

        def penalty(self, inputs):
            value = attempt(label, f"penalty(inputs) in the {inputs.phase} phase", lambda: term.penalty(inputs))
            value = expect_tensor(label, value, "penalty()")
            if value.dim() != 0 or not torch.isfinite(value).all():
                fail(
                    label,
                    f"penalty() must return a finite 0-dim tensor; got shape {tuple(value.shape)}, "
                    f"value {value.detach().flatten()[:3].tolist()}.",
                )
            module = step.discriminator if term.network == "discriminator" else step.generator
            grads = torch.autograd.grad(
                value, [p for p in module.parameters() if p.requires_grad], retain_graph=True, allow_unused=True
            )
            if all(g is None or g.abs().sum() == 0 for g in grads):
                fail(label, f"penalty() sends no gradient into the {term.network} it regularises.")
            seen.append(value.detach())
            return value

    torch.manual_seed(0)
    step = _tiny_step(sample_shape, regularizations=[Regularization.of("probe", _Probe())])
    steps = 2 * term.interval
    for _ in range(steps):
        step(_real(batch_size, sample_shape), None)
    if len(seen) != 2:
        fail(label, f"was applied {len(seen)} times in {steps} updates; with interval {term.interval} it should be 2.")
    return regularizer


def check_augmentation(
    factory_or_name: Any,
    *,
    options: Mapping[str, Any] | None = None,
    sample_shape: Sequence[int] = (3, 16, 16),
    batch_size: int = 8,
) -> Any:
    """Check an augmentation factory (or registered name); returns the augmentation.

    ``augment(x)`` must keep the shape and dtype of a batch, change it (with
    the given ``options``), be differentiable (gradients reach ``x``), and
    train a tiny GAN for a few steps when applied to D's inputs.
    """
    factory, _component, label = resolve("augmentation", factory_or_name)
    spec = AugmentationSpec(sample_shape=tuple(sample_shape), options=options_for(options, label))
    augment = build(label, factory, spec, f"to build for samples of shape {tuple(sample_shape)}")
    if not callable(augment):
        fail(label, f"the factory returned a {type(augment).__name__}, not a callable augment(x).")
    torch.manual_seed(0)
    x = _real(batch_size, sample_shape).requires_grad_(True)
    y = expect_tensor(
        label, attempt(label, "augment(x)", lambda: augment(x)), "augment(x)", (batch_size, *sample_shape)
    )
    if y.dtype != x.dtype:
        fail(label, f"augment(x) changed the dtype from {x.dtype} to {y.dtype}.")
    if torch.equal(y.detach(), x.detach()):
        fail(label, "augment(x) returned its input unchanged.")
    if not y.requires_grad:
        fail(label, "augment(x) is not differentiable: its output has no gradient graph (G must learn through it).")
    attempt(label, "backward() through augment(x)", (y * torch.randn_like(y)).sum().backward)
    if x.grad is None or x.grad.abs().sum() == 0:
        fail(label, "no gradient reaches augment's input, so G cannot learn through the augmented D.")
    with torch.no_grad():
        attempt(label, "augment(x) on a batch of one", lambda: augment(x[:1]))
    step = _tiny_step(sample_shape, augment=augment)
    for _ in range(3):
        metrics = attempt(
            label, "a training step with D's inputs augmented", lambda: step(_real(batch_size, sample_shape), None)
        )
        if not torch.isfinite(metrics).all():
            fail(label, f"a training step with this augmentation gave non-finite metrics {metrics.tolist()}.")
    return augment
