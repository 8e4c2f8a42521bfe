"""``--precision auto``: bf16 where the hardware computes it natively, fp32 elsewhere.

bf16 autocast roughly halves the CPU step (README, "Performance": 0.39-0.52x
of the hand loop against 0.69-1.00x in fp32) on a CPU with AVX512-BF16 and
AMX-BF16. Without them bf16 matrix multiplies are emulated, so ``auto`` stays
fp32 there; on CUDA it takes bf16 where the GPU has it natively (Ampere and
later), not where PyTorch would emulate it. How each built-in model trains in
bf16 against fp32: docs/quality.md, "bf16 against fp32"; a model that should
stay fp32 declares ``"precision": "fp32"`` in its ``defaults=``.

``auto`` is resolved once, when a run is built, and the run records the result
(``bf16`` or ``fp32``) in ``config.json`` and its checkpoints, so ``--resume``
continues in the precision the run started with, on any machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganframe.errors import UsageError

#: environment variable naming what ``auto`` resolves to, instead of detecting it: for a machine whose
#: flags are hidden (some VMs), and for the test suite, which pins fp32 so its tolerances and its
#: in-process vs subprocess comparisons hold on every machine
OVERRIDE = "GANFRAME_AUTO_PRECISION"
#: /proc/cpuinfo flags of native bf16 matrix arithmetic (AVX512-BF16 dot products, AMX tiles)
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as Linux reports them (empty where there is no /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX-BF16).

    ``torch.backends.cpu.get_cpu_capability()`` says only ``AVX512`` for these CPUs (it names the
    kernels PyTorch dispatches to, not bf16 support), so the flags come from /proc/cpuinfo."""
    return any(flag in cpu_flags() for flag in CPU_BF16_FLAGS)


def cuda_has_bf16(device) -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def has_native_bf16(device) -> bool:
    """Whether ``device`` (a torch.device) computes bf16 natively."""
    if device.type == "cuda":
        return cuda_has_bf16(device)
    if device.type == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(precision: str, device) -> str:
    """``bf16`` or ``fp32``: ``auto`` by the device's bf16 support (or :data:`OVERRIDE`), the others as they are."""
    if precision != "auto":
        return precision
    override = os.environ.get(OVERRIDE, "").strip()
    if override:
        if override not in ("fp32", "bf16"):
            raise UsageError(
                f"{OVERRIDE}={override!r} is not a precision; set it to 'fp32' or 'bf16', or unset it "
                "to let --precision auto detect the hardware's bf16 support."
            )
        return override
    return "bf16" if has_native_bf16(device) else "fp32"
