"""The losses plot written at the end of a run (matplotlib, imported lazily)."""

from __future__ import annotations

from pathlib import Path

from ganframe.checkpoint import atomic_write


def save_losses_plot(history: list[dict[str, float]], path: Path, title: str = "") -> bool:
    """Losses (top) and D(x) / D(G(z)) (bottom) against steps. False when there is nothing to plot."""
    rows = [r for r in history if "d_loss" in r and "g_loss" in r]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.tight_layout()
    try:
        atomic_write(Path(path), lambda handle: fig.savefig(handle, format="png"))
    finally:
        plt.close(fig)
    return True
