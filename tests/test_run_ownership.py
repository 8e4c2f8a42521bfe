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
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != run_lock.LOCK_NAME}


@pytest.fixture
def holder():
    """``holder(run_dir)``: another process that takes the run directory's lock and keeps it until the test ends."""
    started = []

    def hold(run_dir: Path) -> subprocess.Popen:
        code = ("import sys, time; from ganframe.run.lock import acquire; acquire(sys.argv[1]); "
                "print('held', flush=True); time.sleep(120)")
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
