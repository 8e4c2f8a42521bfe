"""``ganframe run --resume RUN_DIR``: continue a run exactly where it stopped.

The run directory is the source of truth: the newest checkpoint that loads
(falling back past unreadable ones, and saying so) gives the config, the
networks, both optimizers, the step / epoch / position in the epoch's data
order, the metrics history and every process's RNG states; a run killed
before its first checkpoint starts again from step 0 with its
``config.json``. On CPU with the same settings, a resumed run ends with
weights bit-identical to a run that was never interrupted.

Options given with ``--resume`` either may change (:data:`MAY_CHANGE`, declared
with each option in :class:`ganframe.config.RunConfig`: when
and how long to train, where data and devices are, how progress is shown) or
must agree with the run; anything else that differs (model, loss, data set,
batch size, learning rate, seed, ...) is one clear error listing them all.
``--epochs`` and ``--max-steps`` are totals, counted from the run's start;
``--max-steps`` is not inherited, so a run stopped with ``--max-steps``
continues to its ``--epochs`` when resumed without it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganframe.config import RunConfig, may_change_on_resume, option_name
from ganframe.errors import UsageError, exception_gist
from ganframe.run.checkpoint import (
    Checkpoint,
    CheckpointError,
    ModelDescription,
    checkpoint_files,
    foreign_note,
    readable_newest_first,
)
from ganframe.train import rng

#: RunConfig fields an option given with --resume may change (declared on the fields, ganframe.config)
MAY_CHANGE = may_change_on_resume()


@dataclass
class ResumePlan:
    """What to resume: the merged config, the checkpoint (``None``: start again) and notes for the user."""

    config: RunConfig
    checkpoint: Checkpoint | None
    notes: list[str] = field(default_factory=list)
    #: the run's id (from its config.json); None for a run started before runs had ids
    run_id: str | None = None


# -- choosing the checkpoint and the config ---------------------------------------------
def plan(run_dir: str | Path, given: RunConfig, explicit: set[str] | frozenset[str], processes) -> ResumePlan:
    """Pick the checkpoint (rank 0 decides, every rank loads it) and merge the options given."""
    run_dir = Path(run_dir)
    choice = _choose(run_dir) if processes.is_main else None
    path, notes, saved, run_id = processes.from_main(choice[:4] if choice else None)
    checkpoint = None
    if path is not None:
        checkpoint = choice[4] if choice else Checkpoint.load(path)
        saved = checkpoint.config
    config = merge(RunConfig.from_dict(saved), given, explicit, run_dir)
    return ResumePlan(config, checkpoint, notes, run_id)


def _choose(run_dir: Path) -> tuple[str | None, list[str], dict | None, str | None, Checkpoint | None]:
    """``(checkpoint path, notes, config.json, run id, checkpoint)`` for a run directory, on the main process."""
    if run_dir.is_file():
        raise UsageError(
            f"--resume takes a run directory, not a file; {run_dir} is a file. Give the folder the run was written "
            "to (the one holding config.json and checkpoints/); its newest readable checkpoint is used."
        )
    if not run_dir.is_dir():
        raise UsageError(f"--resume {run_dir}: no such run directory; give the folder a run was written to.")
    notes: list[str] = []
    config_file = run_dir / "config.json"
    saved = _read_config(config_file) if config_file.is_file() else None
    checkpoint, skipped = own_newest(run_dir, saved)
    if checkpoint is not None:
        for message in skipped:
            notes.append(f"{message} Resuming from the previous checkpoint, {checkpoint.path}.")
        run_id = saved.get("run_id") if saved is not None else checkpoint.run_id
        return str(checkpoint.path), notes, None, run_id, checkpoint
    if saved is None:
        raise UsageError(
            f"--resume {run_dir}: it has neither a checkpoint nor a config.json, so there is nothing to resume "
            "(the run was stopped before it started); start a new run instead."
        )
    notes.append(f"{run_dir} has no checkpoint yet; training it again from step 0 with its config.json.")
    return None, notes, saved, saved.get("run_id"), None


def _read_config(config_file: Path) -> dict:
    try:
        saved = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--resume {config_file.parent}: {config_file} cannot be read ({exc}).") from None
    if not isinstance(saved, dict):
        raise UsageError(f"--resume {config_file.parent}: {config_file} is not a run's config (not a JSON object).")
    return saved


def own_newest(run_dir: Path, saved: dict | None) -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint that loads and belongs to the run (its ``run_id`` is the one in
    config.json ``saved``), and one line per newer one passed over, saying why.

    A checkpoint copied in from another run is never resumed: it would replace the run's config,
    weights and metrics history with another run's. Checkpoints written before runs had ids have
    none, and are the run's own exactly when its config.json has none either (such a run keeps
    training without an id). Without a config.json the newest readable checkpoint is taken.
    ``(None, [])`` when the run has no checkpoint; an error when it has some and none is usable.
    """
    skipped: list[str] = []
    foreign = nonfinite = 0
    files = checkpoint_files(run_dir)
    from ganframe.train.nonfinite import describe_entries, nonfinite_entries

    for checkpoint in readable_newest_first(files, skipped):
        note = foreign_note(checkpoint, run_dir / "config.json", saved.get("run_id")) if saved is not None else None
        if note is not None:
            foreign += 1
            skipped.append(note)
            continue
        bad = [
            entry
            for name in ("generator", "discriminator", "generator_ema")
            for entry in nonfinite_entries(getattr(checkpoint, name) or {}, name)
        ]
        if bad:  # written before checkpoints were checked: never resumed, never called good
            nonfinite += 1
            skipped.append(
                f"Skipped checkpoint {checkpoint.path}: its weights hold NaN or Inf ({describe_entries(bad)})."
            )
            continue
        return checkpoint, skipped
    if not files:
        return None, skipped
    if not foreign and not nonfinite:
        raise CheckpointError(f"No checkpoint of {run_dir} can be read: " + " ".join(skipped))
    if foreign == len(files):
        raise UsageError(
            f"--resume {run_dir}: none of its {len(files)} checkpoint(s) belongs to this run, so nothing was "
            "resumed and nothing was changed. " + " ".join(skipped) + " Move the other run's checkpoints back "
            "to their own run directory (resume that one instead), or start a new run."
        )
    raise UsageError(
        f"--resume {run_dir}: none of its {len(files)} checkpoint(s) can be resumed, so nothing was changed. "
        + " ".join(skipped)
        + " Start a new run (with a lower --lr if the weights diverged)."
    )


def remove_partial_files(run_dir: Path) -> list[str]:
    """Delete the hidden temp files of atomic writes a killed process left (``.NAME.XXXX.tmp``);
    called once every check has passed, just before training resumes."""
    removed = 0
    for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples"):
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
            leftover.unlink(missing_ok=True)
            removed += 1
    return [f"Removed {removed} partial file(s) a killed run left in {run_dir}."] if removed else []


def merge(saved: RunConfig, given: RunConfig, explicit, run_dir: Path) -> RunConfig:
    """The run's saved config with the options in :data:`MAY_CHANGE` taken from ``given``
    where given explicitly; any other explicit option must agree with the run."""
    config = dataclasses.replace(saved, max_steps=None, out=str(run_dir))
    conflicts = []
    for name in sorted(explicit):
        value = getattr(given, name)
        if name in MAY_CHANGE:
            setattr(config, name, value)
        elif name == "out":
            if Path(value).resolve() != run_dir.resolve():
                conflicts.append(f"--out {value} (a resumed run stays in {run_dir})")
        elif name == "precision" and value == "auto":
            pass  # the run keeps what auto resolved to when it started (recorded as bf16 or fp32)
        elif not _agrees(getattr(saved, name), value):
            conflicts.append(f"{option_name(name)} {_show(value)} (the run has {_show(getattr(saved, name))})")
        elif isinstance(value, dict):
            # keys the run did not record (options a component gained since it was saved) are added
            setattr(config, name, _merged(getattr(saved, name), value))
    if conflicts:
        allowed = ", ".join(option_name(n) for n in MAY_CHANGE)
        raise UsageError(
            f"Cannot resume {run_dir} with " + "; ".join(conflicts) + ". A resumed run keeps the model, loss, "
            f"data set and training settings it started with; options that may change on resume are {allowed}. "
            "Start a new run (without --resume) to train with other settings."
        )
    return config


def _merged(saved: dict, given: dict) -> dict:
    """``given`` over ``saved``, nested dicts (``--regularizer-option``'s per-name options) merged too."""
    merged = dict(saved)
    for key, value in given.items():
        merged[key] = (
            _merged(saved[key], value) if isinstance(value, dict) and isinstance(saved.get(key), dict) else value
        )
    return merged


def _agrees(saved: Any, given: Any) -> bool:
    if isinstance(given, dict):  # only keys given and recorded must agree; the run's others are its defaults
        return isinstance(saved, dict) and all(k not in saved or _agrees(saved[k], v) for k, v in given.items())
    if given is None or str(saved) == str(given):
        return True
    try:
        return float(saved) == float(given)
    except (TypeError, ValueError):
        return False


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return str(value)


# -- putting a checkpoint back into a built trainer ----------------------------------------
def restore(trainer, checkpoint: Checkpoint) -> list[str]:
    """Load ``checkpoint`` into ``trainer`` (after its construction, which seeds the RNG); returns notes."""
    state, path = trainer.state, checkpoint.path
    _check_same_run(state, checkpoint)
    for name in ("generator", "discriminator", "g_optimizer", "d_optimizer"):
        try:
            getattr(state, name).load_state_dict(getattr(checkpoint, name))
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(
                f"Checkpoint {path}: its {name} state does not fit this run ({exception_gist(exc, lines=2, limit=300)}). It was trained "
                "with other networks: a different ganframe or plugin version, or model options that changed "
                "defaults since (give the run's old value with --model-option, e.g. projection=false for a cgan "
                "trained before its projection output)."
            ) from None
    notes = _restore_average(state, checkpoint)
    state.step, state.epoch, state.batch_in_epoch = checkpoint.step, checkpoint.epoch, checkpoint.batch_in_epoch
    state.history = list(checkpoint.history)
    state.epoch_seconds = list(checkpoint.epoch_seconds)
    state.nonfinite_skipped = int(checkpoint.nonfinite_skipped)
    _restore_step(state, checkpoint)
    state.last_checkpoint = state.resumed_from = Path(path)
    state.checkpoint_step = state.step
    return notes + _restore_rng(state, checkpoint)


def _restore_step(state, checkpoint: Checkpoint) -> None:
    """The step's schedule counters (which phase runs next: n-critic's G, a lazy regulariser); a
    checkpoint written before steps kept counters ran the same schedule from step 0, so they are
    recounted."""
    if state.train_step is None:
        return
    saved = checkpoint.train_step
    if saved is None:
        state.train_step.schedule.fast_forward(state.step)
        return
    try:
        state.train_step.load_state_dict(saved)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"Checkpoint {checkpoint.path}: its train_step state does not fit this run ({exception_gist(exc)})."
        ) from None


def _restore_average(state, checkpoint: Checkpoint) -> list[str]:
    """The average of G's weights, or a note when the checkpoint holds none (written before the
    run kept one): the average then starts from the restored weights."""
    if state.g_average is None:
        return []
    saved = checkpoint.generator_ema
    if saved is None:
        return [
            f"Checkpoint {checkpoint.path} holds no average of G's weights; --g-ema averages from the restored weights on."
        ]
    try:
        state.g_average.load_state_dict(saved)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(
            f"Checkpoint {checkpoint.path}: its generator_ema state does not fit this run ({exception_gist(exc, lines=2, limit=300)})."
        ) from None
    return []


def _check_same_run(state, checkpoint: Checkpoint) -> None:
    """The checkpoint must describe the networks and data this run built."""
    path, saved = checkpoint.path, checkpoint.model.identity()
    built = ModelDescription.of(state).identity()
    differ = [f"{k} {saved.get(k)!r} in the checkpoint but {v!r} now" for k, v in built.items() if saved.get(k) != v]
    if differ:
        raise CheckpointError(
            f"Checkpoint {path} was trained with a different model or data set: "
            + "; ".join(differ)
            + ". Resume with the plugins and data the run was trained with."
        )
    saved_steps = checkpoint.steps_per_epoch if checkpoint.steps_per_epoch is not None else state.steps_per_epoch
    if saved_steps != state.steps_per_epoch:
        size = checkpoint.dataset_size if checkpoint.dataset_size is not None else "?"
        raise CheckpointError(
            f"Checkpoint {path} was trained with {size} samples, {saved_steps} steps per "
            f"epoch; the data set now has {len(state.dataset)} samples, {state.steps_per_epoch} steps per epoch, so "
            "the position in the data order cannot be restored. Resume with the data set the run was trained on."
        )


def _restore_rng(state, checkpoint: Checkpoint) -> list[str]:
    saved, world_size = checkpoint.rng, int(checkpoint.world_size)
    if saved is None:
        return [f"Checkpoint {checkpoint.path} holds no RNG states; noise continues from a fresh seed."]
    if world_size == state.world_size:
        rng.restore(saved["ranks"][state.rank] if world_size > 1 else saved)
        return []
    torch.manual_seed((state.config.seed + state.rank + 1_000_003 * state.step) % 2**64)
    return [
        f"The run was trained with {world_size} process(es) and resumes with {state.world_size}: it continues "
        "from the same weights and data position, but with fresh noise streams (not bit-identical to an "
        "uninterrupted run)."
    ]


def check_target(state, config: RunConfig) -> None:
    """``--epochs`` / ``--max-steps`` count from the run's start and cannot lie before the checkpoint."""
    if config.epochs * state.steps_per_epoch < state.step:
        raise UsageError(
            f"--epochs {config.epochs} is fewer than the run has already trained (step {state.step}, "
            f"{state.step / state.steps_per_epoch:.2f} epochs); --epochs is the total, so give at least "
            f"{-(-state.step // state.steps_per_epoch)}."
        )
    if config.max_steps is not None and config.max_steps < state.step:
        raise UsageError(
            f"--max-steps {config.max_steps} is before the checkpoint (step {state.step}); --max-steps counts "
            "steps from the run's start."
        )


def resume_command(run_dir: str | Path, world_size: int = 1) -> str:
    """The command that continues ``run_dir`` (torchrun's form for a distributed run)."""
    tail = f"-m ganframe run --resume {shlex.quote(str(run_dir))}"
    if world_size <= 1:
        return f"ganframe run --resume {shlex.quote(str(run_dir))}"
    local = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    if local == world_size:
        return f"torchrun --nproc-per-node {world_size} {tail}"
    return f"torchrun <the same --nnodes/--nproc-per-node/--rdzv-* options as before> {tail}"
