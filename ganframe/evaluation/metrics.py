"""The quality figures, as pure functions of classifier outputs.

- **classes covered**: classes that receive more than 2% of the samples. A
  collapsed generator covers few; 2% is a fifth of a uniform share for 10
  classes, so a class the generator draws only by accident does not count.
- **class KL**: ``KL(p || uniform) = sum p_i log(p_i * C)`` of the predicted
  class histogram ``p`` (natural log). 0 for a perfectly balanced histogram,
  ``log C`` (2.30 for 10 classes) when every sample is one class.
- **confidence**: mean of the classifier's largest softmax probability; low
  when samples look like no class in particular.
- **Frechet distance**: between Gaussians fitted to the classifier's 128-d
  features of the samples and of the held-out test split (FID's formula, in
  this classifier's feature space instead of Inception's). Near 0 for real
  images, large for noise or a collapsed generator.
- **label accuracy** (conditional models): share of samples the classifier
  reads as the class they were generated for, overall and per class.
"""

from __future__ import annotations

import math

import torch

COVERAGE_SHARE = 0.02


def class_shares(predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Share of samples predicted as each class (sums to 1)."""
    counts = torch.bincount(predictions.long().cpu(), minlength=num_classes).double()
    return counts / max(1, len(predictions))


def classes_covered(shares: torch.Tensor, threshold: float = COVERAGE_SHARE) -> int:
    return int((shares > threshold).sum())


def kl_from_uniform(shares: torch.Tensor) -> float:
    """``KL(shares || uniform)``; empty classes contribute 0."""
    p = shares.double()
    p = p[p > 0]
    return float((p * torch.log(p * len(shares))).sum())


def mean_confidence(logits: torch.Tensor) -> float:
    return float(torch.softmax(logits.double(), dim=1).max(dim=1).values.mean())


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance (float64) of ``features`` (N x D)."""
    x = features.double()
    mean = x.mean(dim=0)
    centred = x - mean
    cov = centred.T @ centred / max(1, len(x) - 1)
    return mean, cov


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(mean1: torch.Tensor, cov1: torch.Tensor, mean2: torch.Tensor, cov2: torch.Tensor) -> float:
    """``|m1 - m2|^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2))``.

    ``tr((C1 C2)^(1/2))`` is computed as the trace of the square root of the
    symmetric matrix ``C1^(1/2) C2 C1^(1/2)`` (same eigenvalues), which needs
    only symmetric eigendecompositions and so no SciPy.
    """
    root1 = _sqrt_psd(cov1.double())
    middle = root1 @ cov2.double() @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    diff = mean1.double() - mean2.double()
    value = diff.dot(diff) + torch.trace(cov1.double()) + torch.trace(cov2.double()) - 2 * trace_sqrt
    return max(0.0, float(value))


def label_accuracy(
    predictions: torch.Tensor, requested: torch.Tensor, num_classes: int
) -> tuple[float, list[float | None]]:
    """Overall and per-class share of samples predicted as the class they were generated for
    (None for a class with no samples)."""
    predictions, requested = predictions.long().cpu(), requested.long().cpu()
    hits = (predictions == requested).double()
    per_class = []
    for c in range(num_classes):
        mask = requested == c
        per_class.append(float(hits[mask].mean()) if mask.any() else None)
    return float(hits.mean()) if len(hits) else math.nan, per_class
