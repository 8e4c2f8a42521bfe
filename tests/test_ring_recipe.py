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
    assert run_defaults(components.generator, components.dataset)["lr"] == 1e-4  # mlp's own is 5e-4
    setup = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path)), registry)
    assert (setup.config.lr, setup.config.loss, setup.config.beta1) == (1e-4, "bce-smooth", 0.5)  # the rest: mlp's
    explicit = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", lr=5e-4, data_root=str(tmp_path)), registry)
    assert explicit.config.lr == 5e-4  # an explicit option beats the data set


def test_mlp_has_no_dropout_in_g_on_ring_and_keeps_it_on_images(plugin_set, tmp_path):
    from tests.idx import make_mnist_root

    ring = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path)), plugin_set.registry)
    assert dropouts(ring.generator) == [0.0, 0.0, 0.0] and dropouts(ring.discriminator) == [0.2, 0.2, 0.2]
    assert "g_dropout" not in ring.config.model_options  # a default of the factory, not recorded: it follows the sample shape
    root = make_mnist_root(tmp_path / "data")
    mnist = build_setup(RunConfig(seed=0, device="cpu", data_root=str(root)), plugin_set.registry)
    assert dropouts(mnist.generator) == [0.2, 0.2, 0.2] and mnist.config.lr == 5e-4
    old = build_setup(RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path),
                                model_options={"g_dropout": "0.2"}), plugin_set.registry)
    assert dropouts(old.generator) == [0.2, 0.2, 0.2]
    # the same layers either way, so checkpoints of either load into the other
    assert list(old.generator.state_dict()) == list(ring.generator.state_dict())


def test_a_bad_g_dropout_is_a_usage_error(plugin_set, tmp_path):
    config = RunConfig(dataset="ring", seed=0, device="cpu", data_root=str(tmp_path), model_options={"g_dropout": "1.5"})
    with pytest.raises(UsageError, match="g_dropout must be a probability in \\[0, 1\\)"):
        build_setup(config, plugin_set.registry)


def test_data_set_defaults_are_checked_like_a_generators(site):
    from ganframe.plugin.manager import load_plugins

    site.add("gf-data-defaults", {"gf_data_defaults": """
        from ganframe import hookimpl

        @hookimpl
        def register_datasets(register):
            register("d", "gf_data_defaults:x", defaults={"lrr": 1e-4})
    """})
    rec = next(p for p in load_plugins().plugins if p.name == "gf_data_defaults")
    assert rec.status == "failed" and "dataset 'd': defaults has unknown setting 'lrr'" in rec.error
