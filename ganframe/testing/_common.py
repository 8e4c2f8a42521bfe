"""What every check needs: finding the factory, calling it, and failing clearly.

Imports torch: only the check modules import this, and they are loaded
lazily by :mod:`ganframe.testing`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

import torch
from torch import nn

from ganframe.errors import GanframeError
from ganframe.plugin.registry import Component
from ganframe.plugin.specs import Options

#: the hint shown whenever a device move breaks a component
DEVICE_HINT = (
    "Usually a tensor created in forward() without device=... (use torch.zeros(..., device=x.device) or "
    "*_like functions), or a tensor kept as a plain attribute instead of register_buffer(). ganframe.testing "
    "moves components to PyTorch's 'meta' device to find these without a GPU; pass devices=['cpu'] to skip."
)


def fail(label: str, message: str) -> NoReturn:
    raise AssertionError(f"{label}: {message}")


def resolve(kind: str, factory_or_name: Any) -> tuple[Callable[..., Any], Component | None, str]:
    """``(factory, component or None, label for messages)`` for a callable or a registered name."""
    if isinstance(factory_or_name, str):
        from ganframe.plugin.manager import get_plugins

        try:
            component = get_plugins(report=False).registry.get(kind, factory_or_name)
            return component.load(), component, f"{kind} '{component.qualified_name}'"
        except GanframeError as exc:
            raise AssertionError(exc.message) from None
    if not callable(factory_or_name):
        raise TypeError(f"expected a {kind} factory or a registered {kind} name, got {factory_or_name!r}")
    name = getattr(factory_or_name, "__qualname__", None) or repr(factory_or_name)
    return factory_or_name, None, f"{kind} factory {name}"


def options_for(values: Mapping[str, Any] | None, label: str) -> Options:
    """Options as the CLI would pass them (``KEY=VALUE`` strings stay strings)."""
    return Options(dict(values or {}), owner=label)


def build(label: str, factory: Callable[..., Any], spec: Any, what: str, *, check_read: bool = True) -> Any:
    """``factory(spec)``, with a refusal (GanframeError) and, unless ``check_read`` is False (options
    shared with another factory, checked by the caller), unread options turned into failures."""
    try:
        built = factory(spec)
    except GanframeError as exc:
        fail(label, f"refused {what}: {exc.message}")
    except Exception as exc:  # what ganframe reports to users as the plugin's bug
        fail(label, f"failed ({what}) with {type(exc).__name__}: {exc}")
    if check_read:
        check_all_read(label, spec.options)
    return built


def check_all_read(label: str, options: Options) -> None:
    """Options nobody read fail the check, as ``ganframe run`` rejects them."""
    try:
        options.check_all_read()
    except GanframeError as exc:
        fail(label, f"was given options it never read (ganframe reports these to users as errors): {exc.message}")


def attempt(label: str, what: str, call: Callable[[], Any], hint: str = "") -> Any:
    """Run ``call``; any exception becomes a failure saying what was being done (and ``hint``)."""
    try:
        return call()
    except AssertionError:
        raise
    except Exception as exc:
        fail(label, f"{what} raised {type(exc).__name__}: {exc}{' ' + hint if hint else ''}")


def without_label(label: str, error: AssertionError) -> str:
    """The message of a failure raised for ``label``, without repeating the label."""
    return str(error).removeprefix(f"{label}: ")


def default_devices() -> list[str]:
    """'meta' always (finds device bugs without a GPU), plus 'cuda' when this machine has one."""
    return ["meta"] + (["cuda"] if torch.cuda.is_available() else [])


def moved(label: str, module: nn.Module, device: str) -> nn.Module:
    """A copy of ``module`` on ``device``, failing when a parameter or buffer stays behind."""
    copied = attempt(label, f".to('{device}')", lambda: copy.deepcopy(module).to(device))
    stray = [name for name, t in (*copied.named_parameters(), *copied.named_buffers()) if t.device.type != device]
    if stray:
        fail(label, f"after .to('{device}') these tensors are still elsewhere: {', '.join(stray)}.")
    return copied


def expect_tensor(label: str, value: Any, what: str, shape: Iterable[int] | None = None) -> torch.Tensor:
    """``value`` is a finite floating-point tensor (of ``shape`` when given)."""
    if not isinstance(value, torch.Tensor):
        fail(label, f"{what} is a {type(value).__name__}, not a torch.Tensor.")
    if not value.is_floating_point():
        fail(label, f"{what} has dtype {value.dtype}; expected a floating-point tensor.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(label, f"{what} has shape {tuple(value.shape)}; expected {tuple(shape)}.")
    if value.device.type != "meta" and not torch.isfinite(value).all():
        fail(label, f"{what} contains NaN or infinite values.")
    return value


def check_gradients(label: str, module: nn.Module, network: str) -> None:
    """Every trainable parameter of ``module`` received a finite gradient, and not all are zero."""
    params = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    if not params:
        fail(label, f"the {network} has no trainable parameters, so its optimizer has nothing to train.")
    missing = [name for name, p in params if p.grad is None]
    if missing:
        fail(
            label,
            f"no gradient reaches these {network} parameters: {', '.join(missing)}. They are unused in forward(), "
            "or the path to them is cut (.detach(), torch.no_grad(), .item(), .numpy()).",
        )
    if not all(torch.isfinite(p.grad).all() for _, p in params):
        fail(label, f"some {network} gradients are NaN or infinite.")
    if all(p.grad.abs().sum() == 0 for _, p in params):
        fail(label, f"every {network} gradient is zero, so training cannot change the {network}.")


def clear_gradients(*modules: nn.Module) -> None:
    for module in modules:
        for p in module.parameters():
            p.grad = None
