"""Fixtures for ganframe-dcgan's tests (the test kit's own fixtures come from ganframe's pytest plugin)."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The data root ganframe would use ($GANFRAME_DATA, else its per-user cache), if it holds MNIST."""
    from ganframe import resolve_data_root

    root = resolve_data_root()
    if not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"MNIST not found in {root}; set GANFRAME_DATA to a folder holding MNIST/raw")
    return root
