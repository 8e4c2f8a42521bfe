"""``ganframe run``: train a GAN from plugins picked by name (also each rank of ``torchrun -m ganframe run``)."""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Optional

import typer

from ganframe.cli.errors import report, user_errors
from ganframe.cli.run_options import command, config_from, fields_given


def explicit_fields(ctx: typer.Context) -> set[str]:
    """RunConfig fields the user set on the command line (or through the environment)."""

    def given(name: str) -> bool:  # click's ParameterSource, by name (Typer vendors its own click)
        source = ctx.get_parameter_source(name)
        return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")

    return fields_given(ctx.params, given)


def leaves_cleanly_under_torchrun(command):
    """Decorator: a torchrun worker ends with ``os._exit`` once the command is done.

    By then the run has left the process group in order (a barrier, then
    ``destroy_process_group``; see :meth:`ganframe.train.distributed.Processes.close`) and every
    file and message is written; exiting without the interpreter's teardown means no C++ object
    of torch.distributed (gloo's threads, the store's client) is destroyed during finalization,
    where, on a loaded machine, one could still own a running thread and abort the process
    ("terminate called without an active exception"), turning a finished run into a failed launch.
    One process (no ``WORLD_SIZE``) exits normally."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        if os.environ.get("WORLD_SIZE", "1") in ("", "0", "1"):
            return command(*args, **kwargs)
        try:
            command(*args, **kwargs)
            code = 0
        except typer.Exit as exc:
            code = exc.exit_code
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        logging.shutdown()
        os._exit(code)

    return wrapper


@leaves_cleanly_under_torchrun
@command
@user_errors
def run(ctx: typer.Context, resume: Optional[str] = None, **options) -> None:
    """Train a GAN; writes config, sample grids, metrics, a losses plot and checkpoints to the run directory."""
    config = config_from(options)
    from ganframe.config import validate
    from ganframe.plugin.manager import get_plugins

    validate(config)  # before importing torch: bad values fail fast
    plugins = get_plugins()
    from ganframe.run.runner import train  # imports torch
    from ganframe.run.signals import EXIT_CODES, INTERRUPTED_EXIT_CODE

    try:
        state = train(config, plugins, resume_from=resume, explicit=explicit_fields(ctx))
    except KeyboardInterrupt:
        report(
            "interrupted at once; the last checkpoint written is kept (files are replaced atomically).",
            prefix="Interrupted",
        )
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    if not state.is_main_process:
        raise typer.Exit(EXIT_CODES.get(state.stop_reason, 0))
    _summary(state)
    if state.stop_reason in EXIT_CODES:
        raise typer.Exit(EXIT_CODES[state.stop_reason])


def _summary(state) -> None:
    """The closing lines: where the run is; after a signal, its checkpoint and the command that resumes it."""
    from ganframe.run.resume import resume_command

    if (
        state.resumed_from is not None
        and state.last_checkpoint == state.resumed_from
        and state.stop_reason == "finished"
    ):
        typer.echo(
            f"Nothing to train: {state.run_dir} already completed its {state.config.epochs} epoch(s); "
            "pass a larger --epochs to train further."
        )
    typer.echo(f"Run directory: {state.run_dir} (stopped: {state.stop_reason}, {state.step} steps)")
    if state.stop_reason in ("SIGINT", "SIGTERM"):
        sys.stderr.write(
            f"Stopped by {state.stop_reason} after step {state.step} (epoch {state.current_epoch} of "
            f"{state.config.epochs}). Checkpoint: {state.last_checkpoint}\n"
            f"Resume with: {resume_command(state.run_dir, state.world_size)}\n"
        )
