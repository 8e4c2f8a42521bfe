"""The data set a checkpoint was trained on, both splits, found again for evaluation.

``ganframe sample`` needs no data set; ``ganframe eval`` does (the classifier
is trained on the training split, the Frechet distance compares against the
held-out split). The data set's name and options come from the checkpoint's
config. Its data root, by precedence: ``--data-root``, the root recorded in
the checkpoint when it still exists (the most specific answer: where this
model's data was), then ``GANFRAME_DATA``, then the per-user cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganframe.config import RunConfig
from ganframe.plugin.registry import Registry
from ganframe.run.assemble import load_dataset
from ganframe.run.data_root import resolve_data_root

#: the image data sets' options that cut the training split (``ganframe_builtins.subsets``)
SUBSET_OPTIONS = ("subset", "subset_seed")


def evaluation_data_root(cli_value: str | None, recorded: str | None) -> Path:
    if cli_value:
        return resolve_data_root(cli_value)
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    return resolve_data_root(None)  # GANFRAME_DATA, else the per-user cache


def split_loader(registry: Registry, dataset: str, data_root: Path, options: dict[str, Any] | None = None):
    """``load(train: bool)``, the training or held-out split of ``dataset`` under ``data_root``.

    The image data sets' ``subset`` options (data-limited training: ``subset``, ``subset_seed``) are dropped: the classifier
    learns from the whole training split, so a run on 1,000 images is scored by the same
    classifier, against the same held-out split, as a run on all of them."""
    component = registry.get("dataset", dataset, option="the checkpoint's dataset")
    options = {k: v for k, v in (options or {}).items() if k not in SUBSET_OPTIONS}
    config = RunConfig(dataset=dataset, data_root=str(data_root), dataset_options=options)
    return lambda train: load_dataset(component, config, train=train)[0]


def load_splits(registry: Registry, dataset: str, data_root: Path, options: dict[str, Any] | None = None):
    """(training split, held-out split) of ``dataset`` under ``data_root`` (see :func:`split_loader`)."""
    load = split_loader(registry, dataset, data_root, options)
    return load(True), load(False)
