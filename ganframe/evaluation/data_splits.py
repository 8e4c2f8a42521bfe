"""The data set a checkpoint was trained on, both splits, found again for evaluation.

``ganframe sample`` needs no data set; ``ganframe eval`` does (the classifier
is trained on the training split, the Frechet distance compares against the
held-out split). The data set's name and options come from the checkpoint's
config. Its data root, by precedence: ``--data-root``, ``GANFRAME_DATA``,
the root recorded in the checkpoint when it still exists, the per-user cache.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganframe.assemble import load_dataset
from ganframe.config import RunConfig
from ganframe.data_root import DATA_ENV, resolve_data_root
from ganframe.registry import Registry


def evaluation_data_root(cli_value: str | None, recorded: str | None) -> Path:
    if cli_value or os.environ.get(DATA_ENV):
        return resolve_data_root(cli_value)
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    return resolve_data_root(None)


def load_splits(registry: Registry, dataset: str, data_root: Path, options: dict[str, Any] | None = None):
    """(training split, held-out split) of ``dataset`` under ``data_root``."""
    component = registry.get("dataset", dataset, option="the checkpoint's dataset")
    config = RunConfig(dataset=dataset, data_root=str(data_root), dataset_options=dict(options or {}))
    train_set, _ = load_dataset(component, config, train=True)
    test_set, _ = load_dataset(component, config, train=False)
    return train_set, test_set
