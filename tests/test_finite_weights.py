"""Finite weights only: no checkpoint is written from NaN/Inf weights, sample / eval / --resume refuse them."""

from __future__ import annotations

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.plugin.spec import hookimpl
from ganframe.train.nonfinite import NonFiniteWeightsError, nonfinite_entries
from tests.helpers import said
from tests.runs import newest, rewrite_newest, ring_config, run


class PoisonG:
    """Fills G's first weight with NaN after step ``at``: the loss of that step was finite, so only
    the check of the weights can stop a checkpoint from being written from them."""

    def __init__(self, at: int):
        self.at = at

    @hookimpl
    def on_step_end(self, state):
        if state.step == self.at:
            with torch.no_grad():
                next(state.generator.parameters()).fill_(float("nan"))


def test_no_checkpoint_is_written_from_nan_weights_and_the_message_names_the_checked_one(tmp_path, plugin_set):
    out = tmp_path / "run"
    with pytest.raises(NonFiniteWeightsError) as stopped:  # step 20 ends epoch 2: its losses were all finite
        run(ring_config(out, epochs=3), plugin_set, extra_plugins=[PoisonG(at=20)])
    message = stopped.value.message
    assert "Training stopped at step 20 (epoch 2): the weights hold NaN or Inf ('generator." in message
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001.pt"]
    assert f"The last good checkpoint is kept: {out / 'checkpoints' / 'epoch-0001.pt'}" in message
    assert nonfinite_entries(newest(out).generator) == []


def test_a_run_stopping_cleanly_with_nan_weights_writes_no_final_checkpoint(tmp_path, plugin_set):
    out = tmp_path / "run"
    with pytest.raises(NonFiniteWeightsError, match="No checkpoint had been written yet"):
        run(ring_config(out, max_steps=5), plugin_set, extra_plugins=[PoisonG(at=5)])
    assert list((out / "checkpoints").glob("*.pt")) == []


@pytest.fixture
def nan_run(tmp_path, plugin_set):
    """A 2-epoch run whose newest checkpoint (epoch 2) has NaN in G, its average and D, as an older
    ganframe could have written it."""
    out = tmp_path / "nan"
    run(ring_config(out, epochs=2), plugin_set)

    def poison(payload):
        payload["generator"][next(iter(payload["generator"]))].fill_(float("nan"))
        payload["generator_ema"]["network"][next(iter(payload["generator_ema"]["network"]))].fill_(float("inf"))

    rewrite_newest(out, poison)
    return out


@pytest.mark.parametrize("weights", ["trained", "ema"])
def test_sample_and_eval_refuse_nan_weights_with_a_message(tmp_path, cli, nan_run, weights):
    target = tmp_path / "samples.png"
    for args in (("sample", nan_run, "--out", target), ("eval", nan_run, "--json", "--n", "10")):
        result = cli(*args, "--weights", weights)
        assert result.exit_code == 2, result.output
        text = said(result)
        assert "epoch-0002.pt" in text and "hold NaN or Inf" in text and "Traceback" not in result.output
    assert not target.exists()


def test_resume_passes_over_a_nan_checkpoint_to_the_newest_finite_one(nan_run, plugin_set):
    state, notes = run(RunConfig(epochs=3), plugin_set, resume_from=nan_run, explicit={"epochs"})
    assert f"Skipped checkpoint {nan_run / 'checkpoints' / 'epoch-0002.pt'}: its weights hold NaN or Inf" in notes
    assert state.resumed_from == nan_run / "checkpoints" / "epoch-0001.pt"
    assert state.stop_reason == "finished" and state.step == 30
