"""Checkpoint files: atomic writes, safe loading, clear errors."""

import pickle

import pytest
import torch

from ganframe.checkpoint import CheckpointError, atomic_write, latest_checkpoint, load_checkpoint, save_checkpoint


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "file.bin"
    atomic_write(target, lambda h: h.write(b"good"))

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"], "no temp file may be left behind"


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"generator": {"w": torch.arange(3.0)}, "step": 5, "config": {"model": "mlp"}})
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["generator"]["w"], torch.arange(3.0)) and loaded["step"] == 5


def test_missing_truncated_and_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    good = tmp_path / "good.pt"
    save_checkpoint(good, {"generator": {"w": torch.randn(1000)}})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated.pt.*could not be read"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a ganframe checkpoint"):
        load_checkpoint(foreign)


class Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickled_code_is_refused(tmp_path):
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"ganframe_checkpoint": 1, "x": Payload()}))
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(evil)


def test_latest_checkpoint_of_a_run(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    for name in ("epoch-0001.pt", "epoch-0002.pt"):
        save_checkpoint(folder / name, {"step": 1})
    assert latest_checkpoint(tmp_path / "run").name == "epoch-0002.pt"
    with pytest.raises(CheckpointError, match="No checkpoint"):
        latest_checkpoint(tmp_path)
