"""Checks for generator and discriminator factories (the contract in ``hookspecs``).

What the engine relies on, one assertion each: the factory returns an
``nn.Module``; G maps ``(N, latent_dim)`` noise (and labels) to
``(N, *sample_shape)`` floats in ``[-1, 1]``; D maps such a batch (and
labels) to one logit per sample; gradients reach every parameter and D's
input; conditional networks use their labels; a network rebuilt from the same
spec accepts the state dict (that is how ``ganframe sample`` and resume
rebuild it); and the network still works after ``.to(device)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.specs import ModelSpec, Options
from ganframe.testing._common import (
    DEVICE_HINT,
    attempt,
    build,
    check_all_read,
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


class _Network:
    """One built network (``module``, else built from the factory) and how to call it (with or without labels)."""

    def __init__(
        self,
        kind: str,
        factory_or_name: Any,
        conditional: bool | None,
        shape: Sequence[int],
        num_classes: int,
        latent_dim: int,
        options: Mapping[str, Any] | None,
        module: nn.Module | None = None,
    ):
        self.kind = kind
        self.last_extra: dict[str, Any] = {}
        self.factory, component, self.label = resolve(kind, factory_or_name)
        if conditional is None:
            conditional = component.conditional if component is not None else False
        self.conditional = bool(conditional)
        if self.conditional and num_classes < 1:
            raise ValueError("a conditional network needs num_classes >= 1")
        # an Options object is shared with the model's other network, as the engine shares --model-option
        # values between G and D: its owner checks afterwards that one of them read each option
        self.shared = options if isinstance(options, Options) else None
        self.options = dict(options or {}) if self.shared is None else None
        self.shape, self.num_classes, self.latent_dim = tuple(shape), num_classes, latent_dim
        self.module = module if module is not None else self.build()

    def spec(self) -> ModelSpec:
        options = self.shared if self.shared is not None else options_for(self.options, self.label)
        return ModelSpec(self.shape, self.num_classes, self.latent_dim, self.conditional, options)

    def build(self) -> nn.Module:
        what = f"sample shape {self.shape}, {self.num_classes} classes, latent {self.latent_dim}"
        module = build(self.label, self.factory, self.spec(), what, check_read=self.shared is None)
        if not isinstance(module, nn.Module):
            fail(self.label, f"returned a {type(module).__name__}; a factory must return a torch.nn.Module.")
        return module

    def labels(self, n: int, device: Any = "cpu") -> torch.Tensor | None:
        return torch.arange(n, device=device) % self.num_classes if self.conditional else None

    def __call__(self, x: torch.Tensor, labels: torch.Tensor | None, module: nn.Module | None = None):
        """The output; for a discriminator, its logits, with any extra outputs kept in ``last_extra``."""
        module = module if module is not None else self.module
        signature = "forward(x, labels)" if self.conditional else "forward(x)"
        network = Conditioned(module, self.conditional)
        out = attempt(self.label, f"{signature} on shape {tuple(x.shape)}", lambda: network(x, labels))
        if self.kind == "discriminator" and not isinstance(out, torch.Tensor):
            out = self._split(out, len(x))
        return out

    def _split(self, out: Any, n: int) -> Any:
        """Logits of a discriminator with extra outputs (``(logits, {...})`` or ``{"logits": ...}``)."""
        if isinstance(out, Mapping) and "logits" in out:
            logits, extra = out["logits"], {k: v for k, v in out.items() if k != "logits"}
        elif isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], Mapping):
            logits, extra = out
        else:
            return out  # reported by the shape check as what it is
        for key, value in extra.items():
            if isinstance(value, torch.Tensor) and (value.dim() == 0 or value.shape[0] != n):
                fail(
                    self.label,
                    f"extra output '{key}' has shape {tuple(value.shape)} for {n} samples; extra "
                    "outputs must be batch-first (one row per sample), as ganframe splits them per batch.",
                )
        self.last_extra = dict(extra)
        return logits

    def check_rebuild(self, inputs: torch.Tensor) -> None:
        """A second build from the same spec accepts the first one's state dict and computes the same."""
        fresh = self.build()
        attempt(
            self.label,
            "load_state_dict() on a network rebuilt from the same spec",
            lambda: fresh.load_state_dict(self.module.state_dict()),
        )
        self.module.eval()
        fresh.eval()
        with torch.no_grad():
            same = torch.allclose(
                self(inputs, self.labels(len(inputs))), self(inputs, self.labels(len(inputs)), fresh), atol=1e-6
            )
        if not same:
            fail(
                self.label,
                "a network rebuilt from the same spec and state dict computes something else; "
                "ganframe rebuilds networks this way to sample from checkpoints and to resume.",
            )

    def check_devices(self, inputs: torch.Tensor, devices: Sequence[str] | None, expect) -> None:
        for device in default_devices() if devices is None else devices:
            copy = moved(self.label, self.module, device)
            try:
                out = self(inputs.to(device), self.labels(len(inputs), device), copy)
            except AssertionError as exc:
                fail(self.label, f"fails after .to('{device}'): {without_label(self.label, exc)} {DEVICE_HINT}")
            expect(out)
            if out.device.type != device:
                fail(self.label, f"after .to('{device}') the output is on '{out.device}'. {DEVICE_HINT}")


def _depends_on(label: str, a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    with torch.no_grad():
        if torch.allclose(a, b):
            fail(label, f"the output does not depend on {what}.")


def check_generator(
    factory_or_name: Any,
    *,
    sample_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    latent_dim: int = 16,
    conditional: bool | None = None,
    options: Mapping[str, Any] | None = None,
    batch_size: int = 4,
    devices: Sequence[str] | None = None,
) -> nn.Module:
    """Check a generator factory (or registered name) for one data set shape; returns the network.

    ``conditional`` defaults to what the name was registered with (False for a
    bare factory). ``options`` are ``--model-option`` values; every one must be
    read. ``devices`` defaults to ``["meta"]`` plus ``"cuda"`` when available.
    """
    g = _Network("generator", factory_or_name, conditional, sample_shape, num_classes, latent_dim, options)
    label, shape = g.label, (batch_size, *g.shape)
    torch.manual_seed(0)
    noise = torch.randn(batch_size, latent_dim)
    labels = g.labels(batch_size)

    def expect_samples(out: Any, n: int = batch_size, mode: str = "") -> torch.Tensor:
        out = expect_tensor(label, out, f"the output{mode} for {n} noise vectors", (n, *g.shape))
        if out.device.type != "meta" and (out.min() < -1 - 1e-5 or out.max() > 1 + 1e-5):
            fail(
                label,
                f"outputs{mode} must lie in [-1, 1] like the data (end with tanh); "
                f"got values from {out.min().item():.3g} to {out.max().item():.3g}.",
            )
        return out

    for mode in ("train", "eval"):
        g.module.train(mode == "train")
        with torch.no_grad():
            expect_samples(g(noise, labels), mode=f" in {mode} mode")
    with torch.no_grad():  # `ganframe sample --n 1` draws a single sample in eval mode
        expect_samples(g(noise[:1], g.labels(1)), n=1, mode=" in eval mode")
        _depends_on(label, g(noise, labels), g(torch.randn_like(noise), labels), "the noise")
        if g.conditional:
            same_noise = noise[:1].repeat(g.num_classes, 1)
            every_class = torch.arange(g.num_classes)
            out = expect_samples(g(same_noise, every_class), n=g.num_classes, mode=" for one noise vector per class")
            if torch.allclose(out[:1].expand_as(out), out):
                fail(label, "is conditional but gives the same output for every class label.")

    g.module.train()
    clear_gradients(g.module)
    out = expect_samples(g(noise, labels), mode=" in train mode")
    attempt(label, "backward() from the output", (out * torch.randn_like(out)).sum().backward)
    check_gradients(label, g.module, "generator")
    clear_gradients(g.module)
    g.check_rebuild(noise)
    g.check_devices(noise, devices, lambda out: expect_tensor(label, out, "the moved output", shape))
    g.module.train()
    return g.module


def check_discriminator(
    factory_or_name: Any,
    *,
    sample_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    latent_dim: int = 16,
    conditional: bool | None = None,
    options: Mapping[str, Any] | None = None,
    batch_size: int = 4,
    devices: Sequence[str] | None = None,
    gradient_penalty: bool = False,
) -> nn.Module:
    """Check a discriminator factory (or registered name); returns the network.

    With ``gradient_penalty=True`` also checks what losses such as WGAN-GP
    need: each sample's logit depends on that sample only (no BatchNorm in
    train mode), and the gradient with respect to the input can itself be
    differentiated (``create_graph=True``).
    """
    d = _Network("discriminator", factory_or_name, conditional, sample_shape, num_classes, latent_dim, options)
    label = d.label
    torch.manual_seed(0)
    x = torch.rand(batch_size, *d.shape) * 2 - 1
    labels = d.labels(batch_size)

    def expect_logits(out: Any, what: str = "the output") -> torch.Tensor:
        if isinstance(out, torch.Tensor) and tuple(out.shape) == (batch_size, 1):
            out = out.reshape(batch_size)
        return expect_tensor(
            label, out, f"{what} (one logit per sample: ({batch_size},) or ({batch_size}, 1))", (batch_size,)
        )

    for mode in ("train", "eval"):
        d.module.train(mode == "train")
        with torch.no_grad():
            expect_logits(d(x, labels), f"the output in {mode} mode")
    with torch.no_grad():
        _depends_on(label, d(x, labels), d(torch.rand_like(x) * 2 - 1, labels), "the input samples")
        if d.conditional:
            _depends_on(label, d(x, labels), d(x, (labels + 1) % d.num_classes), "the class labels")

    d.module.train()
    clear_gradients(d.module)
    inputs = x.clone().requires_grad_(True)
    logits = expect_logits(d(inputs, labels))
    objective = (logits * torch.randn_like(logits)).sum()
    for value in d.last_extra.values():  # extra heads (class logits, ...) must train too
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            objective = objective + (value * torch.randn_like(value)).sum()
    attempt(label, "backward() from the logits and extra outputs", objective.backward)
    check_gradients(label, d.module, "discriminator")
    if inputs.grad is None or inputs.grad.abs().sum() == 0:
        fail(
            label,
            "no gradient reaches the input samples, so the generator cannot learn through this "
            "discriminator (is the input detached, or converted with .numpy()/.item()?).",
        )
    clear_gradients(d.module)
    if gradient_penalty:
        _check_gradient_penalty(d, x, labels)
    d.check_rebuild(x)
    d.check_devices(x, devices, lambda out: expect_logits(out, "the moved output"))
    d.module.train()
    return d.module


def _check_gradient_penalty(d: _Network, x: torch.Tensor, labels: torch.Tensor | None) -> None:
    label = d.label
    d.module.train()
    changed = x.clone()
    changed[1:] = torch.rand_like(changed[1:]) * 2 - 1
    with torch.no_grad():
        torch.manual_seed(1)  # the same dropout masks for both calls
        first = d(x, labels).reshape(len(x))[0]
        torch.manual_seed(1)
        second = d(changed, labels).reshape(len(x))[0]
    if not torch.allclose(first, second, atol=1e-5):
        fail(
            label,
            "in train mode, the logit of sample 0 changed when only the other samples changed: the "
            "samples interact (BatchNorm?), which makes per-sample gradient penalties such as WGAN-GP "
            "wrong. Use layer/instance normalisation or none in the discriminator.",
        )
    inputs = x.clone().requires_grad_(True)
    (gradient,) = attempt(
        label,
        "torch.autograd.grad(D(x).sum(), x, create_graph=True)",
        lambda: torch.autograd.grad(d(inputs, labels).sum(), inputs, create_graph=True),
    )
    attempt(
        label,
        "backward through the input gradient (double backward)",
        lambda: gradient.flatten(1).norm(dim=1).sub(1).square().mean().backward(),
    )
    grads = [p.grad for p in d.module.parameters() if p.grad is not None]
    if not grads or all(g.abs().sum() == 0 for g in grads):  # biases of the last layer get none: that is fine
        fail(label, "a penalty on the input gradient sends no gradient to the discriminator's weights.")
    if not all(torch.isfinite(g).all() for g in grads):
        fail(label, "a penalty on the input gradient gives NaN or infinite weight gradients.")
    clear_gradients(d.module)


def check_model(
    name: str,
    *,
    sample_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    latent_dim: int = 16,
    options: Mapping[str, Any] | None = None,
    batch_size: int = 4,
    devices: Sequence[str] | None = None,
    gradient_penalty: bool = False,
) -> tuple[nn.Module, nn.Module]:
    """Check the model registered as ``name`` (``--model name``): its generator and discriminator
    each, then the pair: D accepts G's output and G learns through D. Returns ``(G, D)``."""
    if not isinstance(name, str):
        raise TypeError(
            "check_model takes the registered model name; check factories with check_generator and check_discriminator"
        )
    # one set of options for both networks, as `ganframe run --model-option` gives them: each option
    # must be read by G or D, not by both
    shared = options_for(options, f"model '{name}'")
    common = dict(
        sample_shape=sample_shape,
        num_classes=num_classes,
        latent_dim=latent_dim,
        options=shared,
        batch_size=batch_size,
        devices=devices,
    )
    generator = check_generator(name, **common)
    discriminator = check_discriminator(name, gradient_penalty=gradient_penalty, **common)
    check_all_read(f"model '{name}'", shared)
    # the checked networks, returned in train mode with no gradients
    g = _Network("generator", name, None, sample_shape, num_classes, latent_dim, shared, generator)
    d = _Network("discriminator", name, None, sample_shape, num_classes, latent_dim, shared, discriminator)
    noise = torch.randn(batch_size, latent_dim)
    logits = d(g(noise, g.labels(batch_size)), d.labels(batch_size))
    if not isinstance(logits, torch.Tensor) or logits.numel() != batch_size:
        fail(f"model '{name}'", "the discriminator does not return one logit per generated sample.")
    attempt(f"model '{name}'", "backward() from D(G(z))", logits.sum().backward)
    check_gradients(f"model '{name}'", g.module, "generator (through the discriminator)")
    clear_gradients(generator, discriminator)
    return generator, discriminator
