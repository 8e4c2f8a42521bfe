"""Per-step metrics kept on the device until the engine reads them.

Each step's metrics tensor is copied into its own preallocated row (one
device copy, as cheap as summing into a running total, and no host sync).
Reading the window returns every row at once, so the engine can average
them *and* say exactly which step first produced a non-finite loss, still
with a single host sync per window.
"""

from __future__ import annotations

import torch


class MetricsWindow:
    """Rows of ``width`` metrics, one per step since the last :meth:`take`."""

    def __init__(self, width: int, capacity: int, device: torch.device):
        self._rows = torch.zeros(max(1, capacity), width, device=device)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, metrics: torch.Tensor) -> None:
        if self._count == len(self._rows):  # only if a caller reads less often than it said
            self._rows = torch.cat([self._rows, torch.zeros_like(self._rows)])
        self._rows[self._count].copy_(metrics)
        self._count += 1

    def take(self) -> torch.Tensor:
        """The rows added since the last call, ``(n, width)`` on the device; empties the window."""
        rows = self._rows[: self._count].clone()
        self._count = 0
        return rows
