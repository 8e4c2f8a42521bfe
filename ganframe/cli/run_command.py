"""``ganframe run``: train a GAN from plugins picked by name."""

from __future__ import annotations

from typing import Optional

import typer

from ganframe.cli.errors import user_errors
from ganframe.config import DATA_PATHS, DEVICES, OPTIMIZERS, PRECISIONS, SAMPLE_MODES, RunConfig, parse_key_values

_MODELS = "Model: a generator + discriminator pair registered under one name (mlp, cgan, mlp-small, batchnorm, ...)."


@user_errors
def run(
    model: str = typer.Option("mlp", "--model", "-m", help=_MODELS),
    generator: Optional[str] = typer.Option(None, "--generator", help="Override the model's generator."),
    discriminator: Optional[str] = typer.Option(None, "--discriminator", help="Override the model's discriminator."),
    loss: str = typer.Option("bce", "--loss", "-l", help="Adversarial loss: bce, bce-smooth, minimax, ..."),
    smooth: Optional[float] = typer.Option(
        None, "--smooth", help="Real target for D with --loss bce-smooth (one-sided label smoothing; default 0.9)."
    ),
    dataset: str = typer.Option("mnist", "--dataset", "-d", help="Data set: mnist, fashion-mnist, ring, ..."),
    data_root: Optional[str] = typer.Option(
        None, "--data-root", help="Folder holding data sets (default: $GANFRAME_DATA, else a per-user cache)."
    ),
    epochs: int = typer.Option(20, "--epochs", "-e", min=1, help="Number of epochs (the total, also on resume)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stop after this many steps (smoke runs)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1, help="Batch size (default: the model's, else 64)."),
    latent_dim: Optional[int] = typer.Option(None, "--latent-dim", min=1, help="Noise size (default: the model's, else 100)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate for both networks (default: the model's; mlp/cgan 5e-4, else 2e-4 as in the documents)."),
    beta1: Optional[float] = typer.Option(None, "--beta1", help="Adam beta1 (default: the model's; mlp/cgan 0.5, else 0.9 as in the documents)."),
    beta2: Optional[float] = typer.Option(None, "--beta2", help="Adam beta2 (default 0.999)."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help=f"One of {', '.join(OPTIMIZERS)} (default adam)."),
    momentum: float = typer.Option(0.0, "--momentum", help="Momentum for --optimizer sgd."),
    device: str = typer.Option("auto", "--device", help=f"One of {', '.join(DEVICES)}."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; the same seed repeats a CPU run exactly (default: random, recorded)."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Run directory (default runs/<time>-<model>-<loss>)."),
    log_every: int = typer.Option(50, "--log-every", min=1, help="Read metrics from the device every N steps."),
    sample_mode: str = typer.Option("eval", "--sample-mode", help=f"Generator mode for sample grids: {', '.join(SAMPLE_MODES)}."),
    data_path: str = typer.Option("auto", "--data-path", help=f"Batching: {', '.join(DATA_PATHS)} (device: whole data set on the device)."),
    precision: str = typer.Option("fp32", "--precision", help=f"One of {', '.join(PRECISIONS)} (bf16: autocast)."),
    keep_checkpoints: int = typer.Option(0, "--keep-checkpoints", min=0, help="Keep only the newest N checkpoints (0: all)."),
    logger: Optional[list[str]] = typer.Option(None, "--logger", help="Enable a logger plugin (repeatable): tensorboard, ..."),
    eval_every: Optional[int] = typer.Option(
        None, "--eval-every", help="Every K epochs (and after the last), log quality figures as `ganframe eval` does."
    ),
    eval_samples: int = typer.Option(2000, "--eval-samples", help="Samples per --eval-every evaluation."),
    loss_option: Optional[list[str]] = typer.Option(None, "--loss-option", help="KEY=VALUE passed to the loss (repeatable)."),
    model_option: Optional[list[str]] = typer.Option(None, "--model-option", help="KEY=VALUE passed to G and D (repeatable)."),
    dataset_option: Optional[list[str]] = typer.Option(None, "--dataset-option", help="KEY=VALUE passed to the data set (repeatable)."),
) -> None:
    """Train a GAN; writes config, sample grids, metrics, a losses plot and checkpoints to the run directory."""
    loss_options = parse_key_values(loss_option, "--loss-option")
    if smooth is not None:
        loss_options["smooth"] = str(smooth)
    config = RunConfig(
        model=model, generator=generator, discriminator=discriminator, loss=loss, dataset=dataset,
        data_root=data_root, epochs=epochs, max_steps=max_steps, batch_size=batch_size, latent_dim=latent_dim,
        lr=lr, beta1=beta1, beta2=beta2, optimizer=optimizer, momentum=momentum, device=device, seed=seed,
        out=out, log_every=log_every, sample_mode=sample_mode, data_path=data_path, precision=precision,
        keep_checkpoints=keep_checkpoints, loggers=list(logger or []), eval_every=eval_every,
        eval_samples=eval_samples, loss_options=loss_options,
        model_options=parse_key_values(model_option, "--model-option"),
        dataset_options=parse_key_values(dataset_option, "--dataset-option"),
    )
    from ganframe.config import validate
    from ganframe.plugins import get_plugins

    validate(config)  # before importing torch: bad values fail fast
    plugins = get_plugins()
    from ganframe.runner import train  # imports torch

    state = train(config, plugins)
    typer.echo(f"Run directory: {state.run_dir} (stopped: {state.stop_reason}, {state.step} steps)")
