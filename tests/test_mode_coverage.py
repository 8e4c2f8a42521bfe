"""Mode coverage (``ganframe.evaluation.mode_coverage``) on inputs whose answers are known by hand,
and ``ring`` offering it as its own quality metric."""

import math

import pytest
import torch

from ganframe.evaluation.mode_coverage import mode_coverage

STD = 0.02


def ring_centres(modes: int = 8, radius: float = 0.8) -> torch.Tensor:
    angle = torch.arange(modes).float() * (2 * math.pi / modes)
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) * radius


def around(centres: torch.Tensor, counts: list[int], spread: float = STD, seed: int = 0) -> torch.Tensor:
    """``counts[m]`` points near mode ``m``, each within ``spread`` of its centre (clipped Gaussian)."""
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for centre, count in zip(centres, counts):
        offsets = torch.randn(count, 2, generator=generator)
        offsets = offsets / offsets.norm(dim=1, keepdim=True).clamp(min=1.0)  # radius <= 1
        parts.append(centre + spread * offsets)
    return torch.cat(parts)


def test_samples_on_three_of_eight_modes_cover_three():
    centres = ring_centres()
    samples = around(centres, [100, 0, 0, 250, 0, 0, 50, 0])
    scores = mode_coverage(samples, centres, STD)
    assert scores["modes_covered"] == 3 and scores["num_modes"] == 8
    assert scores["high_quality_share"] == pytest.approx(1.0)
    assert scores["mode_counts"] == [100, 0, 0, 250, 0, 0, 50, 0]


def test_outliers_lower_the_high_quality_share_and_count_for_no_mode():
    centres = ring_centres()
    good = around(centres, [50] * 8)
    outliers = torch.tensor([[0.0, 0.0]] * 100 + [[0.8 + 3.5 * STD, 0.0]] * 100)  # centre, and 3.5 std off mode 0
    scores = mode_coverage(torch.cat([good, outliers]), centres, STD)
    assert scores["high_quality"] == 400 and scores["high_quality_share"] == pytest.approx(400 / 600)
    assert scores["modes_covered"] == 8 and scores["mode_counts"] == [50] * 8


def test_the_three_std_boundary():
    centres = ring_centres()
    inside = torch.tensor([[0.8 + 2.99 * STD, 0.0]])
    outside = torch.tensor([[0.8 + 3.01 * STD, 0.0]])
    assert mode_coverage(inside, centres, STD)["high_quality"] == 1
    assert mode_coverage(outside, centres, STD)["high_quality"] == 0


def test_a_mode_needs_one_percent_of_the_high_quality_samples():
    centres = ring_centres()
    # 7 modes share 990 samples, mode 7 gets 9: under 1% of 999, not covered; 11 of 1001 would be
    scores = mode_coverage(around(centres, [142, 142, 142, 142, 142, 140, 140, 9]), centres, STD)
    assert scores["modes_covered"] == 7
    scores = mode_coverage(around(centres, [142, 142, 142, 142, 142, 140, 140, 11]), centres, STD)
    assert scores["modes_covered"] == 8


def test_the_one_percent_is_of_high_quality_samples_not_of_all_samples():
    centres = ring_centres()
    good = around(centres, [100, 0, 0, 0, 0, 0, 0, 2])  # mode 7: 2 of 102 high-quality samples (~2%)
    junk = torch.zeros(10_000, 2)  # far from every mode: 2 is 0.02% of all samples
    scores = mode_coverage(torch.cat([good, junk]), centres, STD)
    assert scores["modes_covered"] == 2 and scores["high_quality"] == 102


def test_collapsed_or_empty_samples():
    centres = ring_centres()
    far = torch.full((500, 2), 5.0)
    assert mode_coverage(far, centres, STD) == {
        "modes_covered": 0,
        "num_modes": 8,
        "high_quality_share": 0.0,
        "high_quality": 0,
        "mode_counts": [0] * 8,
    }
    assert mode_coverage(torch.empty(0, 2), centres, STD)["modes_covered"] == 0


def test_real_ring_data_scores_as_expected_for_a_gaussian():
    """2-D Gaussian points lie within 3 std of their centre with probability 1 - exp(-4.5) = 0.989."""
    centres = ring_centres()
    generator = torch.Generator().manual_seed(0)
    mode = torch.randint(0, 8, (20_000,), generator=generator)
    points = centres[mode] + STD * torch.randn(20_000, 2, generator=generator)
    scores = mode_coverage(points, centres, STD)
    assert scores["modes_covered"] == 8
    assert scores["high_quality_share"] == pytest.approx(1 - math.exp(-4.5), abs=0.005)


def test_bad_inputs_are_refused():
    centres = ring_centres()
    with pytest.raises(ValueError, match="std must be positive"):
        mode_coverage(torch.zeros(3, 2), centres, 0.0)
    with pytest.raises(ValueError, match="3 values"):
        mode_coverage(torch.zeros(3, 3), centres, STD)


def test_ring_offers_mode_coverage_of_its_own_modes(plugin_set, tmp_path):
    from ganframe.config import RunConfig
    from ganframe.run.assemble import load_dataset

    component = plugin_set.registry.get("dataset", "ring")
    config = RunConfig(dataset="ring", data_root=str(tmp_path), dataset_options={"modes": "5", "radius": "0.5"})
    ring, _ = load_dataset(component, config)
    assert torch.allclose(ring.mode_centres, ring_centres(5, 0.5)) and ring.mode_std == pytest.approx(STD)
    scores = ring.quality_metrics(ring.data)
    assert scores["modes_covered"] == 5 and scores["num_modes"] == 5 and scores["high_quality_share"] > 0.98
    collapsed = ring.quality_metrics(ring.mode_centres[:1].repeat(100, 1))
    assert collapsed["modes_covered"] == 1 and collapsed["mode_counts"] == [100, 0, 0, 0, 0]
