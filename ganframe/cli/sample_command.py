"""``ganframe sample``: images from a checkpoint, without the data set."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ganframe.cli.errors import user_errors
from ganframe.cli.sampling_options import MODE, WEIGHTS_OPTION, check_sampling_options
from ganframe.config import check_seed
from ganframe.errors import UsageError

OUTPUT_SUFFIXES = (".png", ".pt")


@user_errors
def sample(
    checkpoint: Path = typer.Argument(
        ..., help="A checkpoint file, or a run directory (its newest checkpoint of its own run)."
    ),
    n: int = typer.Option(100, "--n", "-n", help="Number of samples."),
    digit: Optional[int] = typer.Option(None, "--digit", help="Class to draw (conditional models only)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .png (a grid, 10 per row) or .pt (a tensor dict)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the noise (default: random)."),
    mode: Optional[str] = MODE,
    weights: str = WEIGHTS_OPTION,
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
) -> None:
    """Draw N samples from a trained generator; writes a PNG grid or a .pt dict {images, labels}."""
    if n <= 0:
        raise UsageError(f"--n must be a positive whole number; got {n}.")
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"--out {out} must end in .png (a grid) or .pt (tensors); got '{out.suffix or 'no suffix'}'.")
    check_sampling_options(mode, weights, device)
    check_seed(seed)
    from ganframe.run.disk import check_output_folder

    check_output_folder(out.parent, "--out", shown=out)  # before the generator is loaded
    from ganframe.plugin.manager import get_plugins

    plugins = get_plugins()
    import torch

    from ganframe.files import atomic_write
    from ganframe.outputs.images import save_samples
    from ganframe.run.assemble import resolve_device
    from ganframe.run.sampling import load_generator

    loaded = load_generator(checkpoint, plugins.registry, resolve_device(device), weights=weights)
    for note in loaded.notes:
        typer.echo(f"{note} Using {loaded.path}.", err=True)
    if digit is not None:
        if not loaded.conditional:
            raise UsageError(
                f"--digit needs a conditional model, but {loaded.path} holds an unconditional generator; "
                "leave out --digit, or train a conditional model such as --model cgan."
            )
        if not 0 <= digit < loaded.spec.num_classes:
            raise UsageError(
                f"--digit {digit} is out of range: this model has classes 0 to {loaded.spec.num_classes - 1}."
            )
    images, labels = loaded.sample(n, digit, seed=seed, mode=mode)
    images, labels = images.cpu(), (labels.cpu() if labels is not None else None)
    if out.suffix.lower() == ".pt":
        payload = {"images": images, "labels": labels}
        atomic_write(out, lambda handle: torch.save(payload, handle))
    elif not save_samples(images, out, nrow=10):
        raise UsageError(f"Samples of shape {tuple(images.shape[1:])} have no picture form; use --out FILE.pt.")
    what = f"class {digit}" if digit is not None else ("random classes" if loaded.conditional else "samples")
    typer.echo(f"Wrote {n} {what} to {out}")
