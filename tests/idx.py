"""MNIST data for tests and benchmarks: finding the real copy, and writing data sets in MNIST's IDX format.

No side effects on import (the benchmarks import it without tests/conftest.py's thread setting).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def shared_data_root() -> Path | None:
    """The real MNIST copy: $GANFRAME_DATA, else ../shared/data beside the checkout."""
    for candidate in (os.environ.get("GANFRAME_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
            return Path(candidate).resolve()
    return None


def write_idx_images(path: Path, images: torch.Tensor) -> None:
    n, rows, cols = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, rows, cols) + images.to(torch.uint8).numpy().tobytes())


def write_idx_labels(path: Path, labels: torch.Tensor) -> None:
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.to(torch.uint8).numpy().tobytes())


def synthetic_digits(n: int, seed: int = 0, num_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Images whose class is visible: class c lights up a bar at row 2 + 2c (learnable in seconds)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % num_classes
    images = (torch.rand(n, 28, 28, generator=g) * 40).to(torch.uint8)
    for i, c in enumerate(labels.tolist()):
        images[i, 2 + 2 * c : 4 + 2 * c, 4:24] = 255
    return images, labels


def make_mnist_root(root: Path, folder: str = "MNIST", n_train: int = 256, n_test: int = 64) -> Path:
    """A data root holding ``<folder>/raw`` with tiny train and test IDX files; returns ``root``."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for train, n in ((True, n_train), (False, n_test)):
        images, labels = synthetic_digits(n, seed=0 if train else 1)
        image_file, label_file = MNIST_FILES[train]
        write_idx_images(raw / image_file, images)
        write_idx_labels(raw / label_file, labels)
    return root
