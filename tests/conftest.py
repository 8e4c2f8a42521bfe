"""Shared fixtures: plugin sets, data roots and a CLI runner."""

from __future__ import annotations

import os

# One intra-op thread for the tests and the subprocesses they start (set before torch loads):
# on a small, shared CPU two threads spin against each other and make tiny steps 5-15x slower,
# and in-process and subprocess runs then compute with the same thread count (bit-identical).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# --precision auto means fp32 in the tests (and their subprocesses) on every machine, bf16-capable or
# not; tests of auto itself delete this (ganframe.train.precision.OVERRIDE)
os.environ.setdefault("GANFRAME_AUTO_PRECISION", "fp32")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.eval_helpers import trained_root  # noqa: E402, F401  (fixture, built once per session)
from tests.idx import REPO, make_mnist_root, shared_data_root  # noqa: E402, F401  (REPO: imported by tests)
from tests.plugin_dists import site  # noqa: E402, F401  (fixture: fake installed plugin distributions)


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    root = shared_data_root()
    if root is None:
        pytest.skip("real MNIST not found: set GANFRAME_DATA to a folder holding MNIST/raw")
    return root


@pytest.fixture
def tiny_root(tmp_path) -> Path:
    """A data root with tiny synthetic MNIST and Fashion-MNIST IDX files."""
    make_mnist_root(tmp_path / "data")
    return make_mnist_root(tmp_path / "data", folder="FashionMNIST")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """Each test: no inherited plugin env vars, a private cache dir, fresh plugin cache."""
    from ganframe.plugin.manager import reset_plugins

    for name in ("GANFRAME_LOAD_PLUGINS", "GANFRAME_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture
def plugin_set():
    from ganframe.plugin.manager import load_plugins

    return load_plugins()


@pytest.fixture
def cli():
    """Invoke the CLI in-process: ``cli("run", "--dataset", "ring")`` -> click Result."""
    from typer.testing import CliRunner

    from ganframe.cli import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], **kwargs)

    return invoke
