"""Each built-in loss against a hand computation on fixed logits."""

import math

import pytest
import torch

from ganframe.nn.losses import LossInputs
from ganframe.plugin.specs import LossSpec, Options

REAL = [2.0, -1.0, 0.5, 3.0]
FAKE = [-0.3, 1.2, 0.0, -2.5]


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def hand_bce(logits, target):
    return sum(-(target * math.log(sigmoid(l)) + (1 - target) * math.log(1 - sigmoid(l))) for l in logits) / len(logits)


def make(plugin_set, name, **options):
    factory = plugin_set.registry.get("loss", name).load()
    return factory(LossSpec(Options({k: str(v) for k, v in options.items()})))


def inputs(phase, real=REAL, fake=FAKE):
    r, f = torch.tensor(real), torch.tensor(fake, requires_grad=True)
    return LossInputs(phase, r if phase == "discriminator" else None, f, r, f, None, None, lambda x, y: x)


def test_bce(plugin_set):
    loss = make(plugin_set, "bce")
    d = loss.discriminator_loss(inputs("discriminator")).item()
    g = loss.generator_loss(inputs("generator")).item()
    assert d == pytest.approx((hand_bce(REAL, 1) + hand_bce(FAKE, 0)) / 2, rel=1e-6)
    assert g == pytest.approx(hand_bce(FAKE, 1), rel=1e-6)


@pytest.mark.parametrize("smooth", [0.9, 0.7])
def test_bce_smooth_changes_only_the_real_targets(plugin_set, smooth):
    loss = make(plugin_set, "bce-smooth", smooth=smooth)
    d = loss.discriminator_loss(inputs("discriminator")).item()
    g = loss.generator_loss(inputs("generator")).item()
    assert d == pytest.approx((hand_bce(REAL, smooth) + hand_bce(FAKE, 0)) / 2, rel=1e-6)
    assert g == pytest.approx(hand_bce(FAKE, 1), rel=1e-6), "G's loss is unchanged by smoothing"
    plain = make(plugin_set, "bce").discriminator_loss(inputs("discriminator")).item()
    assert d - plain == pytest.approx((hand_bce(REAL, smooth) - hand_bce(REAL, 1)) / 2, rel=1e-5)


def test_bce_smooth_defaults_to_0_9(plugin_set):
    assert make(plugin_set, "bce-smooth").real_target == 0.9


def test_minimax_generator_loss_is_the_saturating_form(plugin_set):
    loss = make(plugin_set, "minimax")
    d = loss.discriminator_loss(inputs("discriminator")).item()
    g = loss.generator_loss(inputs("generator")).item()
    assert d == pytest.approx((hand_bce(REAL, 1) + hand_bce(FAKE, 0)) / 2, rel=1e-6)
    assert g == pytest.approx(sum(math.log(1 - sigmoid(l)) for l in FAKE) / len(FAKE), rel=1e-6)


def test_minimax_saturates_where_the_non_saturating_loss_does_not(plugin_set):
    """When D confidently rejects fakes (logit -10), log(1 - D) gives G almost no gradient."""
    grads = {}
    for name in ("minimax", "bce"):
        batch = inputs("generator", fake=[-10.0, -10.0])
        make(plugin_set, name).generator_loss(batch).backward()
        grads[name] = batch.fake_logits.grad.abs().mean().item()
    assert grads["minimax"] < 1e-4
    assert grads["bce"] > 0.4


def test_smooth_out_of_range_is_rejected(plugin_set):
    from ganframe.errors import UsageError

    with pytest.raises(UsageError, match="--smooth"):
        make(plugin_set, "bce-smooth", smooth=1.5)
