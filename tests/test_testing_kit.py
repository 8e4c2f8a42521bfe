"""The plugin test kit (ganframe.testing): passes ganframe's own components, and catches
each mistake it promises to catch with a message that names it."""

import pytest
import torch
from torch import nn

from ganframe import hookimpl
from ganframe.nn.layers import Reshape
from ganframe.testing import (
    check_dataset,
    check_discriminator,
    check_generator,
    check_installed,
    check_loss,
    check_model,
    check_plugin,
)
from ganframe.train.data import InMemoryDataset
from tests.plugin_dists import LOSS_PLUGIN

SHAPE = (1, 6, 6)


# -- ganframe's own components pass -------------------------------------------------------
@pytest.mark.parametrize("model", ["mlp", "cgan", "mlp-small", "batchnorm"])
def test_the_built_in_models_pass(model):
    check_model(model, sample_shape=SHAPE)


@pytest.mark.parametrize("loss", ["bce", "bce-smooth", "minimax"])
def test_the_built_in_losses_pass(loss):
    check_loss(loss)
    check_loss(loss, conditional=True)


def test_the_built_in_data_sets_pass(tiny_root):
    check_dataset("mnist", root=tiny_root, sample_shape=(1, 28, 28), num_classes=10)
    check_dataset("mnist", root=tiny_root, train=False)
    check_dataset("ring", root=tiny_root, sample_shape=(2,), num_classes=0, options={"samples": "100"})


# -- generators ----------------------------------------------------------------------------
class Generator(nn.Module):
    """A correct small generator; subclasses below break one thing each."""

    def __init__(self, spec):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(spec.latent_dim, 36), nn.Tanh(), Reshape(SHAPE))

    def forward(self, z):
        return self.net(z)


class FlatOutput(Generator):
    def forward(self, z):
        return self.net(z).flatten(1)


class NoTanh(Generator):
    def forward(self, z):
        return self.net(z) * 3


class UnusedLayer(Generator):
    def __init__(self, spec):
        super().__init__(spec)
        self.extra = nn.Linear(3, 3)


class IgnoresNoise(Generator):
    def forward(self, z):
        return self.net(torch.zeros_like(z))


class MakesCpuTensors(Generator):
    def forward(self, z):
        return self.net(z) * torch.ones(SHAPE)  # no device=z.device


class PlainAttribute(Generator):
    def __init__(self, spec):
        super().__init__(spec)
        self.scale = torch.ones(SHAPE)  # not a registered buffer: .to() leaves it behind

    def forward(self, z):
        return self.net(z) * self.scale


class Detached(Generator):
    def forward(self, z):
        return self.net(z).detach()


class IgnoresLabels(Generator):
    def forward(self, z, labels):
        return self.net(z)


def reads_option(spec):
    spec.options.get("width", 8)
    return Generator(spec)


@pytest.mark.parametrize(
    "factory, conditional, message",
    [
        (lambda spec: "not a module", False, "must return a torch.nn.Module"),
        (FlatOutput, False, "has shape (4, 36); expected (4, 1, 6, 6)"),
        (NoTanh, False, "must lie in [-1, 1]"),
        (UnusedLayer, False, "no gradient reaches these generator parameters: extra.weight, extra.bias"),
        (IgnoresNoise, False, "does not depend on the noise"),
        (MakesCpuTensors, False, "fails after .to('meta')"),
        (PlainAttribute, False, "fails after .to('meta')"),
        (Detached, False, "backward() from the output raised RuntimeError"),
        (IgnoresLabels, True, "same output for every class label"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_generator_mistakes_are_caught(factory, conditional, message):
    with pytest.raises(AssertionError) as info:
        check_generator(factory, sample_shape=SHAPE, conditional=conditional)
    assert message in str(info.value)


def test_the_correct_generator_passes_and_unread_options_are_caught():
    check_generator(Generator, sample_shape=SHAPE)
    check_generator(reads_option, sample_shape=SHAPE, options={"width": "4"})
    with pytest.raises(AssertionError, match="never read.*'widht'.*Did you mean 'width'"):
        check_generator(reads_option, sample_shape=SHAPE, options={"widht": "4"})


def test_model_options_are_shared_by_g_and_d_as_in_a_run():
    """``projection`` is read by cgan's D only, as ``ganframe run --model-option`` allows; an option
    neither network reads is still caught."""
    check_model("cgan", sample_shape=SHAPE, options={"projection": "false", "embedding_dim": "8"})
    with pytest.raises(AssertionError, match="model 'cgan'.*never read.*'projecton'.*Did you mean 'projection'"):
        check_model("cgan", sample_shape=SHAPE, options={"projecton": "false"})


def test_the_device_hint_explains_the_fix():
    with pytest.raises(AssertionError) as info:
        check_generator(MakesCpuTensors, sample_shape=SHAPE)
    assert "device=" in str(info.value) and "register_buffer" in str(info.value)
    check_generator(MakesCpuTensors, sample_shape=SHAPE, devices=["cpu"])  # opting out works


# -- discriminators ------------------------------------------------------------------------
class Discriminator(nn.Module):
    def __init__(self, spec, batchnorm=False):
        super().__init__()
        norm = [nn.BatchNorm1d(8)] if batchnorm else []
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(36, 8), *norm, nn.LeakyReLU(0.2), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(x)


class TwoLogits(Discriminator):
    def forward(self, x):
        return torch.cat([self.net(x), self.net(x)], dim=1)


class DetachedInput(Discriminator):
    def forward(self, x):
        return self.net(x.detach())


@pytest.mark.parametrize(
    "factory, kwargs, message",
    [
        (TwoLogits, {}, "has shape (4, 2); expected (4,)"),
        (DetachedInput, {}, "no gradient reaches the input samples"),
        (lambda spec: Discriminator(spec, batchnorm=True), {"gradient_penalty": True}, "the samples interact"),
    ],
    ids=["two-logits", "detached-input", "batchnorm-with-gradient-penalty"],
)
def test_discriminator_mistakes_are_caught(factory, kwargs, message):
    with pytest.raises(AssertionError) as info:
        check_discriminator(factory, sample_shape=SHAPE, **kwargs)
    assert message in str(info.value)


def test_batchnorm_is_fine_without_a_gradient_penalty():
    check_discriminator(lambda spec: Discriminator(spec, batchnorm=True), sample_shape=SHAPE)


# -- losses --------------------------------------------------------------------------------
class Loss:
    def __init__(self, spec):
        pass

    def discriminator_loss(self, inputs):
        return inputs.fake_logits.mean() - inputs.real_logits.mean()

    def generator_loss(self, inputs):
        return -inputs.fake_logits.mean()


class PerSample(Loss):
    def discriminator_loss(self, inputs):
        return inputs.fake_logits - inputs.real_logits


class Flipped(Loss):
    def discriminator_loss(self, inputs):
        return inputs.real_logits.mean() - inputs.fake_logits.mean()


class UsesRealLogitsForG(Loss):
    def generator_loss(self, inputs):
        return inputs.real_logits.mean() - inputs.fake_logits.mean()


class CpuConstant(Loss):
    def generator_loss(self, inputs):
        return -(inputs.fake_logits * torch.ones(len(inputs.fake_logits))).mean()


class ChecksDetachedFakes(Loss):
    """Asserts what the engine guarantees: D-phase fakes carry no graph into G."""

    def discriminator_loss(self, inputs):
        assert inputs.fake.grad_fn is None, "fakes must carry no graph into G in the D phase"
        return super().discriminator_loss(inputs)


@pytest.mark.parametrize(
    "factory, message",
    [
        (PerSample, "it must return a 0-dim tensor"),
        (Flipped, "Is a sign flipped?"),
        (UsesRealLogitsForG, "generator_loss(inputs) in the generator phase raised AttributeError"),
        (CpuConstant, "with networks and batches on 'meta'"),
        (lambda spec: object(), "without a discriminator_loss(inputs) method"),
    ],
    ids=["per-sample", "flipped", "real-logits-in-G-phase", "cpu-constant", "no-methods"],
)
def test_loss_mistakes_are_caught(factory, message):
    with pytest.raises(AssertionError) as info:
        check_loss(factory)
    assert message in str(info.value)


def test_the_phases_are_those_of_the_engine():
    check_loss(ChecksDetachedFakes)
    check_loss(Flipped, check_signs=False)


# -- data sets -----------------------------------------------------------------------------
class Unlabelled(torch.utils.data.Dataset):
    sample_shape, num_classes = (2,), 0

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return torch.zeros(2), None


@pytest.mark.parametrize(
    "factory, kwargs, message",
    [
        (lambda spec: InMemoryDataset(torch.rand(10, 2) * 4), {}, "floats must already be in [-1, 1]"),
        (lambda spec: InMemoryDataset(torch.rand(10, 2), torch.arange(10), num_classes=5), {}, "outside 0..4"),
        (lambda spec: InMemoryDataset(torch.rand(10, 3)), {"sample_shape": (2,)}, "declares sample_shape (3,)"),
        (lambda spec: Unlabelled(), {}, "never (x, None)"),
        (lambda spec: [1, 2], {}, "has no 'sample_shape'"),
    ],
    ids=["out-of-range", "bad-labels", "wrong-shape", "none-labels", "not-a-dataset"],
)
def test_data_set_mistakes_are_caught(tmp_path, factory, kwargs, message):
    with pytest.raises(AssertionError) as info:
        check_dataset(factory, root=tmp_path, **kwargs)
    assert message in str(info.value)


# -- registration --------------------------------------------------------------------------
class GoodPlugin:
    @hookimpl
    def register_losses(self, register):
        register("kit-loss", Loss)


class TypoPlugin:
    @hookimpl
    def register_loss(self, register):
        register("kit-loss", Loss)


class UsurperPlugin:
    @hookimpl
    def register_losses(self, register):
        register("bce", Loss)


def test_check_plugin_returns_what_a_clean_plugin_registered():
    [component] = check_plugin(GoodPlugin(), name="good")
    assert (component.kind, component.name, component.load()) == ("loss", "kit-loss", Loss)


@pytest.mark.parametrize(
    "plugin, message",
    [(TypoPlugin(), "'register_loss', which is not a ganframe hook"), (UsurperPlugin(), "ganframe's built-in")],
)
def test_check_plugin_fails_on_what_the_loader_would_warn_about(plugin, message):
    with pytest.raises(AssertionError, match=message):
        check_plugin(plugin, name="kit")


def test_check_installed_names_a_missing_distribution_and_a_bad_factory_string(site):
    with pytest.raises(AssertionError, match="no plugin of distribution 'gf-absent'"):
        check_installed("gf-absent")
    site.add(
        "gf-bad-string",
        {
            "gf_bad_string": """
        from ganframe import hookimpl

        @hookimpl
        def register_losses(register):
            register("bad-string", "gf_bad_string:Missing")
    """
        },
    )
    with pytest.raises(AssertionError, match="'gf_bad_string:Missing' failed to import: AttributeError"):
        check_installed("gf_bad_string")


def test_check_installed_ignores_a_name_shared_with_another_plugin_but_not_with_a_built_in(site):
    site.add("gf-alpha", {"gf_alpha": LOSS_PLUGIN.format(name="shared", help="x")})
    site.add("gf-beta", {"gf_beta": LOSS_PLUGIN.format(name="shared", help="x")})
    site.add("gf-usurper", {"gf_usurper": LOSS_PLUGIN.format(name="bce", help="x")})
    [component] = check_installed("gf-alpha")
    assert component.qualified_name == "gf-alpha:shared"
    with pytest.raises(AssertionError, match="gf-usurper.*ganframe's built-in"):
        check_installed("gf-usurper")
