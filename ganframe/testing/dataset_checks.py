"""Checks for data set factories: what the engine reads from a data set.

The engine sizes networks from ``sample_shape`` and ``num_classes``, batches
an :class:`ganframe.train.data.InMemoryDataset` by indexing its tensors and any
other data set through a ``DataLoader`` over ``dataset[i] -> (x, label)``.
So: both attributes must be declared and true to the items, values must be
in ``[-1, 1]`` (uint8 pixels are scaled by ganframe), labels must be class
indices, and items must batch with the default collate function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import default_collate

from ganframe.plugin.specs import DatasetSpec
from ganframe.testing._common import attempt, build, expect_tensor, fail, options_for, resolve
from ganframe.train.data import InMemoryDataset


def _check_in_memory(label: str, dataset: InMemoryDataset) -> None:
    data, labels = dataset.data, dataset.labels
    if data.dtype != torch.uint8:
        if not data.is_floating_point():
            fail(label, f"InMemoryDataset.data has dtype {data.dtype}; use uint8 pixels (0..255) or floats in [-1, 1].")
        if len(data) and (data.min() < -1 or data.max() > 1):
            fail(
                label,
                f"InMemoryDataset.data holds floats from {data.min().item():.3g} to {data.max().item():.3g}; "
                "floats must already be in [-1, 1] (uint8 pixels are scaled by ganframe).",
            )
    if labels is not None and len(labels) and (labels.min() < 0 or labels.max() >= dataset.num_classes):
        fail(
            label,
            f"labels run from {labels.min().item()} to {labels.max().item()}, outside 0..{dataset.num_classes - 1}.",
        )


def _check_item(label: str, dataset: Any, index: int, shape: tuple[int, ...], num_classes: int) -> None:
    item = attempt(label, f"dataset[{index}]", lambda: dataset[index])
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        fail(label, f"dataset[{index}] must be a pair (x, label); got {type(item).__name__}.")
    x, y = item
    x = expect_tensor(label, x, f"dataset[{index}][0]", shape)
    if x.min() < -1 - 1e-6 or x.max() > 1 + 1e-6:
        fail(
            label,
            f"dataset[{index}] has values from {x.min().item():.3g} to {x.max().item():.3g}; "
            "samples must be scaled to [-1, 1] (the range of the generator's tanh).",
        )
    if num_classes:
        value = y.item() if isinstance(y, torch.Tensor) and y.numel() == 1 and not y.is_floating_point() else y
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < num_classes:
            fail(label, f"dataset[{index}] has label {y!r}; labels must be class indices 0..{num_classes - 1}.")


def check_dataset(
    factory_or_name: Any,
    *,
    root: str | Path,
    train: bool = True,
    download: bool = False,
    options: Mapping[str, Any] | None = None,
    sample_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
    items: int = 8,
) -> Any:
    """Check a data set factory (or registered name); returns the data set.

    ``root`` is the data folder handed to the factory (``spec.root``);
    ``sample_shape`` and ``num_classes``, when given, are what the data set
    must declare. ``items`` samples are read from the start, middle and end.
    """
    factory, _component, label = resolve("dataset", factory_or_name)
    spec = DatasetSpec(root=Path(root), train=train, download=download, options=options_for(options, label))
    dataset = build(label, factory, spec, f"root {root}, train={train}")
    for attribute in ("sample_shape", "num_classes", "__len__", "__getitem__"):
        if not hasattr(dataset, attribute):
            fail(
                label,
                f"the data set ({type(dataset).__name__}) has no '{attribute}'; ganframe needs "
                "sample_shape, num_classes, len() and dataset[i] -> (x, label).",
            )
    shape, classes = tuple(dataset.sample_shape), int(dataset.num_classes or 0)
    if sample_shape is not None and shape != tuple(sample_shape):
        fail(label, f"declares sample_shape {shape}; expected {tuple(sample_shape)}.")
    if num_classes is not None and classes != num_classes:
        fail(label, f"declares num_classes {classes}; expected {num_classes}.")
    size = len(dataset)
    if size <= 0:
        fail(label, "is empty.")
    if isinstance(dataset, InMemoryDataset):
        _check_in_memory(label, dataset)
    picks = sorted({*range(min(items, size)), size // 2, size - 1})
    for index in picks:
        _check_item(label, dataset, index, shape, classes)
    batch = attempt(
        label,
        "batching items with the DataLoader's default collate (return (x, -1) when "
        "there are no labels, never (x, None))",
        lambda: default_collate([dataset[i] for i in picks[:4]]),
    )
    expect_tensor(label, batch[0], "a collated batch", (min(4, len(picks)), *shape))
    return dataset
