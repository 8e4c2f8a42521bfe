"""SIGINT / SIGTERM on a real ``ganframe run`` process: a checkpoint that resumes exactly, exit 130 / 143."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganframe.config import RunConfig
from ganframe.run.checkpoint import Checkpoint
from tests.runs import assert_same_training, newest, ring_args, ring_config, run

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 90  # seconds any one process may take before the test fails


def _start(tmp_path: Path, out: Path, *, plugins: str = "") -> tuple[subprocess.Popen, Path]:
    """A long ring run (it never finishes on its own), metrics every step, output in files."""
    args = ring_args(out, epochs=100000, log_every=1, lr_decay="constant")
    command = [sys.executable, "tests/cli_driver.py", *args] if plugins else [sys.executable, "-m", "ganframe", *args]
    env = {**os.environ, "GANFRAME_TEST_PLUGINS": plugins}
    err = tmp_path / "stderr.txt"
    with open(err, "w") as handle:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=handle)
    return proc, err


def _wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gave up waiting for {what} (exit code {proc.poll()})")
        time.sleep(0.05)


def _rows(out: Path) -> int:
    path = out / "metrics.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def _finish(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process did not exit after the signal")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_finishes_the_step_checkpoints_and_the_run_resumes_exactly(tmp_path, plugin_set, sig, code):
    out = tmp_path / "run"
    proc, err = _start(tmp_path, out)
    _wait_for(lambda: _rows(out) >= 12, proc, "a dozen steps")
    proc.send_signal(sig)
    assert _finish(proc) == code
    message = err.read_text()
    found = re.search(r"Stopped by (\w+) after step (\d+) \(epoch \d+ of 100000\)\. Checkpoint: (\S+)", message)
    assert found, message
    assert found.group(1) == sig.name
    step, checkpoint = int(found.group(2)), Path(found.group(3))
    assert f"Resume with: ganframe run --resume {out}" in message
    assert "Traceback" not in message
    assert Checkpoint.load(checkpoint).step == step and newest(out).step == step

    epochs = step // 10 + 2  # the resumed run trains past the stop, to the end of a later epoch
    state, _ = run(RunConfig(epochs=epochs), plugin_set, resume_from=out, explicit={"epochs"})
    assert state.step == epochs * 10
    # a constant learning rate: with ring's linear decay the rate follows --epochs, which this test changes
    run(ring_config(tmp_path / "whole", epochs=epochs, log_every=1, lr_decay="constant"), plugin_set)
    assert_same_training(newest(out), newest(tmp_path / "whole"))


def test_a_second_sigint_exits_at_once_and_keeps_the_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc, err = _start(tmp_path, out, plugins="slow-end")  # on_train_end sleeps 60 s before checkpointing
    _wait_for(lambda: _rows(out) >= 12, proc, "a dozen steps")
    proc.send_signal(signal.SIGINT)
    _wait_for(lambda: "slow-end: sleeping" in err.read_text(), proc, "the stop to begin")
    checkpoints = sorted(p.name for p in (out / "checkpoints").glob("*.pt"))
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert _finish(proc) == 130
    assert time.monotonic() - started < 30, "the second SIGINT must not wait for the stop to finish"
    assert "Interrupted" in err.read_text() and "Traceback" not in err.read_text()
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == checkpoints, "nothing new may be written"
    assert newest(out).step >= 10
