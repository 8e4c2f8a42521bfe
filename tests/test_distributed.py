"""torchrun + DistributedDataParallel on CPU (gloo): 2 processes against 1, replicas, resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.errors import UsageError
from ganframe.train.data import InMemoryDataset, epoch_permutation, make_batches, rank_order
from ganframe.train.distributed import Processes
from tests import fixtures_plugins
from tests.runs import assert_same_training, metrics_rows, newest, ring_args, ring_config, run, same

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 240  # seconds for one torchrun launch (two workers starting torch on a busy 2-core machine)
#: the ring runs of this file (tests.runs.ring_config otherwise); lr fixed (not mlp-small's default)
#: so the tolerances below do not move with a model default
DDP = {"seed": 3, "lr": 2e-4, "log_every": 1}


def torchrun(*args, plugins: str = "") -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node 2`` of ganframe (or of the test driver with ``plugins``)."""
    target = ["tests/cli_driver.py"] if plugins else ["-m", "ganframe"]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "--shutdown-timeout",
        "10",
        *target,
        *map(str, args),
    ]
    env = {**os.environ, "GANFRAME_TEST_PLUGINS": plugins}
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # torchrun passes it on to its workers, then kills them
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"torchrun did not finish in {TIMEOUT} s:\n{err[-3000:]}")
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def single(out: Path, plugin_set, **settings):
    return run(ring_config(out, **{**DDP, **settings}), plugin_set)[0]


# -- pieces, in one process -------------------------------------------------------------------
def test_the_ranks_of_a_step_together_see_the_single_process_batch():
    order = epoch_permutation(650, seed=3, epoch=1)
    parts = [rank_order(order, 64, (rank, 2)) for rank in range(2)]
    for step in range(650 // 64):
        together = torch.cat([part[step * 32 : (step + 1) * 32] for part in parts])
        assert torch.equal(together, order[step * 64 : (step + 1) * 64])
    data = InMemoryDataset(torch.arange(650, dtype=torch.float32).unsqueeze(1))
    batches = make_batches(data, 64, torch.device("cpu"), 3, path="loader", shard=(1, 2))
    first = next(iter(batches.epoch(0, start=2)))[0].flatten()
    assert torch.equal(first, epoch_permutation(650, 3, 0)[2 * 64 + 32 : 3 * 64].float())


def test_settings_a_distributed_run_cannot_use_are_clear_errors():
    two = Processes(rank=0, world_size=2)
    with pytest.raises(UsageError, match="--batch-size 65 is the global batch .* divisible by the 2 processes"):
        two.check(RunConfig(batch_size=65), torch.device("cpu"))
    with pytest.raises(UsageError, match="--sync-batchnorm needs CUDA"):
        two.check(RunConfig(batch_size=64, sync_batchnorm=True), torch.device("cpu"))
    Processes().check(RunConfig(batch_size=65, sync_batchnorm=True), torch.device("cpu"))  # one process: fine


# -- two processes ----------------------------------------------------------------------------
def test_two_processes_keep_identical_replicas_and_match_one_process_at_the_same_global_batch(
    tmp_path, plugin_set, monkeypatch
):
    """With the noise made identical (each rank draws the global noise batch and takes its slice),
    two ranks of 32 must train like one process of 64: DDP averages the gradients and each rank
    holds its slice of every global batch."""
    result = torchrun(*ring_args(tmp_path / "ddp", **DDP, epochs=1), plugins="rank-dump,shared-noise")
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / "ddp" / f"rank-{r}.pt", weights_only=True) for r in range(2)]
    assert same(ranks[0]["weights"], ranks[1]["weights"]), "the replicas drifted apart"

    from ganframe.train.step import TrainStep

    monkeypatch.setattr(TrainStep, "sample_inputs", fixtures_plugins.shared_noise_sampler())
    reference = single(tmp_path / "one", plugin_set, epochs=1)
    two, one = metrics_rows(tmp_path / "ddp"), metrics_rows(tmp_path / "one")
    assert [r["step"] for r in two] == [r["step"] for r in one] == list(range(1, 11))
    for name in ("d_loss", "g_loss", "D(x)", "D(G(z))"):
        assert torch.allclose(
            torch.tensor([r[name] for r in two]), torch.tensor([r[name] for r in one]), rtol=0, atol=1e-5
        ), name
    for net in ("generator", "discriminator"):
        for key, value in getattr(reference, net).state_dict().items():
            assert torch.allclose(ranks[0]["weights"][net][key], value, rtol=0, atol=1e-5), key
    average = newest(tmp_path / "ddp").generator_ema  # rank 0's average of G's weights, as one process keeps it
    assert average["updates"] == reference.g_average.updates == 10
    for key, value in reference.g_average.network.state_dict().items():
        assert torch.allclose(average["network"][key], value, rtol=0, atol=1e-5), key


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    """``torchrun -m ganframe run`` with 2 gloo processes, 2 epochs, the real per-rank noise."""
    out = tmp_path_factory.mktemp("ddp") / "whole"
    result = torchrun(*ring_args(out, **DDP, epochs=2))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_torchrun_writes_files_and_progress_once_and_tracks_a_single_process_run(tmp_path, plugin_set, two_process_run):
    out, result = two_process_run
    assert result.stdout.count("Training ") == 1 and result.stdout.count("Run directory:") == 1
    rows = metrics_rows(out)
    assert [r["step"] for r in rows] == list(range(1, 21)), "one row per step, written by rank 0 only"
    assert json.loads((out / "config.json").read_text())["batch_size"] == 64
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001.pt", "epoch-0002.pt"]
    assert len(newest(out).rng["ranks"]) == 2

    one = metrics_rows(single(tmp_path / "one", plugin_set, epochs=2).run_dir)
    # same data per step and rank 0 draws the single run's noise; rank 1's noise differs, so close, not equal
    for name in ("d_loss", "g_loss"):
        gap = max(abs(a[name] - b[name]) for a, b in zip(rows, one))
        assert gap < 0.05, f"{name} differs by {gap}"


def test_a_distributed_run_stopped_and_resumed_ends_bitwise_identical(tmp_path, two_process_run):
    out = tmp_path / "parts"
    stopped = torchrun(*ring_args(out, **DDP, epochs=2, max_steps=13))
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert newest(out).step == 13
    resumed = torchrun("run", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_training(newest(out), newest(two_process_run[0]))


def test_sigterm_to_torchrun_stops_every_rank_after_the_same_step_with_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "--shutdown-timeout",
        "60",
        "-m",
        "ganframe",
        *ring_args(out, **{**DDP, "log_every": 5}, epochs=100000),
    ]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (out / "metrics.jsonl").exists() or len(metrics_rows(out)) < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    found = re.search(
        r"Stopped by SIGTERM after step (\d+) .*\n.*torchrun --nproc-per-node 2 -m ganframe run --resume", err
    )
    assert found, err[-3000:]
    step = int(found.group(1))
    assert step % 5 == 0, "the ranks agree on a stop when they read metrics (every --log-every steps)"
    checkpoint = newest(out)
    assert checkpoint.step == step and len(checkpoint.rng["ranks"]) == 2
    assert err.count("Stopped by SIGTERM") == 1, "only rank 0 reports"


def test_a_frozen_worker_stops_the_run_with_a_message_after_dist_timeout(tmp_path):
    out = tmp_path / "frozen"
    started = time.monotonic()
    result = torchrun(*ring_args(out, **DDP, epochs=2), "--dist-timeout", "5", plugins="freeze-rank-1")
    assert result.returncode != 0 and time.monotonic() - started < TIMEOUT
    said = " ".join(result.stderr.split())
    assert (
        "Training stopped at step 3 (epoch 1): another training process did not answer within --dist-timeout 5 s"
        in said
    ), said[-3000:]
    assert "No checkpoint had been written yet" in said
    assert "Resume with: torchrun --nproc-per-node 2 -m ganframe run --resume" in said
    assert not re.search(r'File ".*ganframe/', result.stderr), "no traceback from ganframe (torchrun prints its own)"


@pytest.mark.parametrize("seconds", ["0", "-5", "nan", "inf"])
def test_dist_timeout_must_be_a_positive_number_of_seconds(cli, seconds):
    result = cli("run", "--dataset", "ring", "--dist-timeout", seconds)
    assert result.exit_code == 2 and "--dist-timeout must be a positive number of seconds" in result.output
