"""Non-finite losses (NaN or Inf): stop the run, or skip the update (``--on-nan``).

``stop`` (the default) costs nothing per step: the engine keeps every step's
metrics on the device and inspects them when it reads a metrics window
(every ``--log-every`` steps, and always before the hooks that write an
epoch-end or final checkpoint). The first bad step is then known exactly, and
no checkpoint is ever written after it, so the last one on disk is good.

``skip`` must decide before each optimizer step, so it reads each loss's
finiteness on the host: one host sync per update (two per step), plus in a
distributed run a tiny all-reduce, so that every rank skips the same updates.
On a CPU that costs next to nothing; on a GPU it stalls the launch queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ganframe.errors import TrainingError

#: the losses checked, and their column in a step's metrics tensor
LOSS_COLUMNS = {"d_loss": 0, "g_loss": 1}


class NonFiniteLossError(TrainingError):
    """A loss became NaN or Inf and ``--on-nan stop`` is in effect."""


def finite_rows(rows: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the rows (steps) whose losses are all finite."""
    return torch.isfinite(rows[:, list(LOSS_COLUMNS.values())]).all(dim=1)


def first_nonfinite(rows: torch.Tensor, finite: torch.Tensor) -> tuple[int, str, float]:
    """``(row, loss name, value)`` of the first non-finite loss in ``rows``, whose
    :func:`finite_rows` mask ``finite`` has at least one False."""
    row = int(torch.nonzero(~finite)[0])
    for name, column in LOSS_COLUMNS.items():
        value = float(rows[row, column])
        if not math.isfinite(value):
            return row, name, value
    raise AssertionError("unreachable: a non-finite row has a non-finite loss")


def stop_message(name: str, value: float, step: int, epoch: int, last_checkpoint) -> str:
    kept = (
        f"The last good checkpoint is kept: {last_checkpoint}."
        if last_checkpoint
        else "No checkpoint had been written yet."
    )
    return (
        f"Training stopped: {name} became {value} at step {step} (epoch {epoch}); nothing was saved after "
        f"that step. {kept} Lower --lr, check the loss plugin, or pass --on-nan skip to skip the updates "
        "of non-finite losses instead."
    )


def skip_guard(all_finite: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], bool]:
    """A ``TrainStep.skip_update`` for ``--on-nan skip``: True when ``loss`` is not finite.

    ``all_finite`` (``Processes.all_true``) combines the flag over the ranks of
    a distributed run (a MIN all-reduce) so every rank skips together; in one
    process it returns the flag unchanged.
    """

    def skip(loss: torch.Tensor) -> bool:
        return not bool(all_finite(torch.isfinite(loss.detach()).all()))  # the host sync that --on-nan skip costs

    return skip
