"""``--json`` commands print one JSON document on stdout even when a plugin prints."""

from __future__ import annotations

import json

LOUD = """
print("loud: imported")
from ganframe import hookimpl
from ganframe_builtins.mlp import mlp_small_generator


def loud_generator(spec):
    print("loud: building a generator")
    return mlp_small_generator(spec)


@hookimpl
def register_generators(register):
    print("loud: registering")
    register("loud", loud_generator, help="mlp-small's generator, announced on stdout")
"""


def test_plugins_json_stays_json_when_a_plugin_prints(site):
    site.add("gf-loud", {"gf_loud": LOUD})
    result = site.ganframe("plugins", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is the document
    assert any(c["name"] == "loud" for c in document["components"])
    assert "loud: imported" in result.stderr and "loud: registering" in result.stderr


def test_eval_json_stays_json_when_the_generator_factory_prints(site, cli, trained_root, tmp_path):
    site.add("gf-loud", {"gf_loud": LOUD})
    out = tmp_path / "run"
    trained = cli(
        "run",
        "--data-root",
        trained_root,
        "--model",
        "mlp-small",
        "--generator",
        "loud",
        "--max-steps",
        "3",
        "--seed",
        "0",
        "--out",
        out,
    )
    assert trained.exit_code == 0, trained.output
    result = cli("eval", out, "--n", "50", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["generator"].endswith("loud")
    assert "loud: building a generator" in result.stderr
