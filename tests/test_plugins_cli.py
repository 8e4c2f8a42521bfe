"""Broken, misspelled and colliding plugin distributions seen through the CLI.

The first tests run ``python -m ganframe`` in a subprocess with fake
distributions on PYTHONPATH, exactly as a user with such plugins installed
would; the rest use the in-process CLI runner (cheaper) for name resolution.
"""

import json

import pytest

from tests.helpers import said
from tests.plugin_dists import LOSS_PLUGIN

BROKEN = "import ganframe\nraise RuntimeError('the broken plugin broke')\n"
TYPO = """
from ganframe import hookimpl

@hookimpl
def register_discriminator(register):
    pass
"""


@pytest.fixture
def bad_site(site):
    site.add("gf-broken", {"gf_broken": BROKEN}, version="0.3")
    site.add("gf-typo", {"gf_typo": TYPO})
    return site


def warnings_about(stderr, needle):
    return [line for line in stderr.splitlines() if needle in line]


def test_plugins_lists_a_broken_plugin_as_failed_and_warns_once(bad_site):
    result = bad_site.ganframe("plugins", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    broken = next(p for p in document["plugins"] if p["name"] == "gf_broken")
    assert broken["status"] == "failed" and broken["version"] == "0.3" and broken["distribution"] == "gf-broken"
    assert "RuntimeError: the broken plugin broke" in broken["error"]
    assert "mlp" in document["models"]
    assert len(warnings_about(result.stderr, "gf_broken")) == 1
    [typo] = warnings_about(result.stderr, "gf_typo")
    assert "'register_discriminator'" in typo and "Did you mean 'register_discriminators'" in typo
    [typo_record] = [p for p in document["plugins"] if p["name"] == "gf_typo"]
    assert typo_record["status"] == "loaded" and typo_record["warnings"] == [typo.removeprefix("ganframe: warning: ")]
    assert typo_record["warnings"][0] in document["problems"]
    assert "Traceback" not in result.stderr

    table = bad_site.ganframe("plugins")
    assert table.returncode == 0
    row = next(line for line in table.stdout.splitlines() if "gf_broken" in line)
    assert "failed" in row and "RuntimeError" in row
    row = next(line for line in table.stdout.splitlines() if "gf_typo" in line)
    assert "loaded (1 warning)" in row and "register_discriminator" in row


def test_run_works_beside_a_broken_plugin(bad_site, tmp_path):
    out = tmp_path / "run"
    result = bad_site.ganframe("run", "--dataset", "ring", "--max-steps", "5", "--out", out)
    assert result.returncode == 0, result.stderr
    assert len(warnings_about(result.stderr, "gf_broken")) == 1
    assert len((out / "metrics.jsonl").read_text().splitlines()) >= 1


def test_strict_mode_exits_1_with_one_message_and_writes_nothing(bad_site, tmp_path):
    listing = bad_site.ganframe("plugins", GANFRAME_STRICT_PLUGINS="1")
    assert listing.returncode == 1
    assert (
        "gf_broken" in listing.stderr and "gf-broken" in listing.stderr and "register_discriminator" in listing.stderr
    )
    assert "Traceback" not in listing.stderr and listing.stdout == ""
    out = tmp_path / "run"
    run = bad_site.ganframe("run", "--dataset", "ring", "--max-steps", "5", "--out", out, GANFRAME_STRICT_PLUGINS="1")
    assert run.returncode == 1 and not out.exists()


def test_the_allow_list_reaches_the_cli(bad_site):
    result = bad_site.ganframe("plugins", "--json", GANFRAME_LOAD_PLUGINS="")
    assert result.returncode == 0 and result.stderr == ""
    statuses = {p["name"]: p["status"] for p in json.loads(result.stdout)["plugins"] if not p["builtin"]}
    assert statuses["gf_broken"] == statuses["gf_typo"] == "disabled"


@pytest.fixture
def colliding(site):
    site.add("gf-alpha", {"gf_alpha": LOSS_PLUGIN.format(name="shared", help="alpha's")})
    site.add("gf-beta", {"gf_beta": LOSS_PLUGIN.format(name="shared", help="beta's")})
    return site


def test_an_ambiguous_name_on_the_command_line_exits_2_listing_the_qualified_names(colliding, cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--loss", "shared", "--dataset", "ring", "--max-steps", "2", "--out", out)
    assert result.exit_code == 2
    assert "--loss shared" in result.output and "'gf-alpha:shared', 'gf-beta:shared'" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_a_qualified_name_trains(colliding, cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--loss", "gf_beta:shared", "--dataset", "ring", "--max-steps", "2", "--out", out)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert "gf-beta:shared" in json.dumps(config)


def test_plugins_json_shows_both_qualified_names(colliding, cli):
    result = cli("plugins", "--json")
    assert result.exit_code == 0
    rows = [c for c in json.loads(result.stdout)["components"] if c["name"] == "shared"]
    assert sorted((c["qualified_name"], c["help"]) for c in rows) == [
        ("gf-alpha:shared", "alpha's"),
        ("gf-beta:shared", "beta's"),
    ]


def test_a_model_with_only_a_generator_says_what_is_missing(site, cli, tmp_path):
    site.add(
        "gf-half",
        {
            "gf_half": """
        from ganframe import hookimpl

        @hookimpl
        def register_generators(register):
            register("halfgan", "ganframe_builtins.mlp:mlp_generator")
    """
        },
    )
    result = cli("run", "--model", "halfgan", "--dataset", "ring", "--out", tmp_path / "run")
    assert result.exit_code == 2
    message = said(result)
    assert "Model 'halfgan' has a generator (from gf-half) but no discriminator" in message
    assert "--discriminator NAME" in message
    result = cli(
        "run",
        "--model",
        "halfgan",
        "--discriminator",
        "mlp",
        "--dataset",
        "ring",
        "--max-steps",
        "1",
        "--out",
        tmp_path / "run",
    )
    assert result.exit_code == 0, result.output
