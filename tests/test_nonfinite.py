"""A NaN loss (from a test loss plugin) stops the run naming the step and the loss, or is skipped."""

from __future__ import annotations

import math

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.train.nonfinite import NonFiniteLossError
from tests import fixtures_plugins
from tests.helpers import said
from tests.runs import RING, metrics_rows, run


def nan_config(out, *, at, which, log_every=50, **settings) -> RunConfig:
    options = {"at": at, "which": which, **settings.pop("loss_options", {})}
    return RunConfig(
        out=str(out),
        model="mlp-small",
        batch_size=64,
        epochs=3,
        seed=2,
        loss="nan-at",
        loss_options=options,
        log_every=log_every,
        **RING,
        **settings,
    )


@pytest.mark.parametrize("which, at, log_every, epoch", [("g_loss", "15", 50, 2), ("d_loss", "3", 2, 1)])
def test_a_nan_loss_stops_the_run_naming_step_and_loss_and_keeps_the_last_good_checkpoint(
    tmp_path, which, at, log_every, epoch
):
    out = tmp_path / "run"
    with pytest.raises(NonFiniteLossError) as info:
        run(nan_config(out, at=at, which=which, log_every=log_every), fixtures_plugins.plugin_set())
    message = info.value.message
    assert f"{which} became nan at step {at} (epoch {epoch})" in message
    checkpoints = sorted(p.name for p in (out / "checkpoints").glob("*.pt"))
    if epoch == 2:  # found at the end of epoch 2, before its checkpoint: epoch 1's is the last good one
        assert checkpoints == ["epoch-0001.pt"]
        assert str(out / "checkpoints" / "epoch-0001.pt") in message
    else:
        assert checkpoints == [] and "No checkpoint had been written yet" in message
    assert all(row["step"] < int(at) for row in metrics_rows(out)), "no metrics from the bad window"


def test_the_cli_exits_1_with_the_message_and_no_traceback(tmp_path, cli, monkeypatch):
    import ganframe.plugin.manager

    monkeypatch.setattr(ganframe.plugin.manager, "_cached", fixtures_plugins.plugin_set())
    result = cli(
        "run",
        "--dataset",
        "ring",
        "--dataset-option",
        "samples=640",
        "--model",
        "mlp-small",
        "--batch-size",
        "64",
        "--epochs",
        "2",
        "--seed",
        "2",
        "--device",
        "cpu",
        "--loss",
        "nan-at",
        "--loss-option",
        "at=4",
        "--out",
        tmp_path / "run",
    )
    assert result.exit_code == 1
    text = said(result)
    assert "g_loss became nan at step 4 (epoch 1)" in text and "--on-nan skip" in text
    assert "Traceback" not in result.output


def test_on_nan_skip_skips_those_updates_and_counts_them(tmp_path):
    out = tmp_path / "run"
    # poison: the loss is multiplied by NaN, so an update that went ahead would make every weight NaN
    config = nan_config(out, at="3,7,25", which="d_loss", log_every=4, on_nan="skip", loss_options={"poison": "true"})
    state, _ = run(config, fixtures_plugins.plugin_set())
    assert state.stop_reason == "finished" and state.step == 30
    assert state.nonfinite_skipped == 3
    for network in (state.generator, state.discriminator):
        assert all(torch.isfinite(p).all() for p in network.parameters())
    rows = metrics_rows(out)
    assert rows[-1]["nonfinite_skipped"] == 3
    assert all(math.isfinite(row["d_loss"]) for row in rows), "skipped steps are left out of the means"


def test_a_window_whose_every_step_was_skipped_still_writes_its_row_and_the_skips_are_shown(tmp_path):
    """--on-nan skip with steps 1-8 skipped and metrics every 4 steps: two windows without a single
    finite step still get their rows (losses null), and the progress lines and summary count the skips."""
    import io

    from ganframe.run.runner import train

    out = tmp_path / "run"
    config = nan_config(out, at=",".join(map(str, range(1, 9))), which="d_loss", log_every=4, on_nan="skip")
    stream = io.StringIO()
    state = train(config, fixtures_plugins.plugin_set(), stream=stream, interactive=False, notes=io.StringIO())
    assert state.nonfinite_skipped == 8 and state.stop_reason == "finished"
    rows = metrics_rows(out)
    assert [r["step"] for r in rows][:3] == [4, 8, 10], "one row per window, skipped or not"
    for row, skipped in zip(rows[:2], (4, 8)):
        assert row["d_loss"] is None and row["g_loss"] is None and row["nonfinite_skipped"] == skipped
    assert math.isfinite(rows[2]["d_loss"]) and rows[-1]["nonfinite_skipped"] == 8
    text = stream.getvalue()
    assert "step 4/30  every step skipped  skipped 4" in text
    assert "skipped 8" in text.split("step 10/30")[1].splitlines()[0], "later lines keep showing the total"
    summary = text.split("Run summary")[1]
    assert "skipped updates" in summary and "8 step(s) with a non-finite loss" in summary
    assert "final D loss" in summary, "the summary's losses come from the newest row that has them"
    assert (out / "losses.png").is_file()
