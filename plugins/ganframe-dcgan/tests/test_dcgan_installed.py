"""The plugin as a user meets it: found by ganframe, trained by name."""

import json
from importlib.metadata import version

from ganframe.testing import run_ganframe


def test_ganframe_plugins_lists_the_plugin_with_its_version():
    result = run_ganframe("plugins", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    [plugin] = [p for p in document["plugins"] if p["distribution"] == "ganframe-dcgan"]
    assert plugin["status"] == "loaded" and plugin["version"] == version("ganframe-dcgan")
    assert {"dcgan", "cdcgan"} <= set(document["models"])


def test_a_non_image_data_set_is_a_clear_error(tmp_path):
    result = run_ganframe("run", "--model", "dcgan", "--dataset", "ring", "--out", tmp_path / "run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "needs image samples shaped (channels, height, width)" in " ".join(result.stderr.split())
    assert not (tmp_path / "run").exists()


def test_conditional_dcgan_with_hinge_trains_by_name(ganframe_run, mnist_root):
    rows = ganframe_run(
        "--model",
        "cdcgan",
        "--loss",
        "hinge",
        "--max-steps",
        "3",
        "--log-every",
        "1",
        "--data-root",
        str(mnist_root),
        "--seed",
        "0",
    )
    assert [row["step"] for row in rows] == [1, 2, 3]
