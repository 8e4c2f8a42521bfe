"""The default recipe on ``ring``: data-set defaults over the model's, and ``mlp``'s generator
without dropout on low-dimensional samples (README, "The ring example")."""

import pytest
from torch import nn

from ganframe.config import RunConfig
from ganframe.errors import UsageError
from ganframe.run.assemble import build_setup, resolve_components, run_defaults


def dropouts(network: nn.Module) -> list[float]:
    return [m.p for m in network.modules() if isinstance(m, nn.Dropout)]


def test_ring_brings_its_learning_rate_over_the_models(plugin_set, tmp_path):
    registry = plugin_set.registry
    components = resolve_components(RunConfig(dataset="ring"), registry)
    from ganframe_builtins.mlp import MLP_DEFAULTS
    from ganframe_builtins.toy_datasets import RING_DEFAULTS

    assert RING_DEFAULTS["lr"] != MLP_DEFAULTS["lr"] and RING_DEFAULTS["g_ema"] > 0  # mlp samples from G itself
    defaults = run_defaults(components.generator, components.dataset)
    assert (defaults["lr"], defaults["g_ema"]) == (RING_DEFAULTS["lr"], RING_DEFAULTS["g_ema"])
    setup = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path)), registry)
    assert (setup.config.lr, setup.config.g_ema) == (RING_DEFAULTS["lr"], RING_DEFAULTS["g_ema"])
    # a 2-D noise and a decaying learning rate: fewer samples between the modes (README, "The ring example")
    assert (setup.config.latent_dim, setup.config.lr_decay) == (2, "linear") != (MLP_DEFAULTS["latent_dim"], "constant")
    assert setup.generator[0].in_features == 2
    assert (setup.config.loss, setup.config.beta1) == (MLP_DEFAULTS["loss"], MLP_DEFAULTS["beta1"])  # the rest: mlp's
    explicit = build_setup(
        RunConfig(dataset="ring", seed=0, device="cpu", lr=5e-4, g_ema=0.0, data_root=str(tmp_path)), registry
    )
    assert (explicit.config.lr, explicit.config.g_ema) == (5e-4, 0.0)  # an explicit option beats the data set


def test_mlp_has_no_dropout_in_g_on_ring_and_keeps_it_on_images(plugin_set, tmp_path):
    from tests.idx import make_mnist_root

    ring = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path)), plugin_set.registry)
    assert dropouts(ring.generator) == [0.0, 0.0, 0.0] and dropouts(ring.discriminator) == [0.2, 0.2, 0.2]
    assert (
        "g_dropout" not in ring.config.model_options
    )  # a default of the factory, not recorded: it follows the sample shape
    root = make_mnist_root(tmp_path / "data")
    mnist = build_setup(RunConfig(seed=0, device="cpu", data_root=str(root)), plugin_set.registry)
    assert dropouts(mnist.generator) == [0.2, 0.2, 0.2] and mnist.config.lr == 5e-4
    old = build_setup(
        RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path), model_options={"g_dropout": "0.2"}),
        plugin_set.registry,
    )
    assert dropouts(old.generator) == [0.2, 0.2, 0.2]
    # the same layers either way, so checkpoints of either load into the other
    assert list(old.generator.state_dict()) == list(ring.generator.state_dict())


def test_a_bad_g_dropout_is_a_usage_error(plugin_set, tmp_path):
    config = RunConfig(
        dataset="ring", seed=0, device="cpu", data_root=str(tmp_path), model_options={"g_dropout": "1.5"}
    )
    with pytest.raises(UsageError, match="g_dropout must be a probability in \\[0, 1\\)"):
        build_setup(config, plugin_set.registry)


def test_data_set_defaults_are_checked_like_a_generators(site):
    from ganframe.plugin.manager import load_plugins

    site.add(
        "gf-data-defaults",
        {
            "gf_data_defaults": """
        from ganframe import hookimpl

        @hookimpl
        def register_datasets(register):
            register("d", "gf_data_defaults:x", defaults={"lrr": 1e-4})
    """
        },
    )
    rec = next(p for p in load_plugins().plugins if p.name == "gf_data_defaults")
    assert rec.status == "failed" and "dataset 'd': defaults has unknown setting 'lrr'" in rec.error


def test_mlp_is_narrower_on_low_dimensional_samples_and_width_is_an_option(plugin_set, tmp_path):
    from tests.helpers import linear_shapes

    ring = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path)), plugin_set.registry)
    assert linear_shapes(ring.generator) == [(2, 64), (64, 128), (128, 256), (256, 2)]  # ring's latent 2
    assert linear_shapes(ring.discriminator) == [(2, 256), (256, 128), (128, 64), (64, 1)]
    assert "width" not in ring.config.model_options  # a factory default, not recorded: it follows the sample shape
    wide = build_setup(
        RunConfig(
            dataset="ring",
            seed=0,
            device="cpu",
            data_root=str(tmp_path),
            model_options={"width": "1024", "d_dropout": "0"},
        ),
        plugin_set.registry,
    )
    assert linear_shapes(wide.generator)[-1] == (1024, 2) and linear_shapes(wide.discriminator)[0] == (2, 1024)
    assert dropouts(wide.discriminator) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "options, message",
    [({"width": "6"}, "width must be a multiple of 4"), ({"d_dropout": "1"}, "d_dropout must be a probability")],
)
def test_bad_width_or_d_dropout_is_a_usage_error(plugin_set, tmp_path, options, message):
    config = RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path), model_options=options)
    with pytest.raises(UsageError, match=message):
        build_setup(config, plugin_set.registry)
