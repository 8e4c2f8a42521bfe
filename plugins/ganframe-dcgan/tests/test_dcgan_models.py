"""The DCGAN networks: the test kit's contract checks, then what is specific to DCGAN."""

import pytest
import torch
from torch import nn

from ganframe import ModelSpec, Options, UsageError
from ganframe.testing import check_generator, check_installed, check_model
from ganframe_dcgan.models import dcgan_discriminator, dcgan_generator


def spec(shape=(1, 28, 28), conditional=False, **options):
    return ModelSpec(shape, 10, 100, conditional, Options({k: str(v) for k, v in options.items()}))


def test_the_installed_distribution_registers_everything():
    names = {(c.kind, c.name) for c in check_installed("ganframe-dcgan")}
    assert names == {
        ("generator", "dcgan"),
        ("discriminator", "dcgan"),
        ("generator", "cdcgan"),
        ("discriminator", "cdcgan"),
        ("loss", "lsgan"),
        ("loss", "hinge"),
        ("loss", "wgan-gp"),
        ("generator", "acgan"),
        ("discriminator", "acgan"),
        ("loss", "acgan"),
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


@pytest.mark.parametrize("conditional", [False, True], ids=["dcgan", "cdcgan"])
@pytest.mark.parametrize("size", [32, 64])
def test_rgb_images_at_32_and_64_build_and_take_a_training_step(size, conditional):
    """What `--dataset image-folder` (size=32 or 64), cifar10 and celeba feed the models: 3xSxS.
    One Adam step on each network moves its weights and keeps the losses finite."""
    torch.manual_seed(0)
    model_spec = spec((3, size, size), conditional=conditional, width=8)
    generator, discriminator = dcgan_generator(model_spec), dcgan_discriminator(model_spec)
    unflatten = next(m for m in generator.modules() if isinstance(m, nn.Unflatten))
    assert unflatten.unflattened_size[-2:] == (4, 4)  # doubled to 32 or 64 without a crop
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    real, labels, z = torch.rand(8, 3, size, size) * 2 - 1, torch.randint(0, 10, (8,)), torch.randn(8, 100)
    extra = (labels,) if conditional else ()
    before = [p.detach().clone() for p in (*generator.parameters(), *discriminator.parameters())]
    fake = generator(z, *extra)
    assert fake.shape == (8, 3, size, size) and fake.abs().max() <= 1
    bce = nn.functional.binary_cross_entropy_with_logits
    real_logits, fake_logits = discriminator(real, *extra).view(-1), discriminator(fake.detach(), *extra).view(-1)
    d_loss = bce(real_logits, torch.ones(8)) + bce(fake_logits, torch.zeros(8))
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    g_loss = bce(discriminator(generator(z, *extra), *extra).view(-1), torch.ones(8))
    g_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
    after = [*generator.parameters(), *discriminator.parameters()]
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    moved = [not torch.equal(a, b) for a, b in zip(before, after)]
    assert sum(moved) > len(moved) // 2
