"""Toy data sets generated in memory: ``ring``.

``ring`` is the classic mode-collapse test: 8 Gaussians on a circle in 2-D.
It needs no download and has sample shape ``(2,)``, which keeps ganframe
honest about nothing being hard-coded to 28x28 images. It has no labels.
Options (``--dataset-option``): ``modes`` (8), ``radius`` (0.8), ``std``
(0.02), ``samples`` (16000).
"""

from ganframe import hookimpl


@hookimpl
def register_datasets(register):
    register("ring", ring, help="8 Gaussians on a circle in 2-D, no labels, generated in memory")


def ring(spec):
    """8 Gaussians on a circle in 2-D (generated in memory, no labels): a mode-collapse test."""
    import math

    import torch

    from ganframe import InMemoryDataset

    modes = spec.options.get("modes", 8)
    radius = spec.options.get("radius", 0.8)
    std = spec.options.get("std", 0.02)
    samples = spec.options.get("samples", 16000)
    _check_ring(modes=modes, radius=radius, std=std, samples=samples)
    generator = torch.Generator().manual_seed(0 if spec.train else 1)
    mode = torch.randint(0, modes, (samples,), generator=generator)
    angle = mode.float() * (2 * math.pi / modes)
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) * radius
    points = centres + std * torch.randn(samples, 2, generator=generator)
    return InMemoryDataset(points.clamp_(-1.0, 1.0))


def _check_ring(*, modes: int, radius: float, std: float, samples: int) -> None:
    """Options no ring can be drawn from, refused with the option's name (before any tensor is made)."""
    from ganframe import UsageError

    rules = {"modes": (modes, modes >= 1, "at least 1"), "samples": (samples, samples >= 1, "at least 1"),
             "radius": (radius, 0 < radius <= 1, "in (0, 1] (points are clamped to [-1, 1])"),
             "std": (std, std >= 0, "0 or more")}
    for key, (value, ok, valid) in rules.items():
        if not ok:
            raise UsageError(f"--dataset-option {key}={value} is out of range for dataset 'ring': {key} must be {valid}.")
