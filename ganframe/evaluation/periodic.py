"""``ganframe run --eval-every K``: the quality figures during training.

A lifecycle plugin registered per run (like the run directory writer). K
counts **epochs**: after every K-th epoch, and after the last one, it draws
``--eval-samples`` samples (default 2,000, a fifth of ``ganframe eval``'s
10,000 so an evaluation costs a few seconds, not a noticeable share of an
epoch) from the same seeded noise each time, scores them with the metrics of
``--eval-metrics`` (default: every default metric that accepts the data set,
today the data set's cached classifier; see :mod:`ganframe.evaluation.metric_set`) and logs the figures with ``state.log``, so they reach
``metrics.jsonl``, the terminal and every logger plugin (TensorBoard) under
``eval/...`` keys. Figures from 2,000 samples are noisier than ``ganframe
eval``'s (the Frechet distance in particular is biased upwards by small
samples), so compare runs with ``ganframe eval``.

Everything that can fail (no labels, unknown metric names or options, missing
test split, missing Inception weights) is checked when the plugin is built,
before the run directory exists.
"""

from __future__ import annotations

from pathlib import Path

from ganframe.evaluation.evaluator import draw_samples
from ganframe.evaluation.metric_set import ChosenMetric, build_metrics, score_metrics
from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.spec import hookimpl
from ganframe.run.assemble import load_dataset

PREFIX = "eval/"
#: the key of every evaluation row that holds the training wall time before it (scripts/time_to_quality.py)
TRAIN_SECONDS = PREFIX + "train_seconds"


class PeriodicEvaluation:
    """Scores the generator every ``every`` epochs and after the last epoch."""

    def __init__(self, metrics: list[ChosenMetric], every: int, samples: int):
        self.metrics = metrics
        self.every = every
        self.samples = samples

    @hookimpl
    def on_epoch_end(self, state):
        if state.epoch % self.every != 0 and state.epoch != state.config.epochs:
            return
        spec = state.model_spec
        images, labels = draw_samples(
            Conditioned(state.sample_generator, state.g_conditional),
            latent_dim=spec.latent_dim,
            num_classes=spec.num_classes,
            n=self.samples,
            seed=state.config.seed,
            mode=state.config.sample_mode,
            device=state.device,
        )
        figures = {PREFIX + key: value for key, value in score_metrics(self.metrics, images, labels).items()}
        # training seconds so far (evaluations excluded): what "time to quality" is read from
        state.log({**figures, TRAIN_SECONDS: sum(state.epoch_seconds)})


def build_periodic_evaluation(setup, notify=None, *, registry, score: bool = True) -> PeriodicEvaluation | None:
    """The plugin for ``setup.config.eval_every`` (None when not asked for): builds the metrics
    (which checks the data set and the options) and prepares them (the held-out split, the cached
    classifier, trained on first use, or real-image statistics).

    Every process of a distributed run calls this, so each rejects an unscorable data set and none
    waits for a main process that stopped; only the one with ``score`` (the main process) goes on
    to build the plugin, the others get None."""
    config = setup.config
    if not config.eval_every:
        return None
    chosen = build_metrics(
        registry,
        config.eval_metrics,
        dataset=config.dataset,
        train_set=setup.dataset,
        load_test_set=lambda: load_dataset(setup.components.dataset, config, train=False)[0],
        data_root=Path(config.data_root),
        device=setup.device,
        options=config.eval_metric_options,
        what="--eval-every",
        option="--eval-metrics",
        options_flag="--eval-metric-option",
        **({"notify": notify} if notify is not None else {}),
    )
    if not score:
        return None
    for item in chosen:
        item.prepare()
    return PeriodicEvaluation(chosen, config.eval_every, config.eval_samples)
