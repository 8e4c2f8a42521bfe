"""Checkpoint files: atomic under SIGKILL, corrupt or truncated files named, safe loading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganframe.run.checkpoint import CheckpointError, load_checkpoint, newest_readable, save_checkpoint

REPO = Path(__file__).resolve().parents[1]

# Rewrites one checkpoint over and over, each version's tensors filled with its number,
# and prints the number once that version is completely written.
WRITER = """
import sys, torch
from ganframe.run.checkpoint import save_checkpoint
path = sys.argv[1]
for version in range(1, 10_000):
    save_checkpoint(path, {"version": version, "weights": torch.full((4_000_000,), float(version))})
    print(version, flush=True)
"""


def _kill_mid_write(folder: Path, delay: float) -> tuple[int, list[Path]]:
    """Start the writer, SIGKILL it ``delay`` s after a temp file of a later version appears;
    returns the last version it reported complete and the temp files it left."""
    target = folder / "ckpt.pt"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
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
    payload = load_checkpoint(tmp_path / "ckpt.pt")
    version = payload["version"]
    assert version >= last_reported, "a completed version was lost"
    assert torch.equal(payload["weights"], torch.full((4_000_000,), float(version))), "a mixed or partial file"
    assert [p.name for p in tmp_path.glob("*.pt")] == ["ckpt.pt"], "temp files must never look like checkpoints"
    assert newest_readable(tmp_path)[0]["version"] == version


def _write(path: Path, step: int) -> None:
    save_checkpoint(path, {"step": step, "weights": torch.arange(100_000, dtype=torch.float32) * step})


def test_a_truncated_checkpoint_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "epoch-0001.pt"
    _write(path, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in info.value.message and "truncated" in info.value.message


def test_flipped_bytes_inside_a_tensor_are_caught_by_the_checksums(tmp_path):
    path = tmp_path / "epoch-0001.pt"
    _write(path, 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the tensor's bytes: torch.load alone would load it silently
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in info.value.message and "checksum" in info.value.message


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in info.value.message


def test_newest_readable_falls_back_past_corrupt_files_and_says_which(tmp_path):
    older, newer = tmp_path / "epoch-0001.pt", tmp_path / "epoch-0002.pt"
    _write(older, 10)
    _write(newer, 20)
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))  # make the order by time unambiguous
    newer.write_bytes(newer.read_bytes()[:100])
    payload, skipped = newest_readable(tmp_path)
    assert payload["step"] == 10 and payload["path"] == str(older)
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
        load_checkpoint(path)
    assert str(path) in info.value.message


def test_atomic_write_replaces_only_when_complete(tmp_path):
    from ganframe.run.checkpoint import atomic_write

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
    from ganframe.run.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    path = tmp_path / "c.pt"
    save_checkpoint(path, {"generator": {"w": torch.arange(3.0)}, "step": 5, "config": {"model": "mlp"}})
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["generator"]["w"], torch.arange(3.0)) and loaded["step"] == 5
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_latest_checkpoint_of_a_run(tmp_path):
    from ganframe.run.checkpoint import CheckpointError, latest_checkpoint, save_checkpoint

    folder = tmp_path / "run" / "checkpoints"
    for name in ("epoch-0001.pt", "epoch-0002.pt"):
        save_checkpoint(folder / name, {"step": 1})
    assert latest_checkpoint(tmp_path / "run").name == "epoch-0002.pt"
    with pytest.raises(CheckpointError, match="No checkpoint"):
        latest_checkpoint(tmp_path)


def test_atomically_written_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path):
    from ganframe.run.checkpoint import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "config.json", lambda handle: handle.write(b"{}"))
    finally:
        os.umask(old)
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o644
