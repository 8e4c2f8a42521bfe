"""--g-ema: the average of G's weights is the debiased EMA of the trained weights, never trained
itself, saved in checkpoints and drawn from by sample grids, ``ganframe sample`` and ``eval``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganframe.config import RunConfig, validate
from ganframe.errors import UsageError
from ganframe.train.weight_average import WeightAverage
from tests.helpers import said
from tests.runs import newest, rewrite_newest, ring_config, run


def _network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_the_first_update_copies_and_later_ones_are_the_debiased_average():
    network = _network()
    average = WeightAverage(network, decay=0.9)
    history = []
    for _ in range(5):
        with torch.no_grad():
            for p in network.parameters():
                p.add_(torch.randn_like(p))
        network.train()(torch.randn(8, 3))  # moves BatchNorm's running statistics
        history.append([p.detach().clone() for p in network.parameters()])
        average.update()
    # debiased EMA: sum_i d^(n-i) (1-d) w_i / (1 - d^n)
    n, d = len(history), 0.9
    for k, p in enumerate(average.network.parameters()):
        expected = sum(d ** (n - i) * (1 - d) * w[k] for i, w in enumerate(history, start=1)) / (1 - d**n)
        assert torch.allclose(p, expected, atol=1e-6)
        assert not torch.equal(p, history[-1][k]), "the average must differ from the last weights"
        assert not p.requires_grad
    for avg_buffer, buffer in zip(average.network.buffers(), network.buffers()):
        assert torch.equal(avg_buffer, buffer), "buffers are copied, not averaged"


def test_the_first_update_is_a_copy_and_the_source_is_untouched():
    network = _network()
    average = WeightAverage(network, decay=0.999)
    with torch.no_grad():
        for p in network.parameters():
            p.mul_(3)
    before = [p.clone() for p in network.parameters()]
    average.update()
    assert all(torch.equal(a, b) for a, b in zip(average.network.parameters(), network.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, network.parameters()))
    assert all(p.requires_grad for p in network.parameters())


def test_state_dict_round_trip_keeps_the_update_count():
    network = _network()
    average = WeightAverage(network, decay=0.99)
    for _ in range(3):
        average.update()
    other = WeightAverage(_network(), decay=0.99)
    other.load_state_dict(average.state_dict())
    assert other.updates == 3
    assert all(
        torch.equal(a, b) for a, b in zip(other.network.state_dict().values(), average.network.state_dict().values())
    )


@pytest.mark.parametrize("decay", [1.0, -0.1, 1.5])
def test_a_decay_outside_0_1_is_a_usage_error(decay):
    with pytest.raises(UsageError, match=rf"--g-ema must be a decay in \[0, 1\).*got {decay}"):
        validate(RunConfig(g_ema=decay))


def test_training_keeps_the_average_in_checkpoints_and_grids_draw_from_it(tmp_path, plugin_set):
    from ganframe.nn.conditioning import Conditioned
    from ganframe.run.sampling import generate

    state, _ = run(ring_config(tmp_path / "run", epochs=2, g_ema=0.9), plugin_set)
    checkpoint = newest(tmp_path / "run")
    saved = checkpoint.generator_ema
    assert saved["updates"] == state.step == 20 and saved["decay"] == 0.9
    differs = [name for name, t in saved["network"].items() if not torch.equal(t, checkpoint.generator[name])]
    assert differs, "after 20 steps the average must differ from the last weights"
    assert state.sample_generator is state.g_average.network
    samples = generate(Conditioned(state.sample_generator), state.fixed_noise, None)
    trained = generate(Conditioned(state.generator), state.fixed_noise, None)
    assert not torch.allclose(samples, trained)


def test_g_ema_0_keeps_no_average(tmp_path, plugin_set):
    state, _ = run(ring_config(tmp_path / "run", epochs=1, g_ema=0.0), plugin_set)
    assert state.g_average is None and state.sample_generator is state.generator
    assert newest(tmp_path / "run").generator_ema is None


def test_models_choose_their_average(plugin_set):
    from ganframe.config import resolve

    registry = plugin_set.registry
    for model, decay in (("mlp", 0.0), ("cgan", 0.999), ("mlp-small", 0.99), ("batchnorm", 0.0)):
        defaults = registry.get("generator", model).defaults
        assert resolve(RunConfig(model=model, seed=0), defaults).g_ema == decay
        assert resolve(RunConfig(model=model, seed=0, g_ema=0.0), defaults).g_ema == 0.0


def test_sample_and_eval_choose_the_weights(tmp_path, plugin_set, cli):
    from ganframe.run.sampling import load_generator

    run(ring_config(tmp_path / "run", epochs=1), plugin_set)  # ring_config keeps an average (--g-ema 0.999)
    registry = plugin_set.registry
    auto = load_generator(tmp_path / "run", registry)
    ema = load_generator(tmp_path / "run", registry, weights="ema")
    trained = load_generator(tmp_path / "run", registry, weights="trained")
    assert auto.weights == ema.weights == "ema" and trained.weights == "trained"
    a, _ = auto.sample(16, seed=3)
    assert torch.equal(a, ema.sample(16, seed=3)[0])
    assert not torch.allclose(a, trained.sample(16, seed=3)[0])
    for weights in ("ema", "trained"):
        result = cli(
            "sample",
            str(tmp_path / "run"),
            "--out",
            str(tmp_path / f"{weights}.pt"),
            "--weights",
            weights,
            "--seed",
            "3",
        )
        assert result.exit_code == 0, result.output
    assert not torch.equal(torch.load(tmp_path / "ema.pt")["images"], torch.load(tmp_path / "trained.pt")["images"])

    run(ring_config(tmp_path / "plain", epochs=1, g_ema=0.0), plugin_set)
    result = cli("sample", str(tmp_path / "plain"), "--out", str(tmp_path / "x.pt"), "--weights", "ema")
    message = said(result)
    assert result.exit_code != 0 and "holds no average" in message and "--weights trained" in message
    assert not (tmp_path / "x.pt").exists()
    result = cli("sample", str(tmp_path / "plain"), "--out", str(tmp_path / "x.pt"), "--weights", "emma")
    assert result.exit_code != 0 and "Did you mean 'ema'" in result.output


def test_resuming_a_checkpoint_without_an_average_starts_one_and_says_so(tmp_path, plugin_set):
    out = tmp_path / "run"
    run(ring_config(out, max_steps=10), plugin_set)
    rewrite_newest(out, lambda payload: payload.pop("generator_ema"))  # as written before --g-ema existed
    state, notes = run(RunConfig(), plugin_set, resume_from=out)
    assert "holds no average of G's weights" in notes
    assert state.g_average.updates == state.step - 10
