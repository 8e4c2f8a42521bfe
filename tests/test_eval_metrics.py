"""The quality figures on inputs whose answers are known by hand."""

import math

import pytest
import torch

from ganframe.evaluation.metrics import (
    class_shares,
    classes_covered,
    feature_statistics,
    frechet_distance,
    kl_from_uniform,
    label_accuracy,
    mean_confidence,
)


def test_balanced_predictions_cover_every_class_with_zero_kl():
    predictions = torch.arange(1000) % 10
    shares = class_shares(predictions, 10)
    assert torch.allclose(shares, torch.full((10,), 0.1, dtype=torch.float64))
    assert classes_covered(shares) == 10
    assert kl_from_uniform(shares) == pytest.approx(0.0, abs=1e-12)


def test_one_class_scores_log_c():
    shares = class_shares(torch.full((500,), 3), 10)
    assert classes_covered(shares) == 1
    assert kl_from_uniform(shares) == pytest.approx(math.log(10))


def test_coverage_needs_more_than_two_percent():
    # 9 classes share 98%, class 9 gets exactly 2%: not covered; 2.2% would be
    predictions = torch.cat([torch.arange(980) % 9, torch.full((20,), 9)])
    assert classes_covered(class_shares(predictions, 10)) == 9
    predictions = torch.cat([torch.arange(978) % 9, torch.full((22,), 9)])
    assert classes_covered(class_shares(predictions, 10)) == 10


def test_kl_matches_a_hand_computation():
    shares = torch.tensor([0.5, 0.25, 0.25, 0.0], dtype=torch.float64)
    expected = 0.5 * math.log(0.5 * 4) + 2 * 0.25 * math.log(0.25 * 4)
    assert kl_from_uniform(shares) == pytest.approx(expected)


def test_confidence_is_the_mean_top_probability():
    logits = torch.tensor([[10.0, -10.0], [0.0, 0.0]])
    assert mean_confidence(logits) == pytest.approx((1.0 + 0.5) / 2, abs=1e-6)


def test_frechet_distance_of_identical_statistics_is_zero():
    torch.manual_seed(0)
    features = torch.randn(2000, 16) @ torch.randn(16, 16)
    mean, cov = feature_statistics(features)
    assert frechet_distance(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    """Diagonal covariances: FD = |m1 - m2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    m1, m2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    a, b = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 4.0, 1.0])
    expected = ((m1 - m2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum()
    got = frechet_distance(m1, torch.diag(a), m2, torch.diag(b))
    assert got == pytest.approx(float(expected), rel=1e-9)


def test_frechet_distance_grows_with_the_gap_between_samples():
    torch.manual_seed(0)
    base = torch.randn(4000, 8)
    near = feature_statistics(torch.randn(4000, 8))
    far = feature_statistics(torch.randn(4000, 8) * 3 + 2)
    reference = feature_statistics(base)
    assert frechet_distance(*near, *reference) < 0.05
    assert frechet_distance(*far, *reference) > 30


def test_label_accuracy_overall_and_per_class():
    requested = torch.tensor([0, 0, 1, 1, 2, 2])
    predicted = torch.tensor([0, 0, 1, 0, 1, 1])
    overall, per_class = label_accuracy(predicted, requested, 4)
    assert overall == pytest.approx(3 / 6)
    assert per_class == [1.0, 0.5, 0.0, None]  # class 3 was never asked for
