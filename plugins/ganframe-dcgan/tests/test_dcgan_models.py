"""The DCGAN networks: the test kit's contract checks, then what is specific to DCGAN."""

import pytest
import torch
from torch import nn

from ganframe import UsageError
from ganframe import ModelSpec, Options
from ganframe.testing import check_generator, check_installed, check_model
from ganframe_dcgan.models import dcgan_discriminator, dcgan_generator


def spec(shape=(1, 28, 28), conditional=False, **options):
    return ModelSpec(shape, 10, 100, conditional, Options({k: str(v) for k, v in options.items()}))


def test_the_installed_distribution_registers_everything():
    names = {(c.kind, c.name) for c in check_installed("ganframe-dcgan")}
    assert names == {
        ("generator", "dcgan"), ("discriminator", "dcgan"), ("generator", "cdcgan"), ("discriminator", "cdcgan"),
        ("loss", "lsgan"), ("loss", "hinge"), ("loss", "wgan-gp"),
        ("generator", "acgan"), ("discriminator", "acgan"), ("loss", "acgan"),
    }


def test_acgan_critic_returns_class_logits_as_an_extra_output():
    generator, discriminator = check_model("acgan", sample_shape=(1, 28, 28), gradient_penalty=True)
    logits, extra = discriminator(torch.rand(3, 1, 28, 28) * 2 - 1)
    assert logits.shape == (3, 1) and extra["class_logits"].shape == (3, 10)


def test_dcgan_meets_the_contract_on_mnist_and_suits_gradient_penalties():
    check_model("dcgan", sample_shape=(1, 28, 28), gradient_penalty=True)


def test_cdcgan_uses_its_labels():
    check_model("cdcgan", sample_shape=(1, 28, 28), gradient_penalty=True)


def test_cdcgan_label_term_starts_small_next_to_the_unconditional_logit():
    """The projection's embedding starts at std 0.02 (ganframe.nn.layers.LabelProjection): with N(0, 1)
    it summed to logits of std ~40 over the 6272 features and swamped the critic at step 0."""
    torch.manual_seed(0)
    critic = dcgan_discriminator(spec(conditional=True))
    x, labels = torch.rand(64, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (64,))
    features = critic.features(x)
    assert critic.projection.score(features, labels).std() < 5 * critic.head(features).std()


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 27, 20), (1, 5, 5), (2, 64, 64)], ids=str)
def test_any_image_shape_works(shape):
    check_model("dcgan", sample_shape=shape, options={"width": 4}, gradient_penalty=True)


def test_mnist_grows_7_14_28_without_cropping_and_the_critic_mirrors_it():
    generator, discriminator = dcgan_generator(spec()), dcgan_discriminator(spec())
    unflatten = next(m for m in generator.modules() if isinstance(m, nn.Unflatten))
    assert unflatten.unflattened_size == (64, 7, 7)
    assert [m.out_channels for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)] == [32, 1]
    assert [m.out_channels for m in discriminator.modules() if isinstance(m, nn.Conv2d)] == [32, 64]
    assert discriminator.head.in_features == 64 * 7 * 7


def test_the_critic_has_no_batchnorm_and_norm_none_removes_its_layer_norm():
    layer = dcgan_discriminator(spec())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in layer.modules())
    assert sum(isinstance(m, nn.GroupNorm) for m in layer.modules()) == 1
    assert not any(isinstance(m, nn.GroupNorm) for m in dcgan_discriminator(spec(norm="none")).modules())


def test_width_scales_every_stage():
    generator = check_generator("dcgan", options={"width": 8})
    assert [m.out_channels for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)] == [8, 1]


@pytest.mark.parametrize("shape", [(2,), (28, 28), (1, 28, 28, 1)], ids=str)
def test_non_image_shapes_are_refused_with_a_way_out(shape):
    with pytest.raises(UsageError) as info:
        dcgan_generator(spec(shape))
    assert str(shape) in info.value.message and "(channels, height, width)" in info.value.message
    assert "'mlp'" in info.value.message


@pytest.mark.parametrize("options, mistake", [({"width": 0}, "width=0"), ({"norm": "batch"}, "norm=batch")])
def test_bad_options_are_usage_errors(options, mistake):
    with pytest.raises(UsageError, match=mistake):
        dcgan_discriminator(spec(**options))


def test_sizes_that_are_not_a_multiple_are_grown_and_cropped_in_the_centre():
    generator = dcgan_generator(spec((1, 26, 26), width=4)).eval()
    z = torch.randn(2, 100)
    with torch.no_grad():
        grown = generator.net(z)
        assert grown.shape[-2:] == (28, 28)  # 7 -> 14 -> 28
        assert torch.equal(generator(z), grown[:, :, 1:27, 1:27])
