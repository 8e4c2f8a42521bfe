"""The ``subset`` option every image data set reads (not a plugin: a helper).

``subset=N`` keeps the first N samples of the training split (in the data
set's own order: file order for folders); adding ``subset_seed=S`` keeps N
samples drawn at random with seed S instead, still in their original order.
A quick experiment on a fraction of a big data set is one option away, and
the same N and S always give the same samples.

Only the training split is cut: the held-out split (``train=False``, what
``ganframe eval`` compares against) stays whole, so its figures remain
comparable between runs with different subsets. (``image-folder`` has no
held-out split; see ``image_folder``.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subset:
    """``count`` samples (0: all), the first ones or, with ``seed``, a seeded random draw."""

    count: int = 0
    seed: int | None = None

    def indices(self, total: int, what: str):
        """Sorted indices into ``total`` samples, or ``None`` for all of them; out of range is a UsageError."""
        from ganframe import UsageError

        if not self.count:
            return None
        if self.count > total:
            raise UsageError(
                f"subset={self.count} asks for more samples than {what} holds ({total}); "
                f"use a number from 1 to {total}, or leave subset out to use them all."
            )
        import torch

        if self.seed is None:
            return torch.arange(self.count)
        generator = torch.Generator().manual_seed(self.seed)
        return torch.randperm(total, generator=generator)[: self.count].sort().values


def read_subset(options) -> Subset:
    """Read ``subset`` and ``subset_seed`` from a data set's options (both are always read,
    so they are known options of every image data set)."""
    from ganframe import UsageError

    count = options.get("subset", 0)
    seed = options.get("subset_seed", None)
    if count < 0:
        raise UsageError(
            f"subset={count} is not a number of samples; use a positive N (the first N samples, "
            "or N drawn at random with subset_seed=S), or leave it out (or 0) for all of them."
        )
    if seed is not None:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise UsageError(f"subset_seed={seed!r} must be an integer seed, e.g. subset_seed=0.") from None
        if not count:
            raise UsageError(
                f"subset_seed={seed} draws a random subset, but no subset size was given; "
                "add subset=N (e.g. subset=1000), or leave subset_seed out."
            )
    return Subset(count, seed)


def apply_to_tensors(subset: Subset, data, labels, what: str):
    """``(data, labels)`` cut to the subset (views for the first N, copies for a random draw)."""
    index = subset.indices(len(data), what)
    if index is None:
        return data, labels
    if subset.seed is None:
        return data[: subset.count], (labels[: subset.count] if labels is not None else None)
    return data[index], (labels[index] if labels is not None else None)
