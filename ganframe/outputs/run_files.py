"""The run directory, written by a lifecycle plugin.

Layout (``--out``, default ``runs/<time>-<model>-<loss>``)::

    config.json              the resolved config, components and versions
    real.png                 a grid of real samples, written once
    samples/epoch-0000.png   samples from fixed noise before training, then after each epoch
                             (10 per row; for conditional models row i is class i)
    metrics.jsonl            one JSON object per metrics read: step, epoch, d_loss, g_loss, D(x), D(G(z))
    losses.png               losses and D(x) / D(G(z)) against steps, written at the end
    samples/progress.png     up to 5 sample grids picked evenly over the epochs, side by side, written at the end
    checkpoints/epoch-0001.pt  a checkpoint per epoch (and step-N.pt when stopped mid-epoch)

Only the main process of a distributed run writes. Every file except the
append-only metrics log is written atomically. The metrics log starts as the
run's history so far (empty for a new run, the checkpoint's rows on resume),
so rows a killed run appended after its last checkpoint are dropped rather
than duplicated.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

import ganframe
from ganframe.files import atomic_write
from ganframe.outputs.images import is_image_shape, save_samples
from ganframe.outputs.plots import save_losses_plot, save_progress_strip
from ganframe.plugin.spec import hookimpl
from ganframe.run.checkpoint import Checkpoint, CheckpointError, checkpoint_files
from ganframe.run.sampling import ROW_LENGTH
from ganframe.train.data import InMemoryDataset, scale_to_unit_range

#: the owner recorded for a checkpoint file that does not load: never the run's own, so never deleted
UNREADABLE = "<unreadable>"


def write_json(path: Path, data) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode()))


def real_examples(dataset, num_classes: int, by_class: bool, sample_shape) -> torch.Tensor:
    """Real samples for the reference picture: 10 per class row when ``by_class``, else the
    first 100 (2000 points for 2-D data, drawn as a scatter)."""
    count = ROW_LENGTH * ROW_LENGTH if is_image_shape(tuple(sample_shape)) else 2000
    labels = getattr(dataset, "labels", None)
    if by_class and labels is not None:
        index = torch.cat([torch.nonzero(labels.cpu() == c).flatten()[:ROW_LENGTH] for c in range(num_classes)])
    else:
        index = torch.arange(min(count, len(dataset)))
    if isinstance(dataset, InMemoryDataset):
        return scale_to_unit_range(dataset.data[index.to(dataset.data.device)].cpu())
    return torch.stack([dataset[int(i)][0] for i in index])


class RunFiles:
    """Writes the run directory described in this module's docstring."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.samples_dir = self.run_dir / "samples"
        self.checkpoints_dir = self.run_dir / "checkpoints"
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self._reference: torch.Tensor | None = None
        #: run id of each checkpoint file seen (UNREADABLE for one that does not load), so
        #: --keep-checkpoints reads a file once
        self._owners: dict[Path, str | None] = {}

    # -- hooks -------------------------------------------------------------------
    @hookimpl
    def on_train_start(self, state):
        if not state.is_main_process:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.run_dir / "config.json", self._config_document(state))
        rows = "".join(json.dumps(record) + "\n" for record in state.history)
        atomic_write(self.metrics_path, lambda handle: handle.write(rows.encode()))
        real = real_examples(
            state.dataset, state.model_spec.num_classes, state.conditional, state.model_spec.sample_shape
        )
        self._reference = real
        if not (self.run_dir / "real.png").exists():
            save_samples(real, self.run_dir / "real.png", nrow=ROW_LENGTH)
        if state.step == 0:
            self._save_samples(state, "epoch-0000.png")

    @hookimpl
    def on_metrics(self, state, metrics):
        if not state.is_main_process:
            return
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(metrics) + "\n")

    @hookimpl(trylast=True)
    def on_epoch_end(self, state):
        if not state.is_main_process:
            return
        self._save_samples(state, f"epoch-{state.epoch:04d}.png")
        self._checkpoint(state, f"epoch-{state.epoch:04d}.pt")

    @hookimpl(trylast=True)
    def on_train_end(self, state):
        if not state.is_main_process or state.stop_reason == "interrupted":  # a second Ctrl-C: write nothing more
            return
        if state.stopped_cleanly and state.step > 0 and state.checkpoint_step != state.step:
            self._save_samples(state, f"step-{state.step:07d}.png")
            self._checkpoint(state, f"step-{state.step:07d}.pt")
        save_losses_plot(state.history, self.run_dir / "losses.png", title=self._title(state))
        grids = [(f"epoch {int(p.stem.split('-')[1])}", p) for p in sorted(self.samples_dir.glob("epoch-*.png"))]
        save_progress_strip(grids, self.samples_dir / "progress.png")

    # -- helpers -------------------------------------------------------------------
    def _save_samples(self, state, name: str) -> None:
        samples = state.sample_grid(preserve_rng=False)  # the run's own grid: the last hook to draw
        save_samples(samples, self.samples_dir / name, nrow=ROW_LENGTH, reference=self._reference)

    def _checkpoint(self, state, name: str) -> None:
        path = self.checkpoints_dir / name
        Checkpoint.of(state).save(path)
        self._owners[path] = state.run_id
        state.last_checkpoint, state.checkpoint_step = path, state.step
        keep = state.config.keep_checkpoints
        if keep > 0:
            own = [p for p in checkpoint_files(self.checkpoints_dir) if self._owner(p) == state.run_id]
            for old in own[:-keep]:
                old.unlink(missing_ok=True)
                self._owners.pop(old, None)

    def _owner(self, path: Path) -> str | None:
        """The run id a checkpoint file holds. ``--keep-checkpoints`` deletes only the run's own
        checkpoints: a file copied in from another run, or one that does not load, is never counted
        and never deleted."""
        if path not in self._owners:
            try:
                self._owners[path] = Checkpoint.load(path).run_id
            except CheckpointError:
                self._owners[path] = UNREADABLE
        return self._owners[path]

    @staticmethod
    def _title(state) -> str:
        names = state.component_names
        return f"{names['generator']} / {names['loss']} on {names['dataset']}"

    @staticmethod
    def _config_document(state) -> dict:
        return {
            "run_id": state.run_id,
            **state.config.to_dict(),
            "components": state.component_names,
            "sample_shape": list(state.model_spec.sample_shape),
            "num_classes": state.model_spec.num_classes,
            "steps_per_epoch": state.steps_per_epoch,
            "versions": {"ganframe": ganframe.__version__, "torch": torch.__version__},
            "device_name": torch.cuda.get_device_name(state.device) if state.device.type == "cuda" else "cpu",
        }
