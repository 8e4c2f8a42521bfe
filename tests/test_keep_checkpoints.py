"""--keep-checkpoints N keeps the run's N newest checkpoints and never touches a file that is not
the run's own (copied in from another run, or unreadable): ganframe loses no file it did not write."""

from __future__ import annotations

import shutil

from ganframe.config import RunConfig
from ganframe.run.checkpoint import Checkpoint
from tests.runs import ring_config, run


def names(out):
    return sorted(p.name for p in (out / "checkpoints").glob("*.pt"))


def test_only_the_newest_n_of_the_runs_checkpoints_are_kept(tmp_path, plugin_set):
    out = tmp_path / "run"
    state, _ = run(ring_config(out, keep_checkpoints=2), plugin_set)
    assert state.epoch == 4
    assert names(out) == ["epoch-0003.pt", "epoch-0004.pt"]
    assert Checkpoint.load(out / "checkpoints" / "epoch-0004.pt").step == 40
    everything, _ = run(ring_config(tmp_path / "all"), plugin_set)  # 0: keep every one
    assert names(tmp_path / "all") == [f"epoch-000{i}.pt" for i in range(1, 5)]


def test_another_runs_checkpoint_and_an_unreadable_file_are_neither_counted_nor_deleted(tmp_path, plugin_set):
    other, out = tmp_path / "other", tmp_path / "run"
    run(ring_config(other, epochs=1), plugin_set)
    run(ring_config(out, max_steps=15), plugin_set)  # epoch-0001.pt and step-0000015.pt
    imported = out / "checkpoints" / "imported.pt"
    shutil.copy(other / "checkpoints" / "epoch-0001.pt", imported)
    junk = out / "checkpoints" / "notes.pt"
    junk.write_bytes(b"not a checkpoint")
    # the copies are the newest files: resume passes over them (not the run's own) and says so
    state, notes = run(RunConfig(keep_checkpoints=1), plugin_set, resume_from=out, explicit={"keep_checkpoints"})
    assert state.step == 40
    assert imported.read_bytes() == (other / "checkpoints" / "epoch-0001.pt").read_bytes()
    assert junk.read_bytes() == b"not a checkpoint"
    assert names(out) == ["epoch-0004.pt", "imported.pt", "notes.pt"]  # of the run's own, only the newest
