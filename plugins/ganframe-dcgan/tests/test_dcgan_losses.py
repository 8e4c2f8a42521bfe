"""The losses: the test kit's checks in both phases, then each formula by hand."""

import pytest
import torch
from torch import nn

from ganframe import LossInputs, LossSpec, Options, UsageError
from ganframe.testing import check_loss
from ganframe_dcgan.losses import ACGANLoss, HingeLoss, LSGANLoss, WGANGPLoss, gradient_penalty

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE = torch.tensor([-0.3, 1.2, 0.0, -2.5])


def inputs(phase="discriminator", real=None, fake=None, discriminator=None):
    real = torch.rand(4, 3) * 2 - 1 if real is None else real
    fake = torch.rand(4, 3) * 2 - 1 if fake is None else fake
    return LossInputs(
        phase,
        REAL if phase == "discriminator" else None,
        FAKE,
        real,
        fake,
        None,
        None,
        discriminator or (lambda x, labels: x.sum(1)),
    )


@pytest.mark.parametrize("name", ["lsgan", "hinge", "wgan-gp"])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_every_loss_meets_the_contract(name, conditional):
    check_loss(name, conditional=conditional)


def test_wgan_gp_reads_its_weight_option():
    assert check_loss("wgan-gp", options={"gp_weight": "2.5"}).gp_weight == 2.5
    with pytest.raises(UsageError, match="gp_weight=-1.0"):
        WGANGPLoss(LossSpec(Options({"gp_weight": "-1"})))


def test_lsgan_by_hand():
    loss = LSGANLoss(LossSpec())
    d = ((REAL - 1) ** 2).mean() / 2 + (FAKE**2).mean() / 2
    assert loss.discriminator_loss(inputs()).item() == pytest.approx(d.item())
    assert loss.generator_loss(inputs("generator")).item() == pytest.approx((((FAKE - 1) ** 2).mean() / 2).item())


def test_hinge_by_hand():
    loss = HingeLoss(LossSpec())
    # real: max(0, 1 - [2, -1, .5, 3]) = [0, 2, .5, 0]; fake: max(0, 1 + [-.3, 1.2, 0, -2.5]) = [.7, 2.2, 1, 0]
    assert loss.discriminator_loss(inputs()).item() == pytest.approx(2.5 / 4 + 3.9 / 4)
    assert loss.generator_loss(inputs("generator")).item() == pytest.approx(-FAKE.mean().item())


def test_the_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_1_squared():
    """D(x) = w.x has gradient w everywhere, so the penalty is (|w| - 1)^2 wherever it samples."""
    critic = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[2.0, 1.0, 2.0]]))  # norm 3
    batch = inputs(discriminator=lambda x, labels: critic(x).reshape(len(x)))
    assert gradient_penalty(batch).item() == pytest.approx(4.0)
    total = WGANGPLoss(LossSpec(Options({"gp_weight": "10"}))).discriminator_loss(batch)
    assert total.item() == pytest.approx((FAKE.mean() - REAL.mean()).item() + 40.0, rel=1e-5)
    total.backward()  # d/dw 10 * (|w| - 1)^2 = 20 * (|w| - 1) * w / |w|
    assert torch.allclose(critic.weight.grad, 20 * 2 * critic.weight.detach() / 3)


def test_the_penalty_uses_interpolates_between_real_and_fake():
    seen = []

    def critic(x, labels):
        seen.append(x.detach().clone())
        return (x**2).sum(1)

    real, fake = torch.zeros(4, 3), torch.ones(4, 3)
    gradient_penalty(inputs(real=real, fake=fake, discriminator=critic))
    [points] = seen
    # each interpolate is e * real + (1 - e) * fake: all coordinates equal one value in [0, 1]
    assert torch.all((points >= 0) & (points <= 1))
    assert torch.allclose(points, points[:, :1].expand_as(points))
    assert points[:, 0].unique().numel() == 4, "a fresh e per sample"


def test_acgan_adds_class_cross_entropy_from_the_extra_outputs():
    import torch.nn.functional as F

    loss = ACGANLoss(LossSpec(Options({"class_weight": "2"})))
    classes = torch.randn(4, 10, requires_grad=True)
    labels = torch.tensor([1, 2, 3, 4])
    common = dict(real_extra={"class_logits": classes}, fake_extra={"class_logits": classes})
    d = LossInputs(
        "discriminator",
        REAL,
        FAKE,
        torch.zeros(4, 3),
        torch.zeros(4, 3),
        labels,
        labels,
        lambda x, y: x.sum(1),
        **common,
    )
    bce = (
        F.binary_cross_entropy_with_logits(REAL, torch.ones(4))
        + F.binary_cross_entropy_with_logits(FAKE, torch.zeros(4))
    ) / 2
    assert torch.allclose(loss.discriminator_loss(d), bce + 2 * F.cross_entropy(classes, labels))
    g = LossInputs(
        "generator", None, FAKE, torch.zeros(4, 3), torch.zeros(4, 3), labels, labels, lambda x, y: x.sum(1), **common
    )
    value = loss.generator_loss(g)
    value.backward()
    assert classes.grad is not None and classes.grad.abs().sum() > 0, "G is trained to make its class recognisable"
    no_head = LossInputs(
        "generator", None, FAKE, torch.zeros(4, 3), torch.zeros(4, 3), labels, labels, lambda x, y: x.sum(1)
    )
    with pytest.raises(UsageError, match="class_logits.*--model acgan"):
        loss.generator_loss(no_head)


def test_wgan_gp_defaults_the_run_to_the_papers_algorithm():
    from ganframe.testing import check_installed

    [component] = [c for c in check_installed("ganframe-dcgan") if (c.kind, c.name) == ("loss", "wgan-gp")]
    assert component.defaults == {"step": "n-critic", "beta1": 0.0, "beta2": 0.9}
