"""Data sets that score generated samples themselves.

A classifier needs class labels; a toy data set such as ``ring`` has none,
but knows exactly what a good sample is (close to one of its modes). Such a
data set offers ``quality_metrics(samples) -> dict`` on the object its
factory returns: given generated samples (a tensor in the data's own range,
``(N, *sample_shape)``) it returns figures as a flat dict of numbers (lists
are allowed for per-part detail, e.g. ``mode_counts``). The built-in ``dataset`` metric
(a default metric, like ``classifier``) scores with it whenever it is there;
``ring`` is the first data set to offer one (mode coverage,
:mod:`ganframe.evaluation.mode_coverage`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: the attribute a data set offers its own quality metric under
ATTRIBUTE = "quality_metrics"


def own_metric(dataset: Any) -> Callable[[Any], dict[str, Any]] | None:
    """The data set's own ``quality_metrics`` callable, or None when it has none."""
    metric = getattr(dataset, ATTRIBUTE, None)
    return metric if callable(metric) else None


class DatasetMetric:
    """The ``dataset`` metric plugin: scores samples with the data set's own ``quality_metrics``."""

    def __init__(self, metric: Callable[[Any], dict[str, Any]], dataset_name: str):
        self.metric = metric
        self.dataset_name = dataset_name

    def report(self, samples, labels=None) -> dict[str, Any]:
        """Every figure the data set returns, per-part lists included (``ring``'s ``mode_counts``)."""
        scores = self.metric(samples.detach())
        if not isinstance(scores, dict):
            from ganframe.errors import PluginContractError

            raise PluginContractError(
                f"Dataset '{self.dataset_name}': {ATTRIBUTE}(samples) returned {type(scores).__name__}; "
                "it must return a dict of figures."
            )
        return {**scores, "source": f"dataset '{self.dataset_name}' (its own {ATTRIBUTE})"}

    def score(self, samples, labels=None) -> dict[str, float]:
        """The single figures (lists such as ``mode_counts`` are left to :meth:`report`)."""
        return {
            key: float(value)
            for key, value in self.report(samples, labels).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }


def dataset_metric(spec: Any) -> DatasetMetric:
    """The data set's own quality figures (``ring``: modes covered, high-quality share); declines data
    sets that offer none."""
    from ganframe.errors import MetricDeclined

    metric = own_metric(spec.train_set)
    if metric is None:
        raise MetricDeclined(
            f"dataset '{spec.dataset}' offers no quality metric of its own ({ATTRIBUTE}(samples) on the "
            "object its factory returns); only data sets such as 'ring' do."
        )
    return DatasetMetric(metric, spec.dataset)
