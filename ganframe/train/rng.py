"""Random number generator states: saved with checkpoints, shielded from plugins.

Training draws from the default CPU generator (noise, dropout) and, on a GPU,
from the CUDA generators. A resumed run continues bit for bit only if those
streams continue exactly, so:

- a checkpoint stores the states as they were at the training position
  (:func:`capture`, taken by the engine before the hooks that write
  checkpoints run), and a resume puts them back (:func:`restore`);
- lifecycle hooks run inside :func:`preserved`, so a plugin that draws random
  numbers (sample grids in ``--sample-mode train``, evaluation) never changes
  what training draws next. A run therefore trains the same with or without
  such plugins, and a resumed run need not replay them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch


def capture(device: torch.device) -> dict[str, Any]:
    """The CPU generator's state and, for a CUDA run, every CUDA generator's state."""
    cuda = list(torch.cuda.get_rng_state_all()) if device.type == "cuda" else []
    return {"torch": torch.get_rng_state(), "cuda": cuda}


def restore(states: dict[str, Any]) -> None:
    """Put back states from :func:`capture` (CUDA ones only on the GPUs this machine has)."""
    torch.set_rng_state(states["torch"].cpu())
    cuda = list(states.get("cuda") or [])
    if cuda and torch.cuda.is_available():
        count = min(len(cuda), torch.cuda.device_count())
        torch.cuda.set_rng_state_all([state.cpu() for state in cuda[:count]])


@contextlib.contextmanager
def preserved(device: torch.device) -> Iterator[dict[str, Any]]:
    """Run a block without it changing the generators' states; yields the states kept."""
    states = capture(device)
    try:
        yield states
    finally:
        restore(states)
