"""Shared pieces for the evaluation tests: a cheap classifier recipe and a
tiny synthetic data root whose classifier is trained once per session."""

from __future__ import annotations

import pytest
import torch

from ganframe.evaluation.classifier import Recipe
from tests.idx import make_mnist_root

#: enough for the synthetic bar "digits" (100% test accuracy), a second or two on a CPU
TINY = Recipe(epochs=1, min_steps=40, batch_size=32)
CPU = torch.device("cpu")


@pytest.fixture(scope="session")
def trained_root(tmp_path_factory):
    """A synthetic MNIST data root with its evaluation classifier already cached in it, so
    CLI tests score with it instead of training the full recipe."""
    from ganframe.evaluation.data_splits import load_splits
    from ganframe.evaluation.evaluator import obtain_classifier
    from ganframe.plugin.manager import load_plugins

    root = make_mnist_root(tmp_path_factory.mktemp("trained") / "data")
    train_set, test_set = load_splits(load_plugins().registry, "mnist", root)
    _, info = obtain_classifier(train_set, test_set, "mnist", root, device=CPU, recipe=TINY)
    assert info["test_accuracy"] == 1.0
    return root
