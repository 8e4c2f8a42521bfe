"""The checkpoint: one typed record of a run's position, saved atomically and loaded safely.

:class:`Checkpoint` is the only code that knows a checkpoint file's layout.
Training writes one (:meth:`Checkpoint.of` a run state, then
:meth:`Checkpoint.save`); ``ganframe run --resume``, ``ganframe sample`` and
``ganframe eval`` read one (:meth:`Checkpoint.load`) and use its attributes.
It holds the state dicts, counters, RNG states, the resolved config, and the
model description needed to rebuild the generator without the data set (so
``ganframe sample`` works anywhere the generator's plugin is installed).

On disk it is ``torch.save`` of a plain dict: one key per field (the model
description a nested dict, fields holding ``None`` left out) and the marker
``"ganframe_checkpoint": FORMAT_VERSION``. Only tensors, numbers, strings,
lists and dicts, because loading uses ``torch.load(weights_only=True)``,
which refuses to run pickled code. Before that, :func:`read_verified`
checks the CRC-32 of every record, so flipped bytes inside a tensor are an
error rather than wrong weights; a file that fails either check is reported
by name, and :func:`newest_readable` falls back to the previous checkpoint.
Saving goes through :func:`ganframe.files.atomic_write`, so a killed process
never leaves a half-written checkpoint under a real name.

Changing the format
-------------------
- **An optional field** (a run id, a plugin's state): add it to
  :class:`Checkpoint` with a default, the value a file without it means.
  Older files load with the default; older ganframe versions ignore keys they
  do not know, so the version stays.
- **A rename, a new required field, a changed meaning**: bump
  :data:`FORMAT_VERSION` and add to :data:`UPGRADES` the function turning a
  dict of the previous version into one of the new; files of every older
  version then load through the chain. tests/test_checkpoint.py keeps a
  version-1 file, exactly as ganframe 0.2 wrote it, loading.
"""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganframe.errors import UsageError, exception_gist
from ganframe.files import atomic_write
from ganframe.plugin.specs import ModelSpec, Options
from ganframe.train import rng as random_states

FORMAT_KEY = "ganframe_checkpoint"
#: the on-disk layout's version; 1: ganframe 0.1 and 0.2
FORMAT_VERSION = 1
#: version N's on-disk dict -> version N + 1's (none yet: no layout has replaced version 1)
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class CheckpointError(UsageError):
    """A checkpoint is missing, unreadable, corrupt or not a ganframe checkpoint."""


@dataclass
class ModelDescription:
    """The networks and data a run built: enough to rebuild G without the data set, and to
    check that a resumed run builds the same ones."""

    #: kind -> qualified component name: generator, discriminator, loss, dataset
    components: dict[str, str]
    sample_shape: tuple[int, ...]
    num_classes: int
    latent_dim: int
    g_conditional: bool
    d_conditional: bool
    class_names: list[str] = field(default_factory=list)
    #: the --model-option values both networks were built with
    model_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, state) -> ModelDescription:
        spec = state.model_spec
        return cls(
            components=dict(state.component_names),
            sample_shape=tuple(spec.sample_shape),
            num_classes=spec.num_classes,
            latent_dim=spec.latent_dim,
            g_conditional=state.g_conditional,
            d_conditional=state.d_conditional,
            class_names=list(getattr(state.dataset, "class_names", None) or []),
            model_options=spec.options.as_dict(),
        )

    def identity(self) -> dict[str, Any]:
        """What must be the same for a run to resume from this checkpoint."""
        return {
            **self.components,
            "sample_shape": self.sample_shape,
            "num_classes": self.num_classes,
            "latent_dim": self.latent_dim,
        }

    def generator_spec(self) -> ModelSpec:
        """The spec the generator was built from."""
        options = Options(self.model_options, owner="model")
        return ModelSpec(self.sample_shape, self.num_classes, self.latent_dim, self.g_conditional, options)

    def to_dict(self) -> dict[str, Any]:
        # the component names sit beside the other keys (the layout of version 1)
        return {
            **self.components,
            "sample_shape": list(self.sample_shape),
            "num_classes": self.num_classes,
            "latent_dim": self.latent_dim,
            "g_conditional": self.g_conditional,
            "d_conditional": self.d_conditional,
            "class_names": list(self.class_names),
            "model_options": dict(self.model_options),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelDescription:
        """Raises KeyError, TypeError or ValueError for a description that is incomplete or malformed."""
        own = {f.name for f in dataclasses.fields(cls)}
        return cls(
            components={key: value for key, value in raw.items() if key not in own and isinstance(value, str)},
            sample_shape=tuple(int(n) for n in raw["sample_shape"]),
            num_classes=int(raw["num_classes"]),
            latent_dim=int(raw["latent_dim"]),
            g_conditional=bool(raw["g_conditional"]),
            d_conditional=bool(raw["d_conditional"]),
            class_names=list(raw.get("class_names") or []),
            model_options=dict(raw.get("model_options") or {}),
        )


@dataclass
class Checkpoint:
    """Everything needed to sample from, or resume, a run at one position."""

    #: the resolved run config (``RunConfig.to_dict()``)
    config: dict[str, Any]
    model: ModelDescription
    # state dicts
    generator: dict[str, Any]
    discriminator: dict[str, Any]
    g_optimizer: dict[str, Any]
    d_optimizer: dict[str, Any]
    #: steps completed (global), epochs completed, steps completed in the current epoch
    step: int
    epoch: int
    batch_in_epoch: int
    # -- optional: each default is what a file without the key means --------------------
    #: the run this checkpoint belongs to (``--resume`` takes only its own run's); None: written
    #: before runs had ids
    run_id: str | None = None
    #: the average of G's weights (``WeightAverage.state_dict()``), when the run keeps one
    generator_ema: dict[str, Any] | None = None
    #: the data order's length and the data set's size, checked on resume (None: not recorded)
    steps_per_epoch: int | None = None
    dataset_size: int | None = None
    world_size: int = 1
    nonfinite_skipped: int = 0
    #: the training step's own state (its schedule counters: updates per phase and regulariser);
    #: None: written before steps were plugins, the counters are recounted on resume
    train_step: dict[str, Any] | None = None
    #: the metrics rows so far, and each epoch's duration
    history: list[dict[str, Any]] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    #: RNG states at the training position (see ganframe.train.rng); "ranks" holds every
    #: rank's in a distributed run; None: not recorded, noise continues from a fresh seed
    rng: dict[str, Any] | None = None
    #: the file it was loaded from; not stored in the file
    path: Path | None = field(default=None, compare=False, metadata={"stored": False})

    # -- from and to a run -------------------------------------------------------------
    @classmethod
    def of(cls, state) -> Checkpoint:
        """The checkpoint of a :class:`~ganframe.train.state.RunState` at its current position."""
        return cls(
            config=state.config.to_dict(),
            run_id=state.run_id,
            model=ModelDescription.of(state),
            generator=state.generator.state_dict(),
            discriminator=state.discriminator.state_dict(),
            g_optimizer=state.g_optimizer.state_dict(),
            d_optimizer=state.d_optimizer.state_dict(),
            step=state.step,
            epoch=state.epoch,
            batch_in_epoch=state.batch_in_epoch,
            generator_ema=state.g_average.state_dict() if state.g_average is not None else None,
            steps_per_epoch=state.steps_per_epoch,
            dataset_size=len(state.dataset),
            world_size=state.world_size,
            nonfinite_skipped=state.nonfinite_skipped,
            train_step=state.train_step.state_dict() if state.train_step is not None else None,
            history=list(state.history),
            epoch_seconds=list(state.epoch_seconds),
            rng=state.rng_snapshot if state.rng_snapshot is not None else random_states.capture(state.device),
        )

    def generator_weights(self, *, average: bool) -> dict[str, Any]:
        """G's state dict: the average of its weights (``average``, when kept) or the trained ones."""
        if average and self.generator_ema is not None:
            return self.generator_ema["network"]
        return self.generator

    # -- from and to a file --------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the checkpoint to ``path`` atomically."""
        document = self.to_dict()
        atomic_write(Path(path), lambda handle: torch.save(document, handle))

    @classmethod
    def load(cls, path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> Checkpoint:
        """Load a checkpoint file (or a run directory's newest); every failure is one clear
        :class:`CheckpointError` naming the file."""
        path = Path(path)
        if path.is_dir():
            path = latest_checkpoint(path)
        if not path.exists():
            raise CheckpointError(f"Checkpoint {path} does not exist.")
        if not path.is_file():
            raise CheckpointError(f"Checkpoint {path} is not a file.")
        data = read_verified(path)
        try:
            raw = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
        except Exception as exc:
            raise CheckpointError(
                f"Checkpoint {path} could not be read ({exception_gist(exc)[:200]}); it may be truncated, corrupt, "
                "or not a ganframe checkpoint."
            ) from None
        return cls.from_dict(raw, path)

    def to_dict(self) -> dict[str, Any]:
        """The on-disk form (see the module docstring)."""
        document: dict[str, Any] = {FORMAT_KEY: FORMAT_VERSION}
        for name in _stored_fields():
            value = getattr(self, name)
            if value is not None:
                document[name] = value.to_dict() if isinstance(value, ModelDescription) else value
        return document

    @classmethod
    def from_dict(cls, raw: Any, path: str | os.PathLike[str] | None = None) -> Checkpoint:
        """The checkpoint a loaded on-disk dict of any known version holds."""
        where = f"Checkpoint {path}" if path is not None else "The checkpoint"
        if not isinstance(raw, dict) or raw.get(FORMAT_KEY) is None:
            what = path if path is not None else "The data"
            raise CheckpointError(f"{what} is not a ganframe checkpoint (it has no '{FORMAT_KEY}' marker).")
        raw = _upgrade(raw, where)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name in _stored_fields()}
        required = [name for name, f in fields.items() if f.default is f.default_factory is dataclasses.MISSING]
        missing = [name for name in required if raw.get(name) is None]
        if missing:
            raise CheckpointError(
                f"{where} lacks {', '.join(missing)}; it was not written by a ganframe training run, or only partly."
            )
        values = {name: raw[name] for name in fields if raw.get(name) is not None}
        if not isinstance(values["config"], dict):
            raise CheckpointError(f"{where} holds no run config (its 'config' is a {type(values['config']).__name__}).")
        try:
            values["model"] = ModelDescription.from_dict(values["model"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{where} lacks the model description ({exc!r}).") from None
        return cls(**values, path=Path(path) if path is not None else None)


def _stored_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Checkpoint) if f.metadata.get("stored", True))


def _upgrade(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """``raw`` brought to :data:`FORMAT_VERSION` through :data:`UPGRADES`."""
    version = raw[FORMAT_KEY]
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{where} has format version {version!r}, which no ganframe wrote.")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{where} has format version {version}, newer than this ganframe understands ({FORMAT_VERSION}); "
            "upgrade ganframe."
        )
    while version < FORMAT_VERSION:
        raw = {**UPGRADES[version](raw), FORMAT_KEY: version + 1}
        version += 1
    return raw


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


# -- the checkpoints of a run -------------------------------------------------------------
def checkpoint_files(folder: Path) -> list[Path]:
    """Checkpoint files of a run (``folder`` is the run or its ``checkpoints/``), oldest first."""
    folder = Path(folder)
    if (folder / "checkpoints").is_dir():
        folder = folder / "checkpoints"
    return sorted(folder.glob("*.pt"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def readable_newest_first(
    files: list[Path], skipped: list[str], map_location: str | torch.device = "cpu"
) -> Iterator[Checkpoint]:
    """Each of a run's checkpoint ``files`` (:func:`checkpoint_files`) that loads, newest first;
    one line appended to ``skipped`` per file that does not. The one walk behind
    :func:`newest_readable`, :func:`newest_of_run` and ``--resume``'s choice."""
    for path in reversed(files):
        try:
            yield Checkpoint.load(path, map_location)
        except CheckpointError as exc:
            skipped.append(exc.message)


def foreign_note(checkpoint: Checkpoint, config_file: Path, run_id: str | None) -> str | None:
    """Why ``checkpoint`` is passed over as another run's (its run id is not ``run_id``, the one in
    the run's ``config_file``), or ``None`` when it is the run's own."""
    if checkpoint.run_id == run_id:
        return None
    return (
        f"Skipped checkpoint {checkpoint.path}: it belongs to another run (its run id is "
        f"{checkpoint.run_id or 'missing'}, while {config_file} has {run_id or 'none'})."
    )


def newest_readable(folder: Path, map_location: str | torch.device = "cpu") -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint of a run that loads, and one line per newer one that did not.

    ``(None, [])`` when the run has no checkpoint; a :class:`CheckpointError`
    when it has some and none loads.
    """
    skipped: list[str] = []
    for checkpoint in readable_newest_first(checkpoint_files(folder), skipped, map_location):
        return checkpoint, skipped
    if skipped:
        raise CheckpointError(f"No checkpoint of {folder} can be read: " + " ".join(skipped))
    return None, skipped


def newest_of_run(run_dir: Path, map_location: str | torch.device = "cpu") -> tuple[Checkpoint, list[str]]:
    """What ``ganframe sample`` / ``eval`` read from a run directory: its newest checkpoint that
    loads and is the run's own (the ``run_id`` in its config.json; any readable one when the run has
    no config.json or no id), and one line per newer file passed over, saying why. A checkpoint
    copied in from another run would otherwise be scored as this run's. A :class:`CheckpointError`
    when none qualifies."""
    import json

    run_id = None
    config_file = Path(run_dir) / "config.json"
    if config_file.is_file():
        try:
            saved = json.loads(config_file.read_text(encoding="utf-8"))
            run_id = saved.get("run_id") if isinstance(saved, dict) else None
        except (OSError, ValueError):
            run_id = None  # an unreadable config.json: fall back to the newest readable checkpoint
    skipped: list[str] = []
    files = checkpoint_files(run_dir)
    for checkpoint in readable_newest_first(files, skipped, map_location):
        note = foreign_note(checkpoint, config_file, run_id) if run_id is not None else None
        if note is None:
            return checkpoint, skipped
        skipped.append(note)
    if not files:
        raise CheckpointError(f"No checkpoint (*.pt) found in {run_dir} or {Path(run_dir) / 'checkpoints'}.")
    raise CheckpointError(
        f"None of the {len(files)} checkpoint(s) in {run_dir} is this run's own readable one: "
        + " ".join(skipped)
        + " Give a checkpoint file instead of the run directory to read one of them anyway."
    )


def latest_checkpoint(folder: Path) -> Path:
    files = checkpoint_files(folder)
    if not files:
        raise CheckpointError(f"No checkpoint (*.pt) found in {folder} or {Path(folder) / 'checkpoints'}.")
    return files[-1]
