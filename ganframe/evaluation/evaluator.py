"""A prepared evaluator: the data set's classifier and the test split's feature
statistics, ready to score batches of generated samples.

Preparing is the expensive part (loading the data set, training the
classifier the first time); scoring 10,000 samples takes seconds. Both
``ganframe eval`` and the ``--eval-every`` plugin prepare once and score many
times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganframe.errors import MetricDeclined
from ganframe.evaluation import cache
from ganframe.evaluation.classifier import Classifier, Recipe, classify, logits_accuracy, train_classifier
from ganframe.evaluation.metrics import (
    class_shares,
    classes_covered,
    feature_statistics,
    frechet_distance,
    kl_from_uniform,
    label_accuracy,
    mean_confidence,
)
from ganframe.nn.conditioning import Conditioned
from ganframe.train import rng

Notify = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


def check_evaluable(dataset: Any, name: str, *, what: str = "ganframe eval") -> None:
    """:class:`MetricDeclined` (a UsageError) unless ``dataset`` is a labelled image data set held in memory."""
    labels = getattr(dataset, "labels", None)
    data = getattr(dataset, "data", None)
    if labels is None or int(getattr(dataset, "num_classes", 0) or 0) < 2:
        raise MetricDeclined(
            f"{what} scores samples with a classifier trained on the data set's class labels, but "
            f"dataset '{name}' has no labels and no quality metric of its own (quality_metrics), so it cannot "
            "be evaluated. Use a labelled image data set such as 'mnist' or 'fashion-mnist', or one that "
            "scores its own samples such as 'ring' (otherwise look at the pictures in the run's samples/ folder)."
        )
    if not isinstance(data, torch.Tensor) or data.dim() != 4:
        shape = tuple(data.shape[1:]) if isinstance(data, torch.Tensor) else "unknown"
        raise MetricDeclined(
            f"{what} needs images (channels x height x width) held in memory "
            f"(ganframe.train.data.InMemoryDataset), but dataset '{name}' has samples of shape {shape}."
        )


@dataclass
class Evaluator:
    """Scores generated samples against one data set."""

    classifier: Classifier
    num_classes: int
    class_names: list[str]
    reference_mean: torch.Tensor
    reference_cov: torch.Tensor
    #: where the classifier came from: path, test accuracy, training time, checksum
    info: dict[str, Any] = field(default_factory=dict)

    def score(self, images: torch.Tensor, requested_labels: torch.Tensor | None = None) -> dict[str, Any]:
        """The figures of :mod:`ganframe.evaluation.metrics` for ``images`` in [-1, 1]
        (``requested_labels``: the classes a conditional generator was asked for)."""
        features, logits = classify(self.classifier, images.detach())
        predictions = logits.argmax(dim=1)
        shares = class_shares(predictions, self.num_classes)
        mean, cov = feature_statistics(features)
        scores: dict[str, Any] = {
            "classes_covered": classes_covered(shares),
            "num_classes": self.num_classes,
            "class_kl": kl_from_uniform(shares),
            "confidence": mean_confidence(logits),
            "frechet_distance": frechet_distance(mean, cov, self.reference_mean, self.reference_cov),
            "class_shares": [round(float(s), 6) for s in shares],
        }
        if requested_labels is not None:
            overall, per_class = label_accuracy(predictions, requested_labels, self.num_classes)
            scores["label_accuracy"] = overall
            scores["label_accuracy_per_class"] = per_class
        return scores


def obtain_classifier(
    train_set: Any,
    test_set: Any,
    dataset_name: str,
    data_root: Path,
    *,
    device: torch.device,
    notify: Notify = _quiet,
    recipe: Recipe = Recipe(),
) -> tuple[Classifier, dict[str, Any]]:
    """The cached classifier for this training split, training (and caching) it on first use."""
    model, info, _ = _obtain(train_set, test_set, dataset_name, data_root, device=device, notify=notify, recipe=recipe)
    return model, info


def _obtain(
    train_set: Any,
    test_set: Any,
    dataset_name: str,
    data_root: Path,
    *,
    device: torch.device,
    notify: Notify,
    recipe: Recipe,
) -> tuple[Classifier, dict[str, Any], tuple[torch.Tensor, torch.Tensor] | None]:
    """:func:`obtain_classifier`, plus the test split's (features, logits) when the classifier was
    trained now (its test accuracy needed them; None for a cached classifier)."""
    started = time.perf_counter()
    checksum = cache.tensor_checksum(train_set.data, train_set.labels)
    num_classes = int(train_set.num_classes)
    in_channels = int(train_set.data.shape[1])
    found, payload = cache.load_cached(data_root, dataset_name, checksum)
    if payload is not None:
        model = Classifier(in_channels, num_classes)
        model.load_state_dict(payload["state_dict"])
        info = {key: payload[key] for key in ("test_accuracy", "train_seconds", "epochs") if key in payload}
        return model.to(device).eval(), {"path": str(found), "checksum": checksum, "trained_now": False, **info}, None
    if found is not None:
        notify(f"The cached classifier {found} is unreadable or outdated; training a new one.")
    folder = cache.save_folder(data_root)
    if folder.parent != Path(data_root):
        notify(f"Data root {data_root} is read-only; caching the evaluation classifier in {folder} instead.")
    epochs = recipe.epochs_for(len(train_set))
    notify(
        f"Training the evaluation classifier for '{dataset_name}' on its {len(train_set)} training samples "
        f"({epochs} epochs; done once per data set, then cached)."
    )

    def progress(epoch: int, seconds: float) -> None:
        if epoch == epochs or epochs <= 10:
            notify(f"  classifier epoch {epoch}/{epochs} ({seconds:.0f} s)")

    model = train_classifier(
        train_set.data, train_set.labels, num_classes, recipe=recipe, device=device, progress=progress
    )
    classified = classify(model, test_set.data)
    test_accuracy = logits_accuracy(classified[1], test_set.labels)
    seconds = time.perf_counter() - started
    path = folder / cache.file_name(dataset_name, checksum)
    cache.save_classifier(
        path,
        {
            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
            "checksum": checksum,
            "dataset": dataset_name,
            "num_classes": num_classes,
            "in_channels": in_channels,
            "test_accuracy": test_accuracy,
            "train_seconds": seconds,
            "epochs": epochs,
        },
    )
    notify(f"Evaluation classifier: {test_accuracy:.2%} test accuracy, trained in {seconds:.0f} s, saved to {path}")
    info = {"test_accuracy": test_accuracy, "train_seconds": seconds, "epochs": epochs}
    return model, {"path": str(path), "checksum": checksum, "trained_now": True, **info}, classified


def prepare_evaluator(
    train_set: Any,
    test_set: Any,
    dataset_name: str,
    data_root: Path,
    *,
    device: torch.device,
    notify: Notify = _quiet,
    recipe: Recipe = Recipe(),
) -> Evaluator:
    """Classifier (cached or trained now) plus the test split's feature statistics."""
    check_evaluable(train_set, dataset_name)
    check_evaluable(test_set, dataset_name)
    classifier, info, classified = _obtain(
        train_set, test_set, dataset_name, Path(data_root), device=device, notify=notify, recipe=recipe
    )
    features, _ = classified if classified is not None else classify(classifier, test_set.data)
    mean, cov = feature_statistics(features)
    return Evaluator(classifier, int(train_set.num_classes), list(train_set.class_names), mean, cov, info)


def draw_samples(
    generator: Conditioned,
    *,
    latent_dim: int,
    num_classes: int,
    n: int,
    seed: int,
    mode: str,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` samples from seeded noise; a conditional generator is asked for every class equally
    often (shuffled). The global RNG (used by dropout in train mode) is left as it was."""
    from ganframe.run.sampling import generate

    noise_rng = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, latent_dim, generator=noise_rng).to(device)
    labels = None
    if generator.conditional:
        labels = (torch.arange(n) % num_classes)[torch.randperm(n, generator=noise_rng)].to(device)
    with rng.preserved(device):
        torch.manual_seed(seed)
        images = generate(generator, noise, labels, mode=mode)
    return images, labels
