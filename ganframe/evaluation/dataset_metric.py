"""Data sets that score generated samples themselves.

A classifier needs class labels; a toy data set such as ``ring`` has none,
but knows exactly what a good sample is (close to one of its modes). Such a
data set offers ``quality_metrics(samples) -> dict`` on the object its
factory returns: given generated samples (a tensor in the data's own range,
``(N, *sample_shape)``) it returns figures as a flat dict of numbers (lists
are allowed for per-part detail, e.g. ``mode_counts``). ``ganframe eval`` and
``--eval-every`` use it instead of the classifier whenever it is there;
``ring`` is the first data set to offer one (mode coverage,
:mod:`ganframe.evaluation.mode_coverage`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: the attribute a data set offers its own quality metric under
ATTRIBUTE = "quality_metrics"


def own_metric(dataset: Any) -> Callable[[Any], dict[str, Any]] | None:
    """The data set's own ``quality_metrics`` callable, or None when it has none."""
    metric = getattr(dataset, ATTRIBUTE, None)
    return metric if callable(metric) else None


@dataclass
class DatasetMetricEvaluator:
    """Scores samples with the data set's own metric (same interface as the classifier's Evaluator)."""

    metric: Callable[[Any], dict[str, Any]]
    dataset_name: str
    class_names: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def score(self, samples, requested_labels=None) -> dict[str, Any]:
        """The data set's figures for ``samples`` (``requested_labels`` is ignored: no classes)."""
        scores = self.metric(samples.detach())
        if not isinstance(scores, dict):
            from ganframe.errors import PluginContractError

            raise PluginContractError(
                f"Dataset '{self.dataset_name}': {ATTRIBUTE}(samples) returned {type(scores).__name__}; "
                "it must return a dict of figures."
            )
        return dict(scores)
