"""Learning-rate decay over a run (``--lr-decay``).

Why: at a constant learning rate Adam keeps moving the generator by a step
of about the learning rate, so samples circle the data's modes instead of
settling on them (measured on ``ring``: README, "The ring example").
Lowering both learning rates to 0 by the last step lets them settle.

The learning rate is a pure function of the step count and the planned
length (``steps_per_epoch * epochs``), set before each step, so a resumed
run follows the same curve bit for bit, whatever learning rate the
restored optimizer state carries. ``--max-steps`` stops a run early
without changing the curve.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class LinearDecay:
    """Sets every parameter group of ``optimizers`` to ``base_lr * (1 - step / planned_steps)``."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer], base_lr: float, planned_steps: int):
        self.optimizers = tuple(optimizers)
        self.base_lr = base_lr
        self.planned_steps = max(planned_steps, 1)

    def factor(self, step: int) -> float:
        """The share of the base learning rate used by the step after ``step`` steps (1 at the start)."""
        return max(0.0, 1.0 - step / self.planned_steps)

    def before_step(self, step: int) -> None:
        lr = self.base_lr * self.factor(step)
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr


def make_lr_decay(
    kind: str, optimizers: Sequence[torch.optim.Optimizer], base_lr: float, planned_steps: int
) -> LinearDecay | None:
    """The decay ``--lr-decay`` names, or ``None`` for ``constant`` (nothing to do per step)."""
    if kind == "constant":
        return None
    if kind == "linear":
        return LinearDecay(optimizers, base_lr, planned_steps)
    raise ValueError(f"unknown learning-rate decay {kind!r}")
