"""The pictures written at the end of a run (matplotlib, imported lazily): the losses
and D(x) / D(G(z)) plot, and the strip of sample grids over epochs."""

from __future__ import annotations

from pathlib import Path

from ganframe.files import atomic_write


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported on first use: it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig, path: Path) -> None:
    """Lay out, write atomically as PNG, and always release the figure."""
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout()
        atomic_write(Path(path), lambda handle: fig.savefig(handle, format="png"))
    finally:
        plt.close(fig)


def save_losses_plot(history: list[dict[str, float]], path: Path, title: str = "") -> bool:
    """Losses (top) and D(x) / D(G(z)) (bottom) against steps. False when there is nothing to plot."""
    rows = [r for r in history if "d_loss" in r and "g_loss" in r]
    if not rows:
        return False
    plt = _pyplot()
    steps = [r["step"] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), dpi=100, sharex=True)
    top.plot(steps, [r["d_loss"] for r in rows], label="discriminator")
    top.plot(steps, [r["g_loss"] for r in rows], label="generator")
    top.set_ylabel("loss")
    top.legend()
    top.set_title(title or "Losses")
    if all("D(x)" in r for r in rows):
        bottom.plot(steps, [r["D(x)"] for r in rows], label="D(x)")
        bottom.plot(steps, [r["D(G(z))"] for r in rows], label="D(G(z))")
        bottom.set_ylim(0, 1)
        bottom.legend()
    bottom.set_ylabel("D output")
    bottom.set_xlabel("step")
    _save_figure(fig, path)
    return True


def pick_evenly(items: list, count: int) -> list:
    """Up to ``count`` items spread evenly from first to last (epochs 0/50/100/150 of 150)."""
    if len(items) <= count:
        return list(items)
    if count == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def save_progress_strip(grids: list[tuple[str, Path]], path: Path, *, panels: int = 5) -> bool:
    """Side by side, up to ``panels`` sample pictures picked evenly from ``grids`` (label, PNG path),
    each titled with its label, like the conditional GAN tutorial's epoch 0/50/100/150 pictures (docs/background.md).
    False when none."""
    chosen = pick_evenly([(label, Path(p)) for label, p in grids if Path(p).is_file()], panels)
    if not chosen:
        return False
    plt = _pyplot()
    import matplotlib.image as mpimg

    fig, axes = plt.subplots(1, len(chosen), figsize=(3.2 * len(chosen), 3.5), dpi=100, squeeze=False)
    for ax, (label, picture) in zip(axes[0], chosen):
        ax.imshow(mpimg.imread(picture), cmap="gray")
        ax.set_title(label)
        ax.axis("off")
    _save_figure(fig, path)
    return True
