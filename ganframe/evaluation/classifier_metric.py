"""The ``classifier`` metric: today's offline figures as a metric plugin.

Classes covered, class KL from uniform, confidence, the Frechet distance in
the data set's own classifier's feature space and, for conditional samples,
label accuracy (see :mod:`ganframe.evaluation.metrics`). The classifier is
trained on the training split once and cached (:mod:`ganframe.evaluation.cache`).

It is registered by the built-in plugin ``ganframe_builtins.classifier_metrics``
as a *default* metric and declines data sets without class labels or without
images, so ``ganframe eval`` on 2-D points names the reason instead of failing
inside the classifier.
"""

from __future__ import annotations

from typing import Any

from ganframe.plugin.specs import MetricSpec

#: keys of :meth:`Evaluator.score` that are not single figures
_NOT_FIGURES = ("class_shares", "num_classes", "label_accuracy_per_class")


def flat_figures(scores: dict[str, Any], class_names: list[str]) -> dict[str, float]:
    """:meth:`Evaluator.score`'s document as flat floats (per-class accuracies as ``label_accuracy/<class>``)."""
    flat = {key: float(value) for key, value in scores.items() if key not in _NOT_FIGURES}
    for name, accuracy in zip(class_names, scores.get("label_accuracy_per_class") or [], strict=False):
        if accuracy is not None:
            flat[f"label_accuracy/{name}"] = accuracy
    return flat


class ClassifierMetric:
    """Scores samples with the data set's cached classifier (prepared on first use)."""

    def __init__(self, spec: MetricSpec):
        self.spec = spec
        self.evaluator = None

    def prepare(self) -> None:
        """Load (or train once and cache) the classifier and the held-out split's feature statistics."""
        if self.evaluator is not None:
            return
        from ganframe.evaluation.evaluator import prepare_evaluator

        spec = self.spec
        self.evaluator = prepare_evaluator(
            spec.train_set, spec.test_set, spec.dataset, spec.data_root, device=spec.device, notify=spec.notify
        )

    def report(self, samples, labels=None) -> dict[str, Any]:
        """Every figure, with per-class lists, the class names and where the classifier came from."""
        self.prepare()
        scores = self.evaluator.score(samples, labels)
        return {**scores, "class_names": list(self.evaluator.class_names), "classifier": dict(self.evaluator.info)}

    def score(self, samples, labels=None) -> dict[str, float]:
        self.prepare()
        return flat_figures(self.evaluator.score(samples, labels), self.evaluator.class_names)


def classifier_metric(spec: MetricSpec) -> ClassifierMetric:
    """Classes covered, class KL, confidence, Frechet distance and label accuracy from the data set's own classifier."""
    from ganframe.evaluation.evaluator import check_evaluable

    check_evaluable(spec.train_set, spec.dataset, what=spec.what)
    return ClassifierMetric(spec)
