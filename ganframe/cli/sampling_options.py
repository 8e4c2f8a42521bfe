"""Options ``ganframe sample`` and ``ganframe eval`` share: how to draw from a checkpoint's
generator (its mode and which weights) and on which device; checked before torch loads."""

from __future__ import annotations

from typing import Optional

import typer

from ganframe.config import DEVICES, SAMPLE_MODES, WEIGHTS, check_choice

MODE = typer.Option(None, "--mode", help="Generator mode: eval or train (default: the run's --sample-mode).")
WEIGHTS_OPTION = typer.Option(
    "auto",
    "--weights",
    help="ema (the average of G's weights, --g-ema), trained (the last weights), or auto (ema when kept).",
)


def check_sampling_options(mode: Optional[str], weights: str, device: str) -> None:
    """One clear error for a bad ``--mode``, ``--weights`` or ``--device``."""
    if mode is not None:
        check_choice("--mode", mode, SAMPLE_MODES)
    check_choice("--weights", weights, WEIGHTS)
    check_choice("--device", device, DEVICES)
