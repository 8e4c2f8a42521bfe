"""``ganframe run --eval-every K``: the quality figures during training.

A lifecycle plugin registered per run (like the run directory writer). K
counts **epochs**: after every K-th epoch, and after the last one, it draws
``--eval-samples`` samples (default 2,000, a fifth of ``ganframe eval``'s
10,000 so an evaluation costs a few seconds, not a noticeable share of an
epoch) from the same seeded noise each time, scores them with the data set's
cached classifier and logs the figures with ``state.log``, so they reach
``metrics.jsonl``, the terminal and every logger plugin (TensorBoard) under
``eval/...`` keys. Figures from 2,000 samples are noisier than ``ganframe
eval``'s (the Frechet distance in particular is biased upwards by small
samples), so compare runs with ``ganframe eval``.

A data set with its own quality metric (``ring``: ``eval/modes_covered``,
``eval/num_modes``, ``eval/high_quality_share``) is scored by that instead
of the classifier. Everything that can fail (no labels and no metric of its
own, missing test split) is checked when the plugin is built, before the run
directory exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganframe.run.assemble import load_dataset
from ganframe.evaluation.evaluator import Evaluator, check_evaluable, draw_samples, prepare_evaluator
from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.spec import hookimpl

PREFIX = "eval/"
#: the key of every evaluation row that holds the training wall time before it (scripts/time_to_quality.py)
TRAIN_SECONDS = PREFIX + "train_seconds"


def flatten_scores(scores: dict[str, Any], class_names: list[str]) -> dict[str, float]:
    """Scores as flat ``eval/...`` numbers for metrics logs (per-class accuracies as ``eval/label_accuracy/<class>``;
    other lists, such as a data set's own ``mode_counts``, stay out of the logs)."""
    flat: dict[str, float] = {}
    for key, value in scores.items():
        if key == "label_accuracy_per_class":
            for name, accuracy in zip(class_names, value):
                if accuracy is not None:
                    flat[f"{PREFIX}label_accuracy/{name}"] = accuracy
            continue
        if key in ("class_shares", "num_classes") or isinstance(value, (list, tuple, dict, str)):
            continue
        flat[PREFIX + key] = float(value)
    return flat


class PeriodicEvaluation:
    """Scores the generator every ``every`` epochs and after the last epoch."""

    def __init__(self, evaluator: Evaluator, every: int, samples: int):
        self.evaluator = evaluator
        self.every = every
        self.samples = samples

    @hookimpl
    def on_epoch_end(self, state):
        if state.epoch % self.every != 0 and state.epoch != state.config.epochs:
            return
        spec = state.model_spec
        images, labels = draw_samples(
            Conditioned(state.sample_generator, state.g_conditional), latent_dim=spec.latent_dim,
            num_classes=spec.num_classes, n=self.samples, seed=state.config.seed,
            mode=state.config.sample_mode, device=state.device,
        )
        scores = self.evaluator.score(images, labels)
        # training seconds so far (evaluations excluded): what "time to quality" is read from
        state.log({**flatten_scores(scores, self.evaluator.class_names), TRAIN_SECONDS: sum(state.epoch_seconds)})


def build_periodic_evaluation(setup, notify=None, *, score: bool = True) -> PeriodicEvaluation | None:
    """The plugin for ``setup.config.eval_every`` (None when not asked for): checks the data set,
    loads its held-out split and the cached classifier (training it on first use).

    Every process of a distributed run calls this, so each rejects an unscorable data set and none
    waits for a main process that stopped; only the one with ``score`` (the main process) goes on
    to build the plugin, the others get None."""
    config = setup.config
    if not config.eval_every:
        return None
    check_evaluable(setup.dataset, config.dataset, what="--eval-every")
    if not score:
        return None
    test_set, _ = load_dataset(setup.components.dataset, config, train=False)
    evaluator = prepare_evaluator(
        setup.dataset, test_set, config.dataset, Path(config.data_root), device=setup.device,
        **({"notify": notify} if notify is not None else {}),
    )
    return PeriodicEvaluation(evaluator, config.eval_every, config.eval_samples)
