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
    return RunConfig(out=str(out), model="mlp-small", batch_size=64, epochs=3, seed=2, loss="nan-at",
                     loss_options=options, log_every=log_every, **RING, **settings)


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
    result = cli("run", "--dataset", "ring", "--dataset-option", "samples=640", "--model", "mlp-small",
                 "--batch-size", "64", "--epochs", "2", "--seed", "2", "--device", "cpu", "--loss", "nan-at",
                 "--loss-option", "at=4", "--out", tmp_path / "run")
    assert result.exit_code == 1
    text = said(result)
    assert "g_loss became nan at step 4 (epoch 1)" in text and "--on-nan skip" in text
    assert "Traceback" not in result.output


def test_on_nan_skip_skips_those_updates_and_counts_them(tmp_path):
    out = tmp_path / "run"
    # poison: the loss is multiplied by NaN, so an update that went ahead would make every weight NaN
    config = nan_config(out, at="3,7,25", which="d_loss", log_every=4, on_nan="skip",
                        loss_options={"poison": "true"})
    state, _ = run(config, fixtures_plugins.plugin_set())
    assert state.stop_reason == "finished" and state.step == 30
    assert state.nonfinite_skipped == 3
    for network in (state.generator, state.discriminator):
        assert all(torch.isfinite(p).all() for p in network.parameters())
    rows = metrics_rows(out)
    assert rows[-1]["nonfinite_skipped"] == 3
    assert all(math.isfinite(row["d_loss"]) for row in rows), "skipped steps are left out of the means"
