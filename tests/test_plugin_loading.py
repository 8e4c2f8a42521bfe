"""Entry-point discovery and per-plugin isolation (in-process, fake distributions)."""

import io

import pytest

from ganframe.errors import PluginError
from ganframe.plugin.manager import load_plugins
from tests.plugin_dists import LOSS_PLUGIN


def record(plugin_set, name):
    return next(p for p in plugin_set.plugins if p.name == name)


def test_an_installed_distribution_is_discovered_with_its_version(site):
    site.add("gf-extra", {"gf_extra": LOSS_PLUGIN.format(name="extra-loss", help="an extra loss")}, version="2.5.1")
    plugins = load_plugins()
    loss = plugins.registry.get("loss", "extra-loss")
    assert (loss.plugin, loss.distribution, loss.version) == ("gf_extra", "gf-extra", "2.5.1")
    assert loss.qualified_name == "gf-extra:extra-loss" and loss.help == "an extra loss"
    rec = record(plugins, "gf_extra")
    assert (rec.status, rec.version, rec.builtin, rec.hooks) == ("loaded", "2.5.1", False, ["register_losses"])
    assert plugins.problems == []


def test_a_plugin_that_fails_to_import_is_skipped_and_reported_once(site):
    site.add("gf-broken", {"gf_broken": "import os\nraise RuntimeError('no GPU driver here')\n"})
    site.add("gf-fine", {"gf_fine": LOSS_PLUGIN.format(name="fine-loss", help="x")})
    plugins = load_plugins()
    rec = record(plugins, "gf_broken")
    assert rec.status == "failed"
    assert "RuntimeError: no GPU driver here" in rec.error and "gf_broken.py:2" in rec.error
    assert plugins.registry.find("loss", "fine-loss") is not None, "other plugins keep working"
    assert plugins.registry.find("generator", "mlp") is not None, "built-ins keep working"
    stream = io.StringIO()
    plugins.report(stream)
    plugins.report(stream)
    [line] = stream.getvalue().splitlines()
    assert "plugin 'gf_broken'" in line and "gf-broken" in line and "no GPU driver here" in line


def test_a_plugin_calling_sys_exit_on_import_does_not_end_the_process(site):
    site.add("gf-exit", {"gf_exit": "import sys\nsys.exit(3)\n"})
    rec = record(load_plugins(), "gf_exit")
    assert rec.status == "failed" and "SystemExit" in rec.error


def test_a_raising_register_hook_leaves_none_of_that_plugins_components(site):
    site.add(
        "gf-half",
        {
            "gf_half": """
        from ganframe import hookimpl

        @hookimpl
        def register_generators(register):
            register("half", "gf_half:factory")

        @hookimpl
        def register_discriminators(register):
            register("half", "gf_half:factory")
            raise ValueError("weights file missing")

        @hookimpl
        def on_train_start(state):
            raise AssertionError("a failed plugin's lifecycle hooks must never run")
    """
        },
    )
    plugins = load_plugins()
    rec = record(plugins, "gf_half")
    assert rec.status == "failed" and rec.error.startswith("register_discriminators failed: ValueError: weights file")
    assert plugins.registry.find("generator", "half") is None
    assert plugins.registry.find("discriminator", "half") is None
    assert all(impl.plugin_name != "gf-half:gf_half" for impl in plugins.manager.hook.on_train_start.get_hookimpls())


def test_a_hook_with_wrong_arguments_fails_pluggy_validation_without_breaking_others(site):
    site.add(
        "gf-args",
        {
            "gf_args": """
        from ganframe import hookimpl

        @hookimpl
        def register_losses(registry):
            pass
    """
        },
    )
    plugins = load_plugins()
    rec = record(plugins, "gf_args")
    assert rec.status == "failed" and "registry" in rec.error
    assert plugins.registry.find("loss", "bce") is not None


def test_strict_mode_makes_a_broken_plugin_fatal(site, monkeypatch):
    site.add("gf-broken", {"gf_broken": "raise ImportError('needs scipy')\n"})
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError) as info:
        load_plugins()
    assert info.value.exit_code == 1
    assert (
        "gf_broken" in info.value.message and "gf-broken" in info.value.message and "needs scipy" in info.value.message
    )


def test_strict_mode_without_problems_loads_normally(site, monkeypatch):
    site.add("gf-extra", {"gf_extra": LOSS_PLUGIN.format(name="extra-loss", help="x")})
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    assert load_plugins().registry.find("loss", "extra-loss") is not None


def test_a_misspelled_hook_is_reported_with_the_plugin_and_the_likely_hook(site, monkeypatch):
    site.add(
        "gf-typo",
        {
            "gf_typo": """
        from ganframe import hookimpl

        @hookimpl
        def register_loss(register):
            register("never", "gf_typo:x")

        @hookimpl
        def register_datasets(register):
            register("typo-data", "gf_typo:x")
    """
        },
    )
    plugins = load_plugins()
    [problem] = [p for p in plugins.problems if "gf_typo" in p]
    assert "'register_loss'" in problem and "Did you mean 'register_losses'" in problem and "gf-typo" in problem
    assert plugins.registry.find("dataset", "typo-data") is not None, "the correctly named hook still works"
    assert record(plugins, "gf_typo").status == "loaded"
    assert record(plugins, "gf_typo").warnings == [problem] == record(plugins, "gf_typo").strict_warnings
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="register_loss"):
        load_plugins()


def test_a_hook_without_hookimpl_and_a_plugin_without_hooks_are_reported(site):
    site.add("gf-unmarked", {"gf_unmarked": "def register_losses(register):\n    register('x', 'a:b')\n"})
    site.add("gf-empty", {"gf_empty": "VALUE = 1\n"})
    problems = " ".join(load_plugins().problems)
    assert "'register_losses' without the @hookimpl marker" in problems
    assert "plugin 'gf_empty' (distribution 'gf-empty' 1.0) implements no ganframe hook" in problems


def test_two_distributions_may_use_the_same_entry_point_name(site):
    site.add("gf-one", {"gf_one": LOSS_PLUGIN.format(name="one", help="x")}, {"losses": "gf_one"})
    site.add("gf-two", {"gf_two": LOSS_PLUGIN.format(name="two", help="x")}, {"losses": "gf_two"})
    plugins = load_plugins()
    assert plugins.registry.find("loss", "one") and plugins.registry.find("loss", "two")
    assert [p.status for p in plugins.plugins if p.name == "losses"] == ["loaded", "loaded"]


@pytest.mark.parametrize(
    "call, mistake",
    [
        ('register("my:loss", "gf_bad:x")', "without ':'"),
        ('register("my loss", "gf_bad:x")', "without ':'"),
        ('register("ok", 42)', "factory must be a callable"),
        ('register("ok", "gf_bad:x", conditonal=True)', "unknown keyword 'conditonal'"),
    ],
)
def test_a_malformed_registration_fails_that_plugin_with_the_mistake_named(site, call, mistake):
    site.add(
        "gf-bad", {"gf_bad": f"from ganframe import hookimpl\n@hookimpl\ndef register_losses(register):\n    {call}\n"}
    )
    rec = record(load_plugins(), "gf_bad")
    assert rec.status == "failed" and mistake in rec.error


@pytest.mark.parametrize(
    "defaults, mistake",
    [
        ({"latnet_dim": 64}, "Did you mean 'latent_dim'"),
        ({"batch_size": "64"}, "must be a int"),
        ({"optimizer": "adamw"}, "'adam', 'sgd'"),
        ([64], "must be a dict"),
        ({"precision": "fp16"}, "'auto', 'fp32', 'bf16'"),
    ],
)
def test_generator_defaults_must_name_real_settings(site, defaults, mistake):
    site.add(
        "gf-defaults",
        {
            "gf_defaults": f"""
        from ganframe import hookimpl

        @hookimpl
        def register_generators(register):
            register("g", "gf_defaults:x", defaults={defaults!r})
    """
        },
    )
    rec = record(load_plugins(), "gf_defaults")
    assert rec.status == "failed" and mistake in rec.error


def test_a_factory_that_cannot_be_imported_is_a_plugin_error_naming_the_component(site):
    site.add(
        "gf-lazy",
        {
            "gf_lazy": LOSS_PLUGIN.replace("ganframe_builtins.bce_losses:BCELoss", "gf_lazy_impl:Loss").format(
                name="lazy", help="x"
            )
        },
    )
    component = load_plugins().registry.get("loss", "lazy")
    with pytest.raises(PluginError) as info:
        component.load()
    message = info.value.message
    assert "gf-lazy:lazy" in message and "gf_lazy_impl:Loss" in message and "ModuleNotFoundError" in message
