"""Every built-in model builds for any sample shape, returns the right shapes,
and has the tutorials' architecture (GUIDE section 1)."""

import pytest
import torch
from torch import nn

from ganframe.nn.conditioning import Conditioned
from ganframe.nn.layers import Dropout
from tests.helpers import build_model, linear_shapes

MODELS = ["mlp", "cgan", "mlp-small", "batchnorm"]
SHAPES = [(1, 28, 28), (2,), (3, 8, 8)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("model", MODELS)
def test_networks_return_the_data_sets_shape(plugin_set, model, shape):
    generator, discriminator, spec, components = build_model(plugin_set.registry, model, shape)
    z = torch.randn(5, spec.latent_dim)
    y = torch.randint(0, 10, (5,))
    fake = Conditioned(generator, components.generator.conditional)(z, y)
    assert fake.shape == (5, *shape)
    assert fake.min() >= -1.0 and fake.max() <= 1.0  # tanh output
    logits = Conditioned(discriminator, components.discriminator.conditional)(fake, y)
    assert logits.shape == (5, 1)
    assert not any(isinstance(m, nn.Sigmoid) for m in discriminator.modules())  # D returns logits


def test_mlp_matches_documents_000_001(plugin_set):
    """The tutorials' networks, with their nn.LeakyReLU() slope one option away (slope=0.01)."""
    from ganframe.plugin.specs import ModelSpec, Options
    from ganframe.run.assemble import Components, build_networks

    reg = plugin_set.registry
    components = Components(
        reg.get("generator", "mlp"),
        reg.get("discriminator", "mlp"),
        reg.get("loss", "bce"),
        reg.get("dataset", "mnist"),
    )
    generator, discriminator = build_networks(
        components, ModelSpec((1, 28, 28), 10, 100, False, Options({"slope": "0.01"}))
    )
    assert linear_shapes(generator) == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert linear_shapes(discriminator) == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
    for net in (generator, discriminator):
        drops = [m for m in net.modules() if isinstance(m, nn.Dropout)]
        assert len(drops) == 3 and all(d.p == 0.2 for d in drops)
        relus = [m for m in net.modules() if isinstance(m, nn.LeakyReLU)]
        assert len(relus) == 3 and all(r.negative_slope == 0.01 for r in relus)
    assert isinstance(list(generator.modules())[-2], nn.Tanh)


@pytest.mark.parametrize("model, loss, g_ema", [("mlp", "bce-smooth", 0.0), ("cgan", "bce", 0.999)])
def test_mlp_and_cgan_default_to_the_measured_settings(plugin_set, model, loss, g_ema):
    """Slope 0.2, Adam lr 5e-4 and beta1 0.5 by default; mlp with label smoothing, cgan sampling
    from an average of G's weights (README "Quality of the defaults"); the tutorials' one option away."""
    from ganframe.config import RunConfig, resolve
    from ganframe.run.assemble import resolve_components

    generator, discriminator, _, components = build_model(plugin_set.registry, model)
    for net in (generator, discriminator):
        assert {m.negative_slope for m in net.modules() if isinstance(m, nn.LeakyReLU)} == {0.2}
    config = resolve(RunConfig(model=model, seed=0), components.generator.defaults)
    assert (config.loss, config.lr, config.beta1, config.beta2, config.batch_size, config.g_ema) == (
        loss,
        5e-4,
        0.5,
        0.999,
        64,
        g_ema,
    )
    assert resolve_components(RunConfig(model=model), plugin_set.registry).loss.name == loss
    documents = RunConfig(model=model, seed=0, loss="bce", lr=2e-4, beta1=0.9, g_ema=0.0)
    assert resolve_components(documents, plugin_set.registry).loss.name == "bce"
    documents = resolve(documents, components.generator.defaults)
    assert (documents.loss, documents.lr, documents.beta1, documents.g_ema) == ("bce", 2e-4, 0.9, 0.0)


def test_cgan_concatenates_a_16d_label_embedding(plugin_set):
    generator, discriminator, _, components = build_model(plugin_set.registry, "cgan")
    assert components.generator.conditional and components.discriminator.conditional
    assert generator.embeddings.num_embeddings == 10 and generator.embeddings.embedding_dim == 16
    assert linear_shapes(generator) == [(116, 256), (256, 512), (512, 1024), (1024, 784)]
    assert linear_shapes(discriminator) == [(800, 1024), (1024, 512), (512, 256), (256, 1)]
    z = torch.randn(4, 100)
    generator.eval()
    a = generator(z, torch.full((4,), 3))
    b = generator(z, torch.full((4,), 7))
    assert not torch.allclose(a, b), "the label must change the output"


def test_cgan_discriminator_projects_the_label_onto_its_features(plugin_set):
    """By default D's logit is w.h + embed(y).h over its 256 features (LabelProjected); the label
    reaches the logit through both the input concatenation and the projection."""
    from ganframe.nn.layers import LabelProjected

    _, discriminator, _, _ = build_model(plugin_set.registry, "cgan")
    assert isinstance(discriminator, LabelProjected)
    assert discriminator.projection.weight.shape == (10, 256)
    discriminator.eval()
    x = torch.randn(6, 1, 28, 28)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    logits = discriminator(x, labels)
    features = discriminator.body(torch.cat([x.flatten(1), discriminator.embeddings(labels)], dim=1))
    expected = discriminator.output(features) + (discriminator.projection(labels) * features).sum(1, keepdim=True)
    assert torch.allclose(logits, expected, atol=1e-6)
    logits.sum().backward()
    grad = discriminator.projection.weight.grad
    assert grad[:6].abs().sum(dim=1).gt(0).all() and grad[6:].abs().sum() == 0  # only the labels used


def test_cgan_documents_discriminator_is_one_option_away(plugin_set):
    """``projection=false`` is the conditional GAN tutorial's D: concatenation only, a Linear(256, 1) logit."""
    from ganframe.nn.layers import LabelConditioned, LabelProjected
    from ganframe.plugin.specs import ModelSpec, Options
    from ganframe.run.assemble import Components, build_networks

    reg = plugin_set.registry
    components = Components(
        reg.get("generator", "cgan"),
        reg.get("discriminator", "cgan"),
        reg.get("loss", "bce"),
        reg.get("dataset", "mnist"),
    )
    _, discriminator = build_networks(
        components, ModelSpec((1, 28, 28), 10, 100, True, Options({"projection": "false"}))
    )
    assert isinstance(discriminator, LabelConditioned) and not isinstance(discriminator, LabelProjected)
    assert linear_shapes(discriminator) == [(800, 1024), (1024, 512), (512, 256), (256, 1)]
    assert discriminator(torch.randn(3, 1, 28, 28), torch.tensor([1, 2, 3])).shape == (3, 1)


def test_mlp_small_matches_document_002(plugin_set):
    generator, discriminator, spec, components = build_model(plugin_set.registry, "mlp-small")
    assert spec.latent_dim == 64 and components.generator.defaults["batch_size"] == 100
    assert linear_shapes(generator) == [(64, 256), (256, 256), (256, 784)]
    assert linear_shapes(discriminator) == [(784, 256), (256, 256), (256, 1)]
    assert any(isinstance(m, nn.ReLU) for m in generator.modules())
    assert all(m.negative_slope == 0.2 for m in discriminator.modules() if isinstance(m, nn.LeakyReLU))
    assert not any(isinstance(m, nn.Dropout) for m in list(generator.modules()) + list(discriminator.modules()))


def build_with_options(registry, model, options):
    from ganframe.plugin.specs import ModelSpec, Options
    from ganframe.run.assemble import Components, build_networks

    components = Components(
        registry.get("generator", model),
        registry.get("discriminator", model),
        registry.get("loss", "bce"),
        registry.get("dataset", "mnist"),
    )
    latent_dim = components.generator.defaults.get("latent_dim", 100)
    return build_networks(
        components, ModelSpec((1, 28, 28), 10, latent_dim, False, Options(options, owner=f"model '{model}'"))
    )


def test_batchnorm_matches_the_tutorial_with_output_batchnorm(plugin_set):
    """``output_batchnorm=true`` is the BatchNorm-generator tutorial's G: every block, the output one too,
    is a Linear without bias + BatchNorm1d."""
    generator, discriminator = build_with_options(plugin_set.registry, "batchnorm", {"output_batchnorm": "true"})
    linears = [m for m in generator.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert all(m.bias is None for m in linears)
    assert [m.num_features for m in generator.modules() if isinstance(m, nn.BatchNorm1d)] == [256, 512, 1024, 784]
    assert linear_shapes(discriminator) == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
    assert not any(isinstance(m, nn.Dropout) for m in discriminator.modules())


def test_batchnorm_default_output_layer_has_no_batchnorm(plugin_set):
    """By default G's hidden blocks keep BatchNorm but its output layer is a plain Linear with bias (DCGAN's rule)."""
    generator, _, _, _ = build_model(plugin_set.registry, "batchnorm")
    linears = [m for m in generator.modules() if isinstance(m, nn.Linear)]
    assert [m.bias is None for m in linears] == [True, True, True, False]
    assert [m.num_features for m in generator.modules() if isinstance(m, nn.BatchNorm1d)] == [256, 512, 1024]
    generator.train()
    fake = generator(torch.randn(16, 100)).flatten(1)
    assert fake.mean(0).abs().max() > 1e-3  # per-pixel batch means are no longer forced to ~0 before tanh


def test_batchnorm_instance_noise_only_while_training(plugin_set):
    from ganframe.errors import UsageError

    _, discriminator = build_with_options(plugin_set.registry, "batchnorm", {"instance_noise": "0.5"})
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    discriminator.train()
    assert not torch.equal(discriminator(x), discriminator(x))
    discriminator.eval()
    assert torch.equal(discriminator(x), discriminator(x))
    with pytest.raises(UsageError, match="instance_noise"):
        build_with_options(plugin_set.registry, "batchnorm", {"instance_noise": "-1"})


def test_mlp_small_discriminator_dropout_and_slope_options(plugin_set):
    from ganframe.errors import UsageError

    _, discriminator = build_with_options(plugin_set.registry, "mlp-small", {"d_dropout": "0.3", "slope": "0.1"})
    assert [m.p for m in discriminator.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    assert {m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)} == {0.1}
    with pytest.raises(UsageError, match="d_dropout"):
        build_with_options(plugin_set.registry, "mlp-small", {"d_dropout": "1"})


@pytest.mark.parametrize("model, lr, batch_size, g_ema", [("mlp-small", 2e-3, 100, 0.99), ("batchnorm", 5e-4, 64, 0.0)])
def test_mlp_small_and_batchnorm_default_to_the_measured_settings(plugin_set, model, lr, batch_size, g_ema):
    """Measured Adam settings by default (docs/quality.md), the tutorial's batch, plain bce; mlp-small samples
    from a short average of G's weights; explicit options still win (the tutorial's settings are one option
    line away)."""
    from ganframe.config import RunConfig, resolve

    _, _, _, components = build_model(plugin_set.registry, model)
    config = resolve(RunConfig(model=model, seed=0), components.generator.defaults)
    assert (config.loss, config.lr, config.beta1, config.batch_size, config.g_ema) == (
        "bce",
        lr,
        0.5,
        batch_size,
        g_ema,
    )
    tutorial = resolve(RunConfig(model=model, seed=0, lr=2e-4, beta1=0.9, g_ema=0.0), components.generator.defaults)
    assert (tutorial.lr, tutorial.beta1, tutorial.g_ema) == (2e-4, 0.9, 0.0)


def test_model_option_reaches_the_factory_and_unknown_options_are_rejected(plugin_set):
    from ganframe.errors import UsageError
    from ganframe.plugin.specs import ModelSpec, Options
    from ganframe.run.assemble import Components, build_networks

    reg = plugin_set.registry
    components = Components(
        reg.get("generator", "cgan"),
        reg.get("discriminator", "cgan"),
        reg.get("loss", "bce"),
        reg.get("dataset", "mnist"),
    )
    generator, _ = build_networks(components, ModelSpec((1, 28, 28), 10, 100, True, Options({"embedding_dim": "8"})))
    assert generator.embeddings.embedding_dim == 8
    with pytest.raises(UsageError, match="embedding_dim"):  # the suggestion names the real option
        build_networks(
            components, ModelSpec((1, 28, 28), 10, 100, True, Options({"embeding_dim": "8"}, owner="model 'cgan'"))
        )


def test_fast_dropout_keeps_the_distribution():
    torch.manual_seed(0)
    layer = Dropout(0.2)
    x = torch.ones(200_000)
    y = layer(x)
    zero_share = (y == 0).float().mean().item()
    assert abs(zero_share - 0.2) < 0.01
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.8))
    assert abs(y.mean().item() - 1.0) < 0.01  # expectation preserved
    layer.eval()
    assert torch.equal(layer(x), x)
    x = torch.randn(64, 32, requires_grad=True)
    layer.train()
    out = layer(x)
    out.sum().backward()
    assert torch.equal((x.grad != 0), (out != 0))  # gradient flows exactly where units were kept
