"""Mode coverage: the standard collapse test for a mixture of Gaussians.

The unrolled GAN, VEEGAN and PacGAN papers score a generator trained on
Gaussians on a ring (ganframe's ``ring``) by two figures, computed here from
the generated 2-D points alone, with no classifier:

- **high-quality share**: the share of samples within ``threshold`` (3)
  standard deviations of their nearest mode centre;
- **modes covered**: modes holding at least ``min_share`` (1%) of the
  high-quality samples.

A collapsed generator puts all its samples on one or two modes (high
quality, low coverage); a blurry one covers every mode but few samples land
near any (high coverage, low quality). Both figures are needed.

A pure function of tensors so that a data set can offer it as its own
quality metric (``ring``'s ``quality_metrics``), ``ganframe eval`` and
``--eval-every`` can call it, and a metrics plugin can wrap it unchanged.
"""

from __future__ import annotations

from typing import Any

import torch

#: a sample is high quality within this many standard deviations of its nearest mode
HIGH_QUALITY_STDS = 3.0
#: a mode is covered when it holds at least this share of the high-quality samples
MIN_MODE_SHARE = 0.01


def mode_coverage(
    samples: torch.Tensor,
    centres: torch.Tensor,
    std: float,
    *,
    threshold: float = HIGH_QUALITY_STDS,
    min_share: float = MIN_MODE_SHARE,
) -> dict[str, Any]:
    """Modes covered, high-quality share and per-mode counts of 2-D ``samples``.

    ``samples``: ``(N, D)`` points (any leading shape is flattened to ``(N, D)``);
    ``centres``: ``(M, D)`` mode centres; ``std``: the modes' standard deviation.

    Returns ``modes_covered`` (modes with at least ``min_share`` of the
    high-quality samples; 0 when there are none), ``num_modes``,
    ``high_quality_share`` (in [0, 1]), ``high_quality`` (count) and
    ``mode_counts`` (high-quality samples per mode, a list of ints).
    """
    if std <= 0:
        raise ValueError(f"std must be positive; got {std}")
    centres = centres.detach().float().cpu()
    points = samples.detach().float().cpu().flatten(start_dim=1)
    if centres.dim() != 2 or points.shape[1] != centres.shape[1]:
        raise ValueError(
            f"samples of {points.shape[1]} values cannot be compared with centres of shape {tuple(centres.shape)}"
        )
    num_modes = len(centres)
    if len(points) == 0:
        return {
            "modes_covered": 0,
            "num_modes": num_modes,
            "high_quality_share": 0.0,
            "high_quality": 0,
            "mode_counts": [0] * num_modes,
        }
    distances = torch.cdist(points, centres)  # (N, M)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= threshold * std
    counts = torch.bincount(nearest[good], minlength=num_modes)
    high_quality = int(good.sum())
    covered = int((counts >= min_share * high_quality).sum()) if high_quality else 0
    return {
        "modes_covered": covered,
        "num_modes": num_modes,
        "high_quality_share": high_quality / len(points),
        "high_quality": high_quality,
        "mode_counts": [int(c) for c in counts],
    }
