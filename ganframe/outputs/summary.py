"""The end-of-run summary: what a person wants to know when training stops.

Built from the run state as plain (label, value) rows so the progress plugin
can show it as a rich table on a terminal and as plain lines in logs: how the
run stopped, the final losses and D outputs, the latest quality figures
(``--eval-every``), the time per epoch, and where the pictures are (shown after the
run files are written, so only pictures that exist are named).
"""

from __future__ import annotations

from pathlib import Path

#: eval/... keys shown in the summary, with their labels and formats
EVAL_ROWS = (
    ("eval/classes_covered", "classes covered (> 2%)", "{:.0f}"),
    ("eval/class_kl", "class KL from uniform", "{:.4f}"),
    ("eval/confidence", "classifier confidence", "{:.3f}"),
    ("eval/frechet_distance", "Frechet distance (classifier features)", "{:.2f}"),
    ("eval/label_accuracy", "label accuracy", "{:.3f}"),
    ("eval/modes_covered", "modes covered (>= 1% of the high-quality samples)", "{:.0f}"),
    ("eval/high_quality_share", "high-quality samples (within 3 std of a mode)", "{:.1%}"),
)
#: the key whose presence marks an evaluation row: the classifier's, or a data set's own metric (ring's)
EVALUATED_KEYS = ("eval/classes_covered", "eval/modes_covered")
TRAIN_ROWS = (
    ("d_loss", "final D loss", "{:.4f}"),
    ("g_loss", "final G loss", "{:.4f}"),
    ("D(x)", "final D(x)", "{:.3f}"),
    ("D(G(z))", "final D(G(z))", "{:.3f}"),
)


def _latest(history: list[dict[str, float]], key: str) -> dict[str, float] | None:
    """The newest row with a value for ``key`` (rows of windows whose every step was skipped have None)."""
    return next((record for record in reversed(history) if record.get(key) is not None), None)


def summary_rows(state) -> list[tuple[str, str]]:
    """(label, value) rows describing the finished (or stopped) run."""
    rows = [("stopped", f"{state.stop_reason or 'unknown'} after {state.step} steps, {state.epoch} epoch(s)")]
    trained = _latest(state.history, "d_loss")
    if trained is not None:
        rows += [(label, fmt.format(trained[key])) for key, label, fmt in TRAIN_ROWS if trained.get(key) is not None]
    skipped = getattr(state, "nonfinite_skipped", 0)
    if skipped:
        rows.append(("skipped updates", f"{skipped} step(s) with a non-finite loss (--on-nan skip)"))
    evaluated = next((found for key in EVALUATED_KEYS if (found := _latest(state.history, key))), None)
    if evaluated is not None:
        rows.append(("evaluated at", f"epoch {evaluated['epoch']} ({state.config.eval_samples} samples)"))
        for key, label, fmt in EVAL_ROWS:
            if key in evaluated:
                value = fmt.format(evaluated[key])
                if key == "eval/classes_covered":
                    value += f" of {state.model_spec.num_classes}"
                if key == "eval/modes_covered" and "eval/num_modes" in evaluated:
                    value += f" of {evaluated['eval/num_modes']:.0f}"
                rows.append((label, value))
    if state.epoch_seconds:
        mean = sum(state.epoch_seconds) / len(state.epoch_seconds)
        rows.append(("time per epoch", f"{mean:.1f} s (total {sum(state.epoch_seconds):.1f} s)"))
    if state.run_dir is not None:  # the ones written (not after a second Ctrl-C, nor with nothing to plot)
        pictures = [Path(state.run_dir) / "losses.png", Path(state.run_dir) / "samples" / "progress.png"]
        written = [str(path) for path in pictures if path.is_file()]
        if written:
            rows.append(("pictures", ", ".join(written)))
    return rows
