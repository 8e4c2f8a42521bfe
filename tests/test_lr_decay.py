"""--lr-decay: the learning rates follow the declared curve, resume follows it bit for bit, and the
options it cannot work with are refused up front."""

from __future__ import annotations

import pytest
import torch

from ganframe.config import RunConfig, resolve, validate
from ganframe.errors import UsageError
from ganframe.train.lr_decay import LinearDecay, make_lr_decay
from tests.runs import assert_same_training, newest, ring_config, run


def _optimizers(lr: float = 1e-3):
    params = [torch.nn.Parameter(torch.zeros(3))]
    return torch.optim.Adam(params, lr=lr), torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def test_linear_decay_starts_at_the_base_rate_and_falls_in_a_straight_line_to_zero():
    optimizers = _optimizers()
    decay = LinearDecay(optimizers, base_lr=1e-3, planned_steps=10)
    seen = []
    for step in range(10):
        decay.before_step(step)
        seen.append([group["lr"] for o in optimizers for group in o.param_groups])
    assert all(len(set(lrs)) == 1 for lrs in seen)  # every group of both networks alike
    rates = [lrs[0] for lrs in seen]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-4)
    steps = [a - b for a, b in zip(rates, rates[1:])]
    assert steps == pytest.approx([1e-4] * 9)
    decay.before_step(25)  # past the planned end (more --epochs on resume would re-plan): never negative
    assert optimizers[0].param_groups[0]["lr"] == 0.0


def test_constant_needs_nothing_per_step_and_an_unknown_kind_is_a_bug():
    assert make_lr_decay("constant", _optimizers(), 1e-3, 10) is None
    with pytest.raises(ValueError, match="cosine"):
        make_lr_decay("cosine", _optimizers(), 1e-3, 10)


def test_a_run_with_linear_decay_ends_near_zero_and_a_constant_one_keeps_its_rate(tmp_path, plugin_set):
    decayed, _ = run(ring_config(tmp_path / "linear", lr=1e-3, lr_decay="linear"), plugin_set)
    constant, _ = run(ring_config(tmp_path / "constant", lr=1e-3, lr_decay="constant"), plugin_set)
    total = decayed.total_steps
    assert total == 40
    for state, expected in ((decayed, 1e-3 / total), (constant, 1e-3)):  # the last step ran at 1/40 of the base
        for optimizer in (state.g_optimizer, state.d_optimizer):
            assert optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert not torch.equal(
        newest(tmp_path / "linear").generator["0.weight"], newest(tmp_path / "constant").generator["0.weight"]
    )


def test_a_decayed_run_stopped_and_resumed_ends_bitwise_identical(tmp_path, plugin_set):
    """The curve is a function of the step count and --epochs, not of the restored optimizer's lr."""
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run(ring_config(whole, lr_decay="linear"), plugin_set)
    state, _ = run(ring_config(parts, lr_decay="linear", max_steps=17), plugin_set)
    assert state.step == 17
    state, _ = run(RunConfig(), plugin_set, resume_from=parts)
    assert state.step == 40
    assert_same_training(newest(parts), newest(whole))


def test_linear_decay_with_a_cuda_graph_is_refused_naming_both_options():
    with pytest.raises(UsageError) as error:
        validate(RunConfig(cuda_graph=True, lr_decay="linear"))
    assert "--lr-decay linear" in str(error.value) and "--cuda-graph" in str(error.value)
    validate(RunConfig(cuda_graph=True, lr_decay="constant"))  # the remedy the message names is accepted


def test_an_unknown_decay_is_refused_with_a_suggestion():
    with pytest.raises(UsageError, match="Did you mean 'linear'"):
        validate(RunConfig(lr_decay="lineer"))


def test_a_run_recorded_before_the_option_existed_keeps_a_constant_rate():
    old = resolve(RunConfig(), {}).to_dict()
    del old["lr_decay"]
    assert RunConfig.from_dict(old).lr_decay == "constant"
    assert resolve(RunConfig(), {"lr_decay": "linear"}).lr_decay == "linear"  # a model or data set may default it
