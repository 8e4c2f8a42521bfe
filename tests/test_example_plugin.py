"""The example third-party package (plugins/ganframe-dcgan), installed beside ganframe as
`make test` and CI install it, trains by name on real MNIST."""

import json
from importlib import metadata

import pytest

from ganframe.testing import check_training


@pytest.fixture(scope="module")
def example_installed():
    try:
        return metadata.version("ganframe-dcgan")
    except metadata.PackageNotFoundError:
        pytest.fail("the example plugin is not installed: pip install -e plugins/ganframe-dcgan (make test does)")


def test_dcgan_with_wgan_gp_trains_20_steps_on_mnist(example_installed, mnist_root, tmp_path):
    out = tmp_path / "run"
    rows = check_training(
        "--model",
        "dcgan",
        "--loss",
        "wgan-gp",
        "--max-steps",
        "20",
        "--log-every",
        "5",
        "--seed",
        "0",
        "--data-root",
        str(mnist_root),
        out=out,
    )
    assert [row["step"] for row in rows] == [5, 10, 15, 20]
    config = json.loads((out / "config.json").read_text())
    text = json.dumps(config)
    assert "ganframe-dcgan:dcgan" in text and "ganframe-dcgan:wgan-gp" in text
    # the critic learns to tell MNIST from the untrained generator: its Wasserstein estimate grows
    assert rows[-1]["d_loss"] < rows[0]["d_loss"]
