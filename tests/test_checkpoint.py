"""Checkpoint files: atomic under SIGKILL, corrupt or truncated files named, safe loading, and files
written by earlier versions loading through the schema's migration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganframe.run.checkpoint import Checkpoint, CheckpointError, ModelDescription, newest_readable

REPO = Path(__file__).resolve().parents[1]


def tiny(step: int, weights: torch.Tensor | None = None) -> Checkpoint:
    """A small checkpoint holding ``weights`` as G's only tensor and ``step``."""
    model = ModelDescription(
        {"generator": "mlp", "discriminator": "mlp", "loss": "bce", "dataset": "ring"}, (2,), 0, 4, False, False
    )
    weights = torch.arange(100_000, dtype=torch.float32) * step if weights is None else weights
    return Checkpoint(
        config={"model": "mlp"},
        model=model,
        generator={"w": weights},
        discriminator={},
        g_optimizer={},
        d_optimizer={},
        step=step,
        epoch=0,
        batch_in_epoch=step,
    )


# Rewrites one checkpoint over and over, each version's tensors filled with its number,
# and prints the number once that version is completely written.
WRITER = """
import sys, torch
from tests.test_checkpoint import tiny
path = sys.argv[1]
for version in range(1, 10_000):
    tiny(version, torch.full((4_000_000,), float(version))).save(path)
    print(version, flush=True)
"""


def _kill_mid_write(folder: Path, delay: float) -> tuple[int, list[Path]]:
    """Start the writer, SIGKILL it ``delay`` s after a temp file of a later version appears;
    returns the last version it reported complete and the temp files it left."""
    target = folder / "ckpt.pt"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # one complete version exists from here on
        assert first.strip() == "1", "the writer did not start"
        deadline = time.monotonic() + 60
        while not list(folder.glob(".ckpt.pt.*.tmp")):
            assert time.monotonic() < deadline, "no write in progress was seen"
            time.sleep(0.0005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        done = [int(line) for line in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    return max([1, *done]), list(folder.glob(".*.tmp"))


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.015])
def test_a_writer_killed_mid_write_leaves_the_previous_checkpoint_loadable(tmp_path, delay):
    last_reported, leftovers = _kill_mid_write(tmp_path, delay)
    if delay == 0.0:  # killed within a millisecond of the temp file's creation (a write takes 20+ ms)
        assert leftovers, "the kill should have landed mid-write, leaving the temp file"
    checkpoint = Checkpoint.load(tmp_path / "ckpt.pt")
    version = checkpoint.step
    assert version >= last_reported, "a completed version was lost"
    assert torch.equal(checkpoint.generator["w"], torch.full((4_000_000,), float(version))), "a mixed or partial file"
    assert [p.name for p in tmp_path.glob("*.pt")] == ["ckpt.pt"], "temp files must never look like checkpoints"
    assert newest_readable(tmp_path)[0].step == version


def _write(path: Path, step: int) -> None:
    tiny(step).save(path)


def test_a_truncated_checkpoint_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "epoch-0001.pt"
    _write(path, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as info:
        Checkpoint.load(path)
    assert str(path) in info.value.message and "truncated" in info.value.message


def test_flipped_bytes_inside_a_tensor_are_caught_by_the_checksums(tmp_path):
    path = tmp_path / "epoch-0001.pt"
    _write(path, 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the tensor's bytes: torch.load alone would load it silently
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        Checkpoint.load(path)
    assert str(path) in info.value.message and "checksum" in info.value.message


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as info:
        Checkpoint.load(path)
    assert str(path) in info.value.message


def test_newest_readable_falls_back_past_corrupt_files_and_says_which(tmp_path):
    older, newer = tmp_path / "epoch-0001.pt", tmp_path / "epoch-0002.pt"
    _write(older, 10)
    _write(newer, 20)
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))  # make the order by time unambiguous
    newer.write_bytes(newer.read_bytes()[:100])
    checkpoint, skipped = newest_readable(tmp_path)
    assert checkpoint.step == 10 and checkpoint.path == older
    assert len(skipped) == 1 and str(newer) in skipped[0]
    older.write_bytes(b"")
    with pytest.raises(CheckpointError) as info:
        newest_readable(tmp_path)
    assert str(older) in info.value.message and str(newer) in info.value.message


class Arbitrary:
    """Any class: unpickling it would run code of the file's choosing."""


def test_loading_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"ganframe_checkpoint": 1, "object": Arbitrary()}, path)
    with pytest.raises(CheckpointError) as info:
        Checkpoint.load(path)
    assert str(path) in info.value.message


def test_atomic_write_replaces_only_when_complete(tmp_path):
    from ganframe.files import atomic_write

    target = tmp_path / "file.bin"
    atomic_write(target, lambda h: h.write(b"good"))

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"], "no temp file may be left behind"


def test_save_and_load_round_trip_and_missing_file(tmp_path):
    path = tmp_path / "c.pt"
    saved = tiny(5, torch.arange(3.0))
    saved.generator_ema = {"decay": 0.9, "updates": 5, "network": {"w": torch.ones(3)}}
    saved.save(path)
    loaded = Checkpoint.load(path)
    assert torch.equal(loaded.generator["w"], torch.arange(3.0)) and loaded.step == 5 and loaded.path == path
    assert torch.equal(loaded.generator_weights(average=True)["w"], torch.ones(3))
    assert loaded.model == saved.model and loaded.config == {"model": "mlp"}
    assert loaded.world_size == 1 and loaded.history == [] and loaded.rng is None  # defaults round-trip
    with pytest.raises(CheckpointError, match="does not exist"):
        Checkpoint.load(tmp_path / "nope.pt")


def test_latest_checkpoint_of_a_run(tmp_path):
    from ganframe.run.checkpoint import latest_checkpoint

    folder = tmp_path / "run" / "checkpoints"
    for name in ("epoch-0001.pt", "epoch-0002.pt"):
        tiny(1).save(folder / name)
    assert latest_checkpoint(tmp_path / "run").name == "epoch-0002.pt"
    with pytest.raises(CheckpointError, match="No checkpoint"):
        latest_checkpoint(tmp_path)


def test_atomically_written_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path):
    from ganframe.files import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "config.json", lambda handle: handle.write(b"{}"))
    finally:
        os.umask(old)
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o644


# -- files written by earlier versions ------------------------------------------------------
def _v1_document(state) -> dict:
    """The dict ganframe 0.2 (commit e8ede2d) saved, built by its own code, copied here verbatim
    (``model_description`` and ``state_payload`` of its ganframe/run/checkpoint.py, then
    ``save_checkpoint``'s marker): the format files on users' disks have."""
    from ganframe.train import rng

    def model_description(state):
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

    def state_payload(state):
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
            "history": list(state.history),
            "epoch_seconds": list(state.epoch_seconds),
            "rng": state.rng_snapshot if state.rng_snapshot is not None else rng.capture(state.device),
        }

    return {"ganframe_checkpoint": 1, **state_payload(state)}


@pytest.fixture(scope="module")
def trained_state(tmp_path_factory):
    """The state of a one-epoch ring run of the small MLP keeping an average of G's weights."""
    from ganframe.plugin.manager import load_plugins
    from tests.runs import ring_config, run

    state, _ = run(ring_config(tmp_path_factory.mktemp("run") / "run", epochs=1), load_plugins())
    return state


def test_a_version_1_file_loads_with_every_field_and_the_layout_is_unchanged(tmp_path, trained_state):
    from tests.runs import same

    old = _v1_document(trained_state)
    now = Checkpoint.of(trained_state)
    # the same layout plus optional keys added since (each with a default: no version bump)
    added = {"run_id": trained_state.run_id, "train_step": trained_state.train_step.state_dict()}
    assert same(now.to_dict(), {**old, **added}), "the on-disk layout changed: bump FORMAT_VERSION and add an upgrade"
    torch.save(old, tmp_path / "old.pt")
    loaded = Checkpoint.load(tmp_path / "old.pt")
    assert same(loaded.to_dict(), old) and loaded.path == tmp_path / "old.pt" and loaded.run_id is None
    assert loaded.step == trained_state.step == 10 and loaded.generator_ema["updates"] == 10
    assert loaded.model.components == trained_state.component_names and loaded.model.sample_shape == (2,)
    assert loaded.model.identity() == now.model.identity()


def test_a_version_1_file_from_before_the_optional_fields_loads_with_their_defaults(tmp_path, trained_state):
    """ganframe 0.1 wrote no average of G's weights, history, timings, counts or RNG states."""
    old = _v1_document(trained_state)
    for key in (
        "generator_ema",
        "steps_per_epoch",
        "dataset_size",
        "world_size",
        "nonfinite_skipped",
        "history",
        "epoch_seconds",
        "rng",
    ):
        old.pop(key)
    del old["model"]["class_names"], old["model"]["model_options"]
    torch.save(old, tmp_path / "older.pt")
    loaded = Checkpoint.load(tmp_path / "older.pt")
    assert loaded.generator_ema is None and loaded.steps_per_epoch is None and loaded.rng is None
    assert loaded.world_size == 1 and loaded.nonfinite_skipped == 0 and loaded.history == []
    assert loaded.model.class_names == [] and loaded.model.model_options == {}
    trained = loaded.generator_weights(average=True)  # no average kept: the trained weights
    assert trained.keys() == old["generator"].keys() and all(
        torch.equal(trained[k], old["generator"][k]) for k in trained
    )


def test_files_of_an_older_version_load_through_the_upgrade_chain(tmp_path, monkeypatch, trained_state):
    """How a future layout change works: with FORMAT_VERSION 2, a version 1 file passes through
    UPGRADES[1] (here one that fills a field from the old data) before its fields are read, and a
    version 2 file is read as it is."""
    from ganframe.run import checkpoint as module

    seen = []

    def upgrade(raw):
        seen.append(raw["ganframe_checkpoint"])
        return {**raw, "epoch_seconds": [float(raw["step"])]}

    monkeypatch.setattr(module, "FORMAT_VERSION", 2)
    monkeypatch.setitem(module.UPGRADES, 1, upgrade)
    torch.save(_v1_document(trained_state), tmp_path / "v1.pt")
    loaded = Checkpoint.load(tmp_path / "v1.pt")
    assert seen == [1] and loaded.epoch_seconds == [10.0] and loaded.step == 10
    loaded.save(tmp_path / "v2.pt")
    assert torch.load(tmp_path / "v2.pt", weights_only=True)["ganframe_checkpoint"] == 2
    assert Checkpoint.load(tmp_path / "v2.pt").epoch_seconds == [10.0] and seen == [1]


def test_a_newer_version_or_a_missing_field_is_one_clear_error(tmp_path):
    document = tiny(3).to_dict()
    torch.save({**document, "ganframe_checkpoint": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version 99, newer than this ganframe"):
        Checkpoint.load(tmp_path / "future.pt")
    document.pop("discriminator")
    document["model"].pop("latent_dim")
    torch.save(document, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"partial.pt lacks discriminator"):
        Checkpoint.load(tmp_path / "partial.pt")
    document["discriminator"] = {}
    torch.save(document, tmp_path / "no-model.pt")
    with pytest.raises(CheckpointError, match="lacks the model description.*latent_dim"):
        Checkpoint.load(tmp_path / "no-model.pt")


def test_keys_a_newer_version_added_are_ignored(tmp_path):
    torch.save({**tiny(3).to_dict(), "run_id": "abc"}, tmp_path / "newer.pt")
    assert Checkpoint.load(tmp_path / "newer.pt").step == 3
