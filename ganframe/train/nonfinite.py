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


def kept_sentence(last_checkpoint) -> str:
    """What survives a stop: the last checked checkpoint, or that none was written."""
    return (
        f"The last good checkpoint is kept: {last_checkpoint}."
        if last_checkpoint
        else "No checkpoint had been written yet."
    )


def stop_message(name: str, value: float, step: int, epoch: int, last_checkpoint) -> str:
    kept = kept_sentence(last_checkpoint)
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


# -- weights ------------------------------------------------------------------------------------
class NonFiniteWeightsError(TrainingError):
    """The networks' weights hold NaN or Inf; no checkpoint is written from them."""


def nonfinite_entries(tree, prefix: str = "") -> list[str]:
    """Names of the floating-point tensors holding NaN or Inf in a (nested) state dict, in order,
    found with one host sync for the whole tree."""
    names, flags = [], []
    stack = [(prefix, tree)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{name}.{key}" if name else str(key), item) for key, item in reversed(list(value.items())))
        elif isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel():
            names.append(name)
            flags.append(torch.isfinite(value).all())
    if not flags:
        return []
    try:
        finite = torch.stack(flags).tolist()
    except RuntimeError:  # tensors on several devices
        finite = [bool(flag) for flag in flags]
    return [name for name, ok in zip(names, finite) if not ok]


def describe_entries(bad: list[str], limit: int = 3) -> str:
    """``'a', 'b' and 2 more`` for messages."""
    shown = ", ".join(f"'{name}'" for name in bad[:limit])
    return shown + (f" and {len(bad) - limit} more" if len(bad) > limit else "")


def check_weights(state) -> None:
    """Raise :class:`NonFiniteWeightsError` when G, D or the average of G's weights holds NaN or Inf,
    so no checkpoint is written from them (called by the engine before every checkpoint hook)."""
    networks = {"generator": state.generator, "discriminator": state.discriminator}
    if state.g_average is not None:
        networks["generator_ema"] = state.g_average.network
    bad = [entry for name, net in networks.items() for entry in nonfinite_entries(net.state_dict(), name)]
    if not bad:
        return
    kept = kept_sentence(state.last_checkpoint)
    raise NonFiniteWeightsError(
        f"Training stopped at step {state.step} (epoch {state.current_epoch}): the weights hold NaN or Inf "
        f"({describe_entries(bad)}), so no checkpoint was written from them. {kept} An update overflowed: "
        "lower --lr, check the loss and model plugins, or resume from the last good checkpoint."
    )
