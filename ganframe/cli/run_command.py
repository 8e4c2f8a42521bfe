"""``ganframe run``: train a GAN from plugins picked by name (also each rank of ``torchrun -m ganframe run``)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ganframe.cli.errors import report, user_errors
from ganframe.config import (
    DATA_PATHS, DEVICES, ON_NAN, OPTIMIZERS, PRECISIONS, SAMPLE_MODES, RunConfig, parse_key_values,
    parse_named_key_values,
)

_MODELS = "Model: a generator + discriminator pair registered under one name (mlp, cgan, mlp-small, batchnorm, ...)."


#: command-line parameters whose RunConfig field has another name
_FIELDS = {"logger": "loggers", "loss_option": "loss_options", "smooth": "loss_options",
           "model_option": "model_options", "dataset_option": "dataset_options",
           "step_option": "step_options", "regularizer": "regularizers",
           "regularizer_option": "regularizer_options", "augment_option": "augment_options"}


def explicit_fields(ctx: typer.Context) -> set[str]:
    """RunConfig fields the user set on the command line (or through the environment)."""
    def given(name: str) -> bool:  # click's ParameterSource, by name (Typer vendors its own click)
        source = ctx.get_parameter_source(name)
        return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")

    return {_FIELDS.get(name, name) for name in ctx.params if given(name)} - {"resume"}


@user_errors
def run(
    ctx: typer.Context,
    model: str = typer.Option("mlp", "--model", "-m", help=_MODELS),
    generator: Optional[str] = typer.Option(None, "--generator", help="Override the model's generator."),
    discriminator: Optional[str] = typer.Option(None, "--discriminator", help="Override the model's discriminator."),
    loss: Optional[str] = typer.Option(
        None, "--loss", "-l", help="Adversarial loss: bce, bce-smooth, minimax, ... (default: the model's; mlp bce-smooth, else bce)."
    ),
    smooth: Optional[float] = typer.Option(
        None, "--smooth", help="Real target for D with --loss bce-smooth (one-sided label smoothing; default 0.9)."
    ),
    dataset: str = typer.Option("mnist", "--dataset", "-d", help="Data set: mnist, fashion-mnist, ring, ..."),
    data_root: Optional[str] = typer.Option(
        None, "--data-root", help="Folder holding data sets (default: $GANFRAME_DATA, else a per-user cache)."
    ),
    epochs: int = typer.Option(20, "--epochs", "-e", help="Number of epochs (the total, also on resume)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop at this step, counted from the run's start (smoke runs; not kept on --resume)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Batch size per step (default: the model's, else 64); under torchrun the global batch, split over the processes."),
    latent_dim: Optional[int] = typer.Option(None, "--latent-dim", help="Noise size (default: the model's, else 100)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate for both networks (default: the model's; mlp/cgan/mlp-small 5e-4, else 2e-4 as in the documents)."),
    beta1: Optional[float] = typer.Option(None, "--beta1", help="Adam beta1 (default: the model's; mlp/cgan/mlp-small 0.5, else 0.9 as in the documents)."),
    beta2: Optional[float] = typer.Option(None, "--beta2", help="Adam beta2 (default 0.999)."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help=f"One of {', '.join(OPTIMIZERS)} (default adam)."),
    momentum: float = typer.Option(0.0, "--momentum", help="Momentum for --optimizer sgd."),
    g_ema: Optional[float] = typer.Option(
        None, "--g-ema", metavar="DECAY",
        help="Draw samples (grids, sample, eval) from an exponential moving average of G's weights with this decay; "
        "0 turns it off (default: the model's; cgan 0.999, else 0 as in the documents).",
    ),
    device: str = typer.Option("auto", "--device", help=f"One of {', '.join(DEVICES)}."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; the same seed repeats a CPU run exactly (default: random, recorded)."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Run directory (default runs/<time>-<model>-<loss>)."),
    log_every: int = typer.Option(50, "--log-every", help="Read metrics from the device every N steps."),
    sample_mode: str = typer.Option("eval", "--sample-mode", help=f"Generator mode for sample grids: {', '.join(SAMPLE_MODES)}."),
    data_path: str = typer.Option("auto", "--data-path", help=f"Batching: {', '.join(DATA_PATHS)} (device: whole data set on the device)."),
    precision: str = typer.Option("fp32", "--precision", help=f"One of {', '.join(PRECISIONS)} (bf16: autocast on CPU or CUDA)."),
    fast_path: bool = typer.Option(
        True, "--fast-path/--plain-path",
        help="--plain-path runs the documents' loop (DataLoader, default Adam, D weight gradients in the G phase) for comparison.",
    ),
    compile_networks: bool = typer.Option(False, "--compile", help="torch.compile G and D (meant for CUDA)."),
    cuda_graph: bool = typer.Option(False, "--cuda-graph", help="Capture the whole D+G step in one CUDA graph (CUDA only)."),
    keep_checkpoints: int = typer.Option(0, "--keep-checkpoints", help="Keep only the newest N checkpoints (0: all)."),
    resume: Optional[str] = typer.Option(
        None, "--resume", metavar="RUN_DIR",
        help="Continue the run in RUN_DIR from its newest readable checkpoint (weights, optimizers, counters, RNG, "
        "data position). --epochs/--max-steps stay totals; only --epochs, --max-steps, --log-every, "
        "--keep-checkpoints, --device, --data-root, --data-path, --logger, --sample-mode, --on-nan, "
        "--sync-batchnorm, --eval-every and --eval-samples may differ from the run.",
    ),
    on_nan: str = typer.Option(
        "stop", "--on-nan",
        help=f"A NaN/Inf loss: {' or '.join(ON_NAN)}. stop: end the run (exit 1), keeping the last good checkpoint; "
        "skip: skip that update and count it (costs a host sync per update).",
    ),
    sync_batchnorm: bool = typer.Option(
        False, "--sync-batchnorm",
        help="Distributed CUDA runs: BatchNorm statistics over the global batch (SyncBatchNorm).",
    ),
    logger: Optional[list[str]] = typer.Option(None, "--logger", help="Enable a logger plugin (repeatable): tensorboard, ..."),
    eval_every: Optional[int] = typer.Option(
        None, "--eval-every", help="Every K epochs (and after the last), log quality figures as `ganframe eval` does."
    ),
    eval_samples: int = typer.Option(2000, "--eval-samples", help="Samples per --eval-every evaluation."),
    loss_option: Optional[list[str]] = typer.Option(None, "--loss-option", help="KEY=VALUE passed to the loss (repeatable)."),
    model_option: Optional[list[str]] = typer.Option(None, "--model-option", help="KEY=VALUE passed to G and D (repeatable)."),
    dataset_option: Optional[list[str]] = typer.Option(None, "--dataset-option", help="KEY=VALUE passed to the data set (repeatable)."),
    step: Optional[str] = typer.Option(
        None, "--step", help="Training step: two-phase, n-critic, ... (default: the loss's or model's; else two-phase)."
    ),
    step_option: Optional[list[str]] = typer.Option(None, "--step-option", help="KEY=VALUE passed to the step, e.g. n=5 (repeatable)."),
    regularizer: Optional[list[str]] = typer.Option(
        None, "--regularizer", help="Add a regulariser to D's or G's loss (repeatable): r1, r2, ..."
    ),
    regularizer_option: Optional[list[str]] = typer.Option(
        None, "--regularizer-option", help="NAME.KEY=VALUE passed to a regulariser, e.g. r1.gamma=5 (repeatable)."
    ),
    augment: Optional[str] = typer.Option(None, "--augment", help="Augment D's real and fake inputs: diffaugment, ..."),
    augment_option: Optional[list[str]] = typer.Option(
        None, "--augment-option", help="KEY=VALUE passed to the augmentation, e.g. policy=translation,cutout (repeatable)."
    ),
) -> None:
    """Train a GAN; writes config, sample grids, metrics, a losses plot and checkpoints to the run directory."""
    loss_options = parse_key_values(loss_option, "--loss-option")
    if smooth is not None:
        loss_options["smooth"] = str(smooth)
    config = RunConfig(
        model=model, generator=generator, discriminator=discriminator, loss=loss, dataset=dataset,
        data_root=data_root, epochs=epochs, max_steps=max_steps, batch_size=batch_size, latent_dim=latent_dim,
        lr=lr, beta1=beta1, beta2=beta2, optimizer=optimizer, momentum=momentum, g_ema=g_ema, device=device, seed=seed,
        out=out, log_every=log_every, sample_mode=sample_mode, data_path=data_path, precision=precision,
        fast_path=fast_path, compile=compile_networks, cuda_graph=cuda_graph,
        keep_checkpoints=keep_checkpoints, on_nan=on_nan, sync_batchnorm=sync_batchnorm,
        loggers=list(logger or []), eval_every=eval_every, eval_samples=eval_samples,
        loss_options=loss_options,
        model_options=parse_key_values(model_option, "--model-option"),
        dataset_options=parse_key_values(dataset_option, "--dataset-option"),
        step=step, step_options=parse_key_values(step_option, "--step-option"),
        regularizers=list(regularizer or []),
        regularizer_options=parse_named_key_values(regularizer_option, "--regularizer-option", list(regularizer or [])),
        augment=augment, augment_options=parse_key_values(augment_option, "--augment-option"),
    )
    from ganframe.config import validate
    from ganframe.plugin.manager import get_plugins

    validate(config)  # before importing torch: bad values fail fast
    plugins = get_plugins()
    from ganframe.run.runner import train  # imports torch

    from ganframe.run.signals import EXIT_CODES, INTERRUPTED_EXIT_CODE

    try:
        state = train(config, plugins, resume_from=resume, explicit=explicit_fields(ctx))
    except KeyboardInterrupt:
        report("interrupted at once; the last checkpoint written is kept (files are replaced atomically).",
               prefix="Interrupted")
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    if not state.is_main_process:
        raise typer.Exit(EXIT_CODES.get(state.stop_reason, 0))
    _summary(state)
    if state.stop_reason in EXIT_CODES:
        raise typer.Exit(EXIT_CODES[state.stop_reason])


def _summary(state) -> None:
    """The closing lines: where the run is; after a signal, its checkpoint and the command that resumes it."""
    from ganframe.run.resume import resume_command

    if state.resumed_from is not None and state.last_checkpoint == state.resumed_from and state.stop_reason == "finished":
        typer.echo(f"Nothing to train: {state.run_dir} already completed its {state.config.epochs} epoch(s); "
                   "pass a larger --epochs to train further.")
    typer.echo(f"Run directory: {state.run_dir} (stopped: {state.stop_reason}, {state.step} steps)")
    if state.stop_reason in ("SIGINT", "SIGTERM"):
        sys.stderr.write(
            f"Stopped by {state.stop_reason} after step {state.step} (epoch {state.current_epoch} of "
            f"{state.config.epochs}). Checkpoint: {state.last_checkpoint}\n"
            f"Resume with: {resume_command(state.run_dir, state.world_size)}\n"
        )
