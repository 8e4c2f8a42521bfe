"""Training progress on the terminal, as a lifecycle plugin.

On a terminal: a rich progress bar with live losses, refreshed a few times a
second. Elsewhere (CI logs, files, pipes): one plain line per metrics read and
per epoch, with no control characters. When training stops, a summary
(:mod:`ganframe.outputs.summary`) as a rich table on a terminal, plain lines elsewhere.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ganframe.outputs.summary import summary_rows
from ganframe.plugin.spec import hookimpl


def shown(key: str) -> bool:
    """Keys worth a place on a progress line: not step/epoch, not per-class details such as
    ``eval/label_accuracy/7`` (those go to metrics.jsonl and the loggers)."""
    return key not in {"step", "epoch"} and key.count("/") < 2


#: keys format_metrics shows itself
TRAIN_KEYS = ("d_loss", "g_loss", "D(x)", "D(G(z))", "nonfinite_skipped")


def format_metrics(metrics: dict[str, float], digits: int = 4, sep: str = "  ") -> str:
    """Losses and D outputs, then the updates skipped so far (``--on-nan skip``), which a window
    whose every step was skipped shows alone (its means are None)."""
    parts = []
    for key in TRAIN_KEYS[:4]:
        if metrics.get(key) is not None:
            parts.append(f"{key} {metrics[key]:.{digits if 'loss' in key else digits - 1}f}")
    if "d_loss" in metrics and metrics["d_loss"] is None:
        parts.append("every step skipped")
    if metrics.get("nonfinite_skipped"):
        parts.append(f"skipped {metrics['nonfinite_skipped']}")
    return sep.join(parts)


class ProgressReporter:
    """Shows progress; ``interactive=None`` decides by whether ``stream`` is a terminal."""

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None):
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._progress = None
        self._task = None
        self._every = 1

    @hookimpl
    def on_train_start(self, state):
        if not state.is_main_process:
            return
        names = state.component_names
        header = (
            f"Training {names['generator']} / {names['discriminator']} with loss {names['loss']} on "
            f"{names['dataset']}: {state.config.epochs} epoch(s) of {state.steps_per_epoch} steps, "
            f"batch {state.config.batch_size}, device {state.device}"
        )
        if state.run_dir is not None:
            header += f", writing to {state.run_dir}"
        if self.interactive:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            console = Console(file=self.stream)
            console.print(header, highlight=False)
            self._progress = Progress(
                TextColumn("epoch {task.fields[epoch]}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}"),
                console=console,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=state.total_steps, completed=state.step, epoch=state.current_epoch, losses=""
            )
            self._every = max(1, state.steps_per_epoch // 200)
        else:
            self._line(header)

    @hookimpl
    def on_step_end(self, state):
        if self._progress is not None and state.step % self._every == 0:
            self._progress.update(self._task, completed=state.step, epoch=state.current_epoch)

    @hookimpl
    def on_metrics(self, state, metrics):
        if not state.is_main_process:
            return
        if self._progress is not None:
            self._progress.update(self._task, completed=state.step, losses=format_metrics(metrics, digits=3, sep=" "))
            extra = {k: v for k, v in metrics.items() if shown(k) and k not in TRAIN_KEYS and v is not None}
            if extra:
                self._progress.console.print(
                    f"step {state.step}: " + "  ".join(f"{k} {v:.4g}" for k, v in extra.items())
                )
        else:
            values = format_metrics(metrics) or "  ".join(
                f"{k} {v:.4g}" for k, v in metrics.items() if shown(k) and v is not None
            )
            self._line(
                f"epoch {metrics['epoch']}/{state.config.epochs}  step {state.step}/{state.total_steps}  {values}"
            )

    @hookimpl
    def on_epoch_end(self, state):
        if not state.is_main_process:
            return
        seconds = state.epoch_seconds[-1] if state.epoch_seconds else 0.0
        message = f"epoch {state.epoch}/{state.config.epochs} done in {seconds:.1f} s"
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)
        else:
            self._line(message)

    @hookimpl(wrapper=True)
    def on_train_end(self, state):
        """Close the bar, let every other plugin finish (the run files write the pictures the summary
        names), then print the summary."""
        if self._progress is not None:
            self._progress.update(self._task, completed=state.step)
            self._progress.stop()
            self._progress = None
        result = yield
        if state.is_main_process:
            self._summary(summary_rows(state))
        return result

    def _summary(self, rows: list[tuple[str, str]]) -> None:
        if self.interactive:
            from rich.console import Console
            from rich.table import Table

            table = Table(title="Run summary", title_justify="left", show_header=False)
            table.add_column(style="bold")
            table.add_column()
            for label, value in rows:
                table.add_row(label, value)
            Console(file=self.stream).print(table)
        else:
            width = max(len(label) for label, _ in rows)
            self._line("Run summary")
            for label, value in rows:
                self._line(f"  {label.ljust(width)}  {value}")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
