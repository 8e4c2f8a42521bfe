"""Collisions, qualified names and the GANFRAME_LOAD_PLUGINS allow-list."""

import sys

import pytest

from ganframe.errors import PluginError, UsageError
from ganframe.plugin.manager import load_plugins
from tests.plugin_dists import LOSS_PLUGIN


def two_distributions_registering(site, name):
    site.add("gf-alpha", {"gf_alpha": LOSS_PLUGIN.format(name=name, help="alpha's")})
    site.add("gf-beta", {"gf_beta": LOSS_PLUGIN.format(name=name, help="beta's")})
    return load_plugins()


def test_a_name_two_distributions_register_stays_reachable_only_by_qualified_names(site):
    registry = two_distributions_registering(site, "shared").registry
    assert registry.get("loss", "gf-alpha:shared").help == "alpha's"
    assert registry.get("loss", "gf-beta:shared").help == "beta's"
    with pytest.raises(UsageError) as info:
        registry.get("loss", "shared", option="--loss")
    assert info.value.exit_code == 2
    assert "'gf-alpha:shared', 'gf-beta:shared'" in info.value.message and "ambiguous" in info.value.message
    assert "gf-alpha:shared" in registry.names("loss") and "shared" not in registry.names("loss")


def test_qualified_names_compare_distribution_names_as_pip_does(site):
    registry = two_distributions_registering(site, "shared").registry
    assert registry.get("loss", "GF_Alpha:shared").help == "alpha's"
    assert registry.find("loss", "gf-gamma:shared") is None
    with pytest.raises(UsageError, match="Did you mean"):
        registry.get("loss", "gf-gamma:shared")


def test_a_third_party_collision_is_a_warning_even_in_strict_mode(site, monkeypatch):
    plugins = two_distributions_registering(site, "shared")
    [problem] = [p for p in plugins.problems if "shared" in p]
    assert "'gf-alpha:shared', 'gf-beta:shared'" in problem
    for name in ("gf_alpha", "gf_beta"):
        rec = next(p for p in plugins.plugins if p.name == name)
        assert rec.warnings == [problem] and rec.strict_warnings == []
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    assert load_plugins().registry.find("loss", "gf-beta:shared") is not None


def test_a_built_in_name_cannot_be_silently_replaced(site, monkeypatch):
    site.add("gf-usurper", {"gf_usurper": LOSS_PLUGIN.format(name="bce", help="not the real bce")})
    plugins = load_plugins()
    assert plugins.registry.get("loss", "ganframe:bce").plugin == "ganframe_builtins.bce_losses"
    assert plugins.registry.get("loss", "gf-usurper:bce").help == "not the real bce"
    with pytest.raises(UsageError, match="'ganframe:bce', 'gf-usurper:bce'"):
        plugins.registry.get("loss", "bce")
    assert any("built-in" in p and "bce" in p for p in plugins.problems)
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="bce"):
        load_plugins()


def test_one_distribution_registering_a_name_twice_keeps_the_first(site):
    site.add(
        "gf-twice",
        {
            "gf_twice_a": LOSS_PLUGIN.format(name="twice", help="first"),
            "gf_twice_b": LOSS_PLUGIN.format(name="twice", help="second"),
        },
    )
    plugins = load_plugins()
    assert plugins.registry.get("loss", "twice").help == "first"
    assert any("registered twice" in p and "gf-twice" in p for p in plugins.problems)


def install_three(site):
    site.add("gf-alpha", {"gf_alpha": LOSS_PLUGIN.format(name="alpha-loss", help="x")})
    site.add("gf-beta", {"gf_beta": LOSS_PLUGIN.format(name="beta-loss", help="x")}, {"beta-ep": "gf_beta"})
    site.add("gf-broken", {"gf_broken": "raise RuntimeError('never imported')\n"})


def loss_names(plugins):
    return {c.name for c in plugins.registry.components("loss")}


def test_an_empty_allow_list_loads_no_third_party_plugin_and_imports_none(site, monkeypatch):
    install_three(site)
    monkeypatch.setenv("GANFRAME_LOAD_PLUGINS", "")
    plugins = load_plugins()
    assert loss_names(plugins) == {"bce", "bce-smooth", "minimax"}
    assert all(p.builtin or p.status == "disabled" for p in plugins.plugins)
    assert not {"gf_alpha", "gf_beta", "gf_broken"} & set(sys.modules)
    assert plugins.problems == []


@pytest.mark.parametrize("allow", ["gf-alpha,beta-ep", " GF_Alpha , beta-ep ", "gf_alpha,gf.beta"])
def test_the_allow_list_takes_distribution_or_entry_point_names(site, monkeypatch, allow):
    install_three(site)
    monkeypatch.setenv("GANFRAME_LOAD_PLUGINS", allow)
    plugins = load_plugins()
    assert {"alpha-loss", "beta-loss"} <= loss_names(plugins)
    ours = {p.name: p.status for p in plugins.plugins if (p.distribution or "").startswith("gf-")}
    assert ours == {"gf_alpha": "loaded", "beta-ep": "loaded", "gf_broken": "disabled"}
    assert "gf_broken" not in sys.modules and plugins.problems == []


def test_an_allow_list_naming_nothing_installed_warns(site, monkeypatch):
    install_three(site)
    monkeypatch.setenv("GANFRAME_LOAD_PLUGINS", "gf-alpah")
    plugins = load_plugins()
    assert "alpha-loss" not in loss_names(plugins)
    assert any("GANFRAME_LOAD_PLUGINS names 'gf-alpah'" in p for p in plugins.problems)
