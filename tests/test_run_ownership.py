"""A run directory has one writer (an OS lock), and its checkpoints belong to it (a run id)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ganframe.config import RunConfig
from ganframe.errors import UsageError
from ganframe.run import lock as run_lock
from tests.runs import ring_config, run


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (the lock file excluded: it names the last writer)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != run_lock.LOCK_NAME
    }


@pytest.fixture
def holder():
    """``holder(run_dir)``: another process that takes the run directory's lock and keeps it until the test ends."""
    started = []

    def hold(run_dir: Path) -> subprocess.Popen:
        code = (
            "import sys, time; from ganframe.run.lock import acquire; acquire(sys.argv[1]); "
            "print('held', flush=True); time.sleep(120)"
        )
        proc = subprocess.Popen([sys.executable, "-c", code, str(run_dir)], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield hold
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_second_writer_of_a_new_run_directory_is_refused_naming_the_first(tmp_path, plugin_set, holder):
    out = tmp_path / "run"
    other = holder(out)
    with pytest.raises(UsageError) as refused:
        run(ring_config(out, epochs=1), plugin_set)
    message = refused.value.message
    assert f"PID {other.pid}" in message and socket.gethostname() in message and "started" in message
    assert snapshot(out) == {}, "the refused run wrote nothing"


def test_resume_of_a_run_that_is_still_being_written_is_refused_and_changes_no_byte(tmp_path, plugin_set, holder):
    out = tmp_path / "run"
    run(ring_config(out, epochs=1), plugin_set)
    before = snapshot(out)
    other = holder(out)
    with pytest.raises(UsageError, match=f"in use by another ganframe process \\(PID {other.pid}"):
        run(RunConfig(epochs=2), plugin_set, resume_from=out, explicit={"epochs"})
    with pytest.raises(UsageError, match=f"PID {other.pid}"):  # and a new run into it
        run(ring_config(out, epochs=1), plugin_set)
    assert snapshot(out) == before


def test_the_lock_dies_with_its_process_and_a_finished_run_can_be_resumed(tmp_path, plugin_set, holder):
    out = tmp_path / "run"
    run(ring_config(out, epochs=1), plugin_set)
    other = holder(out)
    other.kill()  # as kill -9 would: no cleanup, the kernel drops the lock
    other.wait()
    state, _ = run(RunConfig(epochs=2), plugin_set, resume_from=out, explicit={"epochs"})
    assert state.stop_reason == "finished" and state.epoch == 2
    assert f'"pid": {os.getpid()}' in (out / run_lock.LOCK_NAME).read_text(), "the lock file names its last writer"


def test_a_refused_new_run_leaves_an_earlier_run_directory_as_it_was(tmp_path, plugin_set):
    out = tmp_path / "run"
    run(ring_config(out, epochs=1), plugin_set)
    (out / run_lock.LOCK_NAME).unlink()  # a run written before run directories had a lock file
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(UsageError, match="already exists and is not empty"):
        run(ring_config(out, epochs=1), plugin_set)
    assert sorted(p.name for p in out.iterdir()) == before, "no lock file is left in another run's folder"
    with pytest.raises(UsageError, match="larger than data set"):  # refused after the lock was taken
        run(ring_config(tmp_path / "new", epochs=1, batch_size=4096), plugin_set)
    assert not (tmp_path / "new").exists()


# -- checkpoints belong to their run ------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_pair(tmp_path_factory):
    """Run A (1 epoch, seed 5) and run B (2 epochs, seed 7), trained once for this module."""
    from ganframe.plugin.manager import load_plugins

    root = tmp_path_factory.mktemp("pair")
    run(ring_config(root / "a", epochs=1), load_plugins(entry_points=False))
    run(ring_config(root / "b", epochs=2, seed=7), load_plugins(entry_points=False))
    return root


def _two_runs(tmp_path, trained_pair):
    """Fresh copies of run A and run B: B's checkpoints are another run's for A."""
    import shutil

    shutil.copytree(trained_pair, tmp_path / "pair")  # copies keep mtimes, so "newest" stays the same
    return tmp_path / "pair" / "a", tmp_path / "pair" / "b"


def _plant(foreign: Path, run_dir: Path, name: str = "epoch-0009.pt") -> Path:
    """Copy another run's checkpoint into ``run_dir`` so it is the newest there."""
    target = run_dir / "checkpoints" / name
    target.write_bytes(foreign.read_bytes())
    os.utime(target, ns=(os.stat(target).st_atime_ns, os.stat(target).st_mtime_ns + 10**9))
    return target


def test_every_checkpoint_and_config_json_carry_the_run_id(tmp_path, plugin_set, trained_pair):
    import json

    from tests.runs import newest

    a, b = _two_runs(tmp_path, trained_pair)
    ids = [json.loads((out / "config.json").read_text())["run_id"] for out in (a, b)]
    assert all(isinstance(i, str) and len(i) == 32 for i in ids) and ids[0] != ids[1]
    assert newest(a).run_id == ids[0] and newest(b).run_id == ids[1]


def test_resume_skips_a_foreign_checkpoint_names_it_and_keeps_the_runs_own_history(tmp_path, plugin_set, trained_pair):
    import json

    from ganframe.run.checkpoint import Checkpoint
    from tests.runs import metrics_rows

    a, b = _two_runs(tmp_path, trained_pair)
    own_rows, own_config = metrics_rows(a), json.loads((a / "config.json").read_text())
    planted = _plant(b / "checkpoints" / "epoch-0002.pt", a)
    foreign_bytes = planted.read_bytes()
    state, notes = run(RunConfig(epochs=2), plugin_set, resume_from=a, explicit={"epochs"})
    assert f"Skipped checkpoint {planted}: it belongs to another run" in notes
    assert str(a / "checkpoints" / "epoch-0001.pt") in notes, "says which checkpoint it resumed from"
    assert state.step == 20 and state.config.seed == 5, "continued run A from its own epoch 1"
    assert metrics_rows(a)[: len(own_rows)] == own_rows and len(metrics_rows(a)) > len(own_rows)
    assert json.loads((a / "config.json").read_text())["run_id"] == own_config["run_id"]
    assert Checkpoint.load(a / "checkpoints" / "epoch-0002.pt").run_id == own_config["run_id"]
    assert planted.read_bytes() == foreign_bytes


def test_resume_refuses_a_run_whose_checkpoints_are_all_another_runs(tmp_path, plugin_set, trained_pair):
    a, b = _two_runs(tmp_path, trained_pair)
    (a / "checkpoints" / "epoch-0001.pt").unlink()
    planted = _plant(b / "checkpoints" / "epoch-0002.pt", a)
    before = snapshot(a)
    with pytest.raises(UsageError) as refused:
        run(RunConfig(epochs=2), plugin_set, resume_from=a, explicit={"epochs"})
    assert "none of its 1 checkpoint(s) belongs to this run" in refused.value.message
    assert str(planted) in refused.value.message
    assert snapshot(a) == before


def test_a_run_from_before_run_ids_resumes_from_its_id_less_checkpoints(tmp_path, plugin_set, trained_pair):
    """Migration: config.json without a run id accepts checkpoints without one, and still skips
    checkpoints that carry an id (those were written by some other, newer run)."""
    import json

    from tests.runs import rewrite_newest

    a, b = _two_runs(tmp_path, trained_pair)
    config = json.loads((a / "config.json").read_text())
    del config["run_id"]
    (a / "config.json").write_text(json.dumps(config))
    rewrite_newest(a, lambda payload: payload.pop("run_id"))
    planted = _plant(b / "checkpoints" / "epoch-0002.pt", a)
    state, notes = run(RunConfig(epochs=2), plugin_set, resume_from=a, explicit={"epochs"})
    assert f"Skipped checkpoint {planted}" in notes and state.step == 20 and state.run_id is None


def test_the_cli_refuses_a_second_writer_with_exit_2_and_one_message(tmp_path, cli, holder):
    out = tmp_path / "run"
    other = holder(out)
    result = cli("run", "--dataset", "ring", "--max-steps", "2", "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"in use by another ganframe process (PID {other.pid}" in " ".join(result.output.split())
    resumed = cli("run", "--resume", out)
    assert resumed.exit_code == 2 and f"PID {other.pid}" in " ".join(resumed.output.split())
