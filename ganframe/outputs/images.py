"""Writing samples as pictures: image grids, or scatter plots for 2-D points.

Every file is written to a temporary name and renamed into place, so a
crash never leaves a half-written PNG.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganframe.files import atomic_write


def is_image_shape(sample_shape: tuple[int, ...]) -> bool:
    return len(sample_shape) == 3 and sample_shape[0] in (1, 3)


def save_samples(samples: torch.Tensor, path: Path, *, nrow: int = 10, reference: torch.Tensor | None = None) -> bool:
    """Save ``samples`` in [-1, 1] as a grid (images) or a scatter plot (2-D points).

    Returns False when the sample shape has no picture form.
    """
    shape = tuple(samples.shape[1:])
    if is_image_shape(shape):
        save_image_grid(samples, path, nrow=nrow)
        return True
    if shape == (2,):
        save_scatter(samples, path, reference=reference)
        return True
    return False


def image_grid(images: torch.Tensor, *, nrow: int = 10) -> torch.Tensor:
    """``images`` in [-1, 1] as one picture (3 x H x W in [0, 1]), ``nrow`` per row on a white background."""
    from torchvision.utils import make_grid

    images = images.detach().float().cpu().clamp(-1, 1)
    return make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)


def save_image_grid(images: torch.Tensor, path: Path, *, nrow: int = 10) -> None:
    from torchvision.utils import save_image

    grid = image_grid(images, nrow=nrow)
    atomic_write(Path(path), lambda handle: save_image(grid, handle, format="png"))


def save_scatter(points: torch.Tensor, path: Path, *, reference: torch.Tensor | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    if reference is not None:
        ref = reference.detach().float().cpu()
        ax.scatter(ref[:, 0], ref[:, 1], s=2, c="#bbbbbb", label="real")
    pts = points.detach().float().cpu()
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="#d62728", label="generated")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    try:
        atomic_write(Path(path), lambda handle: fig.savefig(handle, format="png", bbox_inches="tight"))
    finally:
        plt.close(fig)
