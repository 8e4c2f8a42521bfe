"""Checkpoints: tensors and plain data only, written atomically, loaded safely.

A checkpoint is a dict of state dicts, counters, the resolved config and the
model description needed to rebuild the generator without the data set (so
``ganframe sample`` works anywhere the generator's plugin is installed).

Writing goes to a temporary file in the same folder, is flushed and fsynced,
then atomically renamed over the target, so a killed process never leaves a
half-written checkpoint under a real name (at worst a hidden ``.*.tmp``
file, which nothing reads). Loading uses ``torch.load(weights_only=True)``,
which refuses to run pickled code; a file that still fails to load (a disk
error, a copy cut short) is reported by name, and :func:`newest_readable`
falls back to the previous checkpoint.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganframe.train import rng
from ganframe.errors import UsageError, exception_gist

FORMAT_KEY = "ganframe_checkpoint"
FORMAT_VERSION = 1


class CheckpointError(UsageError):
    """A checkpoint is missing, unreadable, corrupt or not a ganframe checkpoint."""


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file_object)`` on a temp file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _default_file_mode())  # mkstemp's 0600 would hide run files from other users
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 minus the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {FORMAT_KEY: FORMAT_VERSION, **payload}
    atomic_write(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and sanity-check a checkpoint; every failure is one clear :class:`CheckpointError`."""
    path = Path(path)
    if path.is_dir():
        path = latest_checkpoint(path)
    if not path.exists():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} is not a file.")
    data = read_verified(path)
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"Checkpoint {path} could not be read ({exception_gist(exc)[:200]}); it may be truncated, corrupt, "
            "or not a ganframe checkpoint."
        ) from None
    if not isinstance(payload, dict) or payload.get(FORMAT_KEY) is None:
        raise CheckpointError(f"{path} is not a ganframe checkpoint (it has no '{FORMAT_KEY}' marker).")
    if payload[FORMAT_KEY] > FORMAT_VERSION:
        raise CheckpointError(
            f"Checkpoint {path} has format version {payload[FORMAT_KEY]}, newer than this ganframe "
            f"understands ({FORMAT_VERSION}); upgrade ganframe."
        )
    payload["path"] = str(path)
    return payload


def read_verified(path: Path) -> bytes:
    """The file's bytes, read once, after verifying the CRC-32 of every record of
    ``torch.save``'s zip container.

    ``torch.load`` notices a truncated file but not flipped bytes inside a
    tensor (it would load wrong weights silently); the container's own
    checksums catch those, at several GB/s. Checking and loading the same bytes
    reads the file from disk once.
    """
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"Checkpoint {path} is truncated or corrupt ({exc}), or not a checkpoint at all."
        ) from None
    if bad is not None:
        raise CheckpointError(f"Checkpoint {path} is corrupt: its record '{bad}' fails its checksum.")
    return data


def checkpoint_files(folder: Path) -> list[Path]:
    """Checkpoint files of a run (``folder`` is the run or its ``checkpoints/``), oldest first."""
    folder = Path(folder)
    if (folder / "checkpoints").is_dir():
        folder = folder / "checkpoints"
    return sorted(folder.glob("*.pt"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def newest_readable(
    folder: Path, map_location: str | torch.device = "cpu"
) -> tuple[dict[str, Any] | None, list[str]]:
    """The newest checkpoint of a run that loads, and one line per newer one that did not.

    ``(None, [])`` when the run has no checkpoint; a :class:`CheckpointError`
    when it has some and none loads.
    """
    skipped: list[str] = []
    files = checkpoint_files(folder)
    for path in reversed(files):
        try:
            return load_checkpoint(path, map_location), skipped
        except CheckpointError as exc:
            skipped.append(exc.message)
    if files:
        raise CheckpointError(f"No checkpoint of {folder} can be read: " + " ".join(skipped))
    return None, skipped


def latest_checkpoint(folder: Path) -> Path:
    files = checkpoint_files(folder)
    if not files:
        raise CheckpointError(f"No checkpoint (*.pt) found in {folder} or {Path(folder) / 'checkpoints'}.")
    return files[-1]


def model_description(state) -> dict[str, Any]:
    """The networks and data a run built: enough to rebuild G without the data set, and to
    check that a resumed run builds the same ones."""
    spec = state.model_spec
    return {
        **state.component_names,  # generator, discriminator, loss, dataset
        "sample_shape": list(spec.sample_shape),
        "num_classes": spec.num_classes,
        "latent_dim": spec.latent_dim,
        "g_conditional": state.g_conditional,
        "d_conditional": state.d_conditional,
        "class_names": list(getattr(state.dataset, "class_names", None) or []),
        "model_options": spec.options.as_dict(),
    }


def state_payload(state) -> dict[str, Any]:
    """Everything needed to sample from, or resume, a run at ``state``'s position (with
    ``generator_ema``, the average of G's weights, when the run keeps one)."""
    average = {"generator_ema": state.g_average.state_dict()} if state.g_average is not None else {}
    return {
        "config": state.config.to_dict(),
        "model": model_description(state),
        "generator": state.generator.state_dict(),
        **average,
        "discriminator": state.discriminator.state_dict(),
        "g_optimizer": state.g_optimizer.state_dict(),
        "d_optimizer": state.d_optimizer.state_dict(),
        "step": state.step,
        "epoch": state.epoch,
        "batch_in_epoch": state.batch_in_epoch,
        "steps_per_epoch": state.steps_per_epoch,
        "dataset_size": len(state.dataset),
        "world_size": state.world_size,
        "nonfinite_skipped": state.nonfinite_skipped,
        # the step's schedule counters (updates per phase and regulariser), restored on resume
        **({"train_step": state.train_step.state_dict()} if state.train_step is not None else {}),
        "history": list(state.history),
        "epoch_seconds": list(state.epoch_seconds),
        # at the training position (see ganframe.train.rng); "ranks" holds every rank's in a distributed run
        "rng": state.rng_snapshot if state.rng_snapshot is not None else rng.capture(state.device),
    }
