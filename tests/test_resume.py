"""--resume continues exactly: interrupted and resumed runs end bit-identical to uninterrupted ones."""

from __future__ import annotations

import json
import os

import pytest

from ganframe.config import RunConfig
from ganframe.errors import UsageError
from ganframe.run.checkpoint import CheckpointError
from tests.helpers import said
from tests.idx import make_mnist_root
from tests.runs import assert_same_training, metrics_rows, newest, rewrite_newest, ring_config, run


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: 4 epochs of 10 steps in one go."""
    from ganframe.plugin.manager import load_plugins

    out = tmp_path_factory.mktemp("reference") / "whole"
    state, _ = run(ring_config(out), load_plugins(entry_points=False))
    assert state.stop_reason == "finished" and state.step == 40
    return out


def test_dropout_and_train_mode_sample_grids_continue_exactly(tmp_path, plugin_set):
    """The ``mlp`` model draws dropout masks, and its sample grids in train mode draw more: the
    hooks must not shift training's random numbers, and resume must restore them."""
    settings = {"model": "mlp", "epochs": 2, "sample_mode": "train", "dataset_options": {"samples": "320"}}
    run(ring_config(tmp_path / "whole", **settings), plugin_set)
    run(ring_config(tmp_path / "parts", max_steps=5, **settings), plugin_set)
    run(RunConfig(), plugin_set, resume_from=tmp_path / "parts")
    assert_same_training(newest(tmp_path / "parts"), newest(tmp_path / "whole"))


@pytest.mark.parametrize("stops", [[20], [15, 27]], ids=["after-epoch-2-of-4", "twice-mid-epoch"])
def test_a_stopped_and_resumed_run_ends_bitwise_identical(tmp_path, plugin_set, uninterrupted, stops):
    out = tmp_path / "resumed"
    state, _ = run(ring_config(out, max_steps=stops[0]), plugin_set)
    assert state.stop_reason == "max_steps" and state.step == stops[0]
    for stop in stops[1:]:
        state, _ = run(RunConfig(max_steps=stop), plugin_set, resume_from=out, explicit={"max_steps"})
        assert state.step == stop
    state, _ = run(RunConfig(), plugin_set, resume_from=out)  # --max-steps is not inherited: on to --epochs
    assert state.stop_reason == "finished" and state.step == 40 and state.epoch == 4
    assert newest(out).generator_ema["updates"] == 40  # ring_config keeps an average: it must resume exactly too
    assert_same_training(newest(out), newest(uninterrupted))
    assert metrics_rows(out)[-1] == metrics_rows(uninterrupted)[-1]


def test_rows_a_killed_run_wrote_after_its_checkpoint_are_dropped_not_duplicated(tmp_path, plugin_set, uninterrupted):
    out = tmp_path / "killed"
    run(ring_config(out, max_steps=20), plugin_set)
    with open(out / "metrics.jsonl", "a") as handle:  # what a run killed at step 25 would have appended
        handle.write(json.dumps({"step": 23, "epoch": 3, "d_loss": 9.0, "g_loss": 9.0}) + "\n")
        handle.write('{"step": 25, "epoch": 3, "d_lo')  # and a line cut short
    run(RunConfig(), plugin_set, resume_from=out)
    steps = [row["step"] for row in metrics_rows(out)]
    assert steps == sorted(set(steps)), "steps must increase without duplicates"
    assert metrics_rows(out) == metrics_rows(uninterrupted)


def test_resume_falls_back_past_a_corrupt_newest_checkpoint_and_says_so(tmp_path, plugin_set, uninterrupted):
    out = tmp_path / "corrupt"
    run(ring_config(out, max_steps=25), plugin_set)
    newest_file = out / "checkpoints" / "step-0000025.pt"
    newest_file.write_bytes(newest_file.read_bytes()[:1000])
    state, notes = run(RunConfig(), plugin_set, resume_from=out)
    assert str(newest_file) in notes and "epoch-0002.pt" in notes and "previous checkpoint" in notes
    assert state.resumed_from.name == "epoch-0002.pt"
    assert_same_training(newest(out), newest(uninterrupted))


def test_a_run_killed_before_its_first_checkpoint_starts_again_from_its_config(tmp_path, plugin_set, uninterrupted):
    out = tmp_path / "early"
    run(ring_config(out, max_steps=5), plugin_set)
    for checkpoint in (out / "checkpoints").iterdir():
        checkpoint.unlink()
    (out / "checkpoints" / ".epoch-0001.pt.x1y2.tmp").write_bytes(b"partial")  # a killed writer's leftover
    state, notes = run(RunConfig(), plugin_set, resume_from=out)
    assert "from step 0" in notes and "partial file" in notes
    assert not list((out / "checkpoints").glob(".*.tmp"))
    assert state.step == 40
    assert_same_training(newest(out), newest(uninterrupted))


def test_epochs_is_the_total_on_resume(tmp_path, plugin_set):
    out = tmp_path / "more"
    run(ring_config(out, epochs=2), plugin_set)
    state, _ = run(RunConfig(epochs=3), plugin_set, resume_from=out, explicit={"epochs"})
    assert (state.step, state.epoch) == (30, 3)
    assert json.loads((out / "config.json").read_text())["epochs"] == 3
    with pytest.raises(UsageError, match="--epochs 2 is fewer than"):
        run(RunConfig(epochs=2, max_steps=1), plugin_set, resume_from=out, explicit={"epochs"})


def _listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_conflicting_options_are_one_clear_error_and_change_nothing(tmp_path, plugin_set, cli):
    out = tmp_path / "run"
    run(ring_config(out, max_steps=12), plugin_set)
    before = _listing(out)
    run_lr = json.loads((out / "config.json").read_text())["lr"]
    result = cli("run", "--resume", out, "--model", "cgan", "--lr", "0.01", "--dataset-option", "samples=1280")
    assert result.exit_code == 2
    message = said(result)
    for expected in (
        "--model cgan (the run has mlp-small)",
        f"--lr 0.01 (the run has {run_lr})",
        "--dataset-option samples=1280",
        "--epochs",
    ):
        assert expected in message
    assert "Traceback" not in result.output
    assert _listing(out) == before
    agreeing = cli("run", "--resume", out, "--model", "mlp-small", "--dataset", "ring", "--epochs", "2")
    assert agreeing.exit_code == 0, agreeing.output
    assert newest(out).step == 20


def test_resuming_on_a_different_data_set_is_an_error(tmp_path, plugin_set):
    first = make_mnist_root(tmp_path / "data-a")
    second = make_mnist_root(tmp_path / "data-b", n_train=128)
    out = tmp_path / "digits"
    config = RunConfig(
        model="mlp-small",
        dataset="mnist",
        data_root=str(first),
        batch_size=64,
        epochs=3,
        seed=1,
        out=str(out),
        device="cpu",
    )
    run(config, plugin_set)
    with pytest.raises(CheckpointError, match="256 samples.*4 steps per epoch.*128 samples"):
        run(RunConfig(data_root=str(second), epochs=4), plugin_set, resume_from=out, explicit={"data_root", "epochs"})


def test_resume_needs_a_run_directory(tmp_path, plugin_set):
    with pytest.raises(UsageError, match="no such run directory"):
        run(RunConfig(), plugin_set, resume_from=tmp_path / "missing")
    (tmp_path / "epoch-0001.pt").write_bytes(b"")
    with pytest.raises(UsageError, match="takes a run directory, not a file"):
        run(RunConfig(), plugin_set, resume_from=tmp_path / "epoch-0001.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="nothing to resume"):
        run(RunConfig(), plugin_set, resume_from=tmp_path / "empty")
    assert os.listdir(tmp_path / "empty") == []


def test_model_options_the_run_did_not_record_may_be_given_on_resume(tmp_path):
    """A run saved before a model gained an option (cgan's ``projection``) resumes with the old value
    given explicitly; options the run did record must still agree."""
    from ganframe.run.resume import merge

    saved = RunConfig(model="cgan", model_options={"embedding_dim": 16, "slope": 0.2})
    merged = merge(saved, RunConfig(model_options={"projection": "false"}), {"model_options"}, tmp_path)
    assert merged.model_options == {"embedding_dim": 16, "slope": 0.2, "projection": "false"}
    with pytest.raises(UsageError, match=r"--model-option embedding_dim=8 \(the run has embedding_dim=16 slope=0.2\)"):
        merge(saved, RunConfig(model_options={"embedding_dim": "8"}), {"model_options"}, tmp_path)


def test_a_checkpoint_of_other_networks_names_what_is_missing(tmp_path, plugin_set):
    out = tmp_path / "run"
    run(ring_config(out, max_steps=10), plugin_set)
    dropped = sorted(newest(out).discriminator)[-1]
    rewrite_newest(out, lambda payload: payload["discriminator"].pop(dropped))  # as if D had gained a layer since
    with pytest.raises(CheckpointError) as failure:
        run(RunConfig(), plugin_set, resume_from=out)
    message = failure.value.message
    assert "its discriminator state does not fit this run" in message
    assert "Missing key(s)" in message and dropped in message and "--model-option" in message
