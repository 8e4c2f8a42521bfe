"""Checks for metric factories (``register_metrics``): what ``ganframe eval`` and ``--eval-every`` rely on.

A metric is built from a :class:`ganframe.MetricSpec`, prepared once, then
scores batches: the figures must be finite floats under the same keys every
call (they become ``eval/<key>`` columns of ``metrics.jsonl``), on real
samples and on noise alike, and a data set the metric cannot score must be
declined with :class:`ganframe.MetricDeclined` naming it, not fail later.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from ganframe.errors import GanframeError, MetricDeclined
from ganframe.plugin.specs import MetricSpec
from ganframe.testing._common import attempt, check_all_read, fail, options_for, resolve
from ganframe.train.data import scale_to_unit_range

UNSUPPORTED_NAME = "check-metric-unsupported"


def _splits(dataset: Any, root: Path, dataset_options: Mapping[str, Any] | None) -> tuple[str, Any, Any]:
    """``(name, training split, held-out split)`` of a registered name, or a data set object used as both."""
    if not isinstance(dataset, str):
        return getattr(dataset, "name", None) or "check-metric-data", dataset, dataset
    from ganframe.evaluation.data_splits import load_splits
    from ganframe.plugin.manager import get_plugins

    try:
        train_set, test_set = load_splits(get_plugins(report=False).registry, dataset, root, dataset_options)
    except GanframeError as exc:
        raise AssertionError(f"check_metric could not load dataset '{dataset}': {exc.message}") from None
    return dataset, train_set, test_set


def _spec(name: str, train_set: Any, test_set: Any, root: Path, device: Any, options, label: str) -> MetricSpec:
    return MetricSpec(
        dataset=name,
        train_set=train_set,
        data_root=root,
        device=torch.device(device),
        options=options,
        load_test_set=lambda: test_set,
        what=f"check_metric({label})",
    )


def _figures(
    label: str, metric: Any, samples: torch.Tensor, labels: torch.Tensor | None, what: str
) -> dict[str, float]:
    figures = attempt(label, f"score() on {what}", lambda: metric.score(samples, labels))
    if not isinstance(figures, dict) or not figures:
        fail(label, f"score() on {what} returned {figures!r}; it must return a non-empty dict of figure name -> float.")
    for key, value in figures.items():
        if not isinstance(key, str) or not key:
            fail(label, f"score() on {what} returned the key {key!r}; figure names must be non-empty strings.")
        if isinstance(value, bool) or not isinstance(value, (float, int)):
            fail(
                label,
                f"score() on {what} returned {key}={value!r} ({type(value).__name__}); figures must be "
                "Python floats (use float(tensor) or .item()).",
            )
        if not math.isfinite(value):
            fail(label, f"score() on {what} returned {key}={value}; figures must be finite.")
    return {key: float(value) for key, value in figures.items()}


def check_metric(
    factory_or_name: Any,
    *,
    dataset: Any,
    root: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    unsupported: Iterable[Any] = (),
    n: int = 16,
    device: str = "cpu",
) -> dict[str, float]:
    """Check a metric end to end; returns its figures for real samples.

    ``dataset``: a registered data set name (loaded from ``root`` with
    ``dataset_options``) or a data set object (used as both splits).
    ``unsupported``: data set names or objects the metric must decline.
    """
    factory, _component, label = resolve("metric", factory_or_name)
    root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="ganframe-check-metric-"))
    name, train_set, test_set = _splits(dataset, root, dataset_options)
    spec = _spec(name, train_set, test_set, root, device, options_for(options, label), label)
    try:
        metric = factory(spec)
    except MetricDeclined as exc:
        fail(label, f"declined dataset '{name}', which it was expected to score: {exc.message}")
    except GanframeError as exc:
        fail(label, f"refused dataset '{name}': {exc.message}")
    check_all_read(label, spec.options)
    if not callable(getattr(metric, "score", None)):
        fail(label, f"the factory returned a {type(metric).__name__}, which has no score(samples, labels) method.")
    if callable(getattr(metric, "prepare", None)):
        try:
            metric.prepare()
        except GanframeError as exc:
            fail(label, f"prepare() refused dataset '{name}': {exc.message}")
    count = min(n, len(test_set))
    real = scale_to_unit_range(test_set.data[:count]).to(device)
    labels = test_set.labels[:count].to(device) if getattr(test_set, "labels", None) is not None else None
    noise = (torch.rand(real.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(device)
    on_real = _figures(label, metric, real, labels, "real samples")
    on_noise = _figures(label, metric, noise, labels, "uniform noise")
    again = _figures(label, metric, real, labels, "the same real samples again")
    for what, figures in (("uniform noise", on_noise), ("the same real samples again", again)):
        if set(figures) != set(on_real):
            fail(
                label,
                f"score() returned different keys on {what} ({sorted(figures)}) than on real samples "
                f"({sorted(on_real)}); the keys must be the same every call.",
            )
    for index, other in enumerate(unsupported):
        other_name, other_train, other_test = _splits(other, root, None)
        if not isinstance(other, str):
            other_name = f"{UNSUPPORTED_NAME}-{index}"
        other_spec = _spec(other_name, other_train, other_test, root, device, options_for(options, label), label)
        try:
            factory(other_spec)
        except MetricDeclined as exc:
            if other_name not in exc.message:
                fail(
                    label,
                    f"declined dataset '{other_name}' without naming it: {exc.message!r}; say which data set "
                    "and why, e.g. \"dataset 'ring' has no labels\".",
                )
            continue
        except GanframeError as exc:
            fail(label, f"refused dataset '{other_name}' with {type(exc).__name__}, not MetricDeclined: {exc.message}")
        fail(
            label,
            f"accepted dataset '{other_name}', which it was expected to decline (raise "
            "ganframe.MetricDeclined from the factory with the reason).",
        )
    return on_real
