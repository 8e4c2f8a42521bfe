"""The run state every lifecycle hook receives.

One object holds what a plugin may want to read during training: the
resolved config, the networks and optimizers, the data set, counters and the
metrics read so far. Plugins should treat it as read-only except through its
methods (:meth:`RunState.log`, :meth:`RunState.request_stop`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganframe.config import RunConfig
from ganframe.plugin.specs import ModelSpec
from ganframe.train.weight_average import WeightAverage


@dataclass
class RunState:
    """Live state of one training run."""

    config: RunConfig
    model_spec: ModelSpec
    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    loss: Any
    dataset: Any
    device: torch.device
    component_names: dict[str, str]
    g_conditional: bool = False
    d_conditional: bool = False
    run_dir: Path | None = None
    #: steps completed so far (global, across epochs)
    step: int = 0
    #: epochs completed so far
    epoch: int = 0
    #: steps completed in the current epoch
    batch_in_epoch: int = 0
    steps_per_epoch: int = 0
    total_steps: int = 0
    #: the latest metrics read from the device
    metrics: dict[str, float] = field(default_factory=dict)
    #: every metrics dict emitted, in order
    history: list[dict[str, float]] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    #: the average of G's weights samples are drawn from (``--g-ema``); None when the run keeps none
    g_average: WeightAverage | None = None
    fixed_noise: torch.Tensor | None = None
    fixed_labels: torch.Tensor | None = None
    #: why training ended: "finished", "max_steps", "SIGINT"/"SIGTERM", a plugin's reason,
    #: or (no checkpoint is written for these) "error", "nonfinite", "interrupted"
    stop_reason: str | None = None
    #: this process's rank and the number of processes (1 unless launched by torchrun)
    rank: int = 0
    world_size: int = 1
    #: the newest checkpoint of this run and the step it holds (set by whoever writes one, and on resume)
    last_checkpoint: Path | None = None
    checkpoint_step: int | None = None
    #: the checkpoint this run was resumed from
    resumed_from: Path | None = None
    #: this run's id (in config.json and every checkpoint; --resume uses only checkpoints with it);
    #: None for a run started before runs had ids
    run_id: str | None = None
    #: steps whose update was skipped for a non-finite loss (``--on-nan skip``)
    nonfinite_skipped: int = 0
    #: RNG states at the training position, set by the engine just before the hooks that may
    #: checkpoint (epoch end, train end) and cleared after them; see :mod:`ganframe.train.rng`
    rng_snapshot: dict[str, Any] | None = None
    #: the training step (its schedule's counters go into checkpoints; see ganframe.train.step)
    train_step: Any = None
    _emit: Callable[[dict[str, float]], None] | None = None
    _stop_requested: str | None = None

    @property
    def is_main_process(self) -> bool:
        """True in the process that writes files and shows progress (rank 0; the only one without torchrun)."""
        return self.rank == 0

    @property
    def sample_generator(self) -> nn.Module:
        """The network samples are drawn from: the average of G's weights when the run keeps one
        (``--g-ema``), else G itself. Sample grids and ``--eval-every`` use it; training never does."""
        return self.g_average.network if self.g_average is not None else self.generator

    @property
    def conditional(self) -> bool:
        return self.g_conditional or self.d_conditional

    @property
    def current_epoch(self) -> int:
        """1-based number of the epoch being trained (or just finished)."""
        return self.epoch + 1 if self.batch_in_epoch else max(self.epoch, 1)

    @property
    def stopped_cleanly(self) -> bool:
        """Training ended at a consistent point worth a checkpoint (not on an error, a NaN or a hard interrupt)."""
        return self.stop_reason not in (None, "error", "nonfinite", "interrupted")

    def sample_grid(self, *, preserve_rng: bool = True) -> torch.Tensor:
        """The fixed-noise sample grid (10 per row; row i is class i for conditional models), drawn from
        :attr:`sample_generator` in ``--sample-mode``. With ``preserve_rng`` (the default, for loggers)
        drawing leaves every RNG as it was, so a plugin's sampling never changes training."""
        from ganframe.nn.conditioning import Conditioned
        from ganframe.run.sampling import generate
        from ganframe.train import rng

        def draw() -> torch.Tensor:
            return generate(
                Conditioned(self.sample_generator, self.g_conditional),
                self.fixed_noise,
                self.fixed_labels,
                mode=self.config.sample_mode,
            )

        if not preserve_rng:
            return draw()
        with rng.preserved(self.device):
            return draw()

    @property
    def stop_requested(self) -> str | None:
        """The reason of the latest :meth:`request_stop` (a signal, a plugin), or None."""
        return self._stop_requested

    def set_emitter(self, emit: Callable[[dict[str, float]], None]) -> None:
        """Where :meth:`log` sends figures (the engine's metrics path); set once by the engine."""
        self._emit = emit

    def log(self, metrics: dict[str, float]) -> None:
        """Send figures (e.g. evaluation scores) to every ``on_metrics`` hook, stamped with step and epoch."""
        if self._emit is not None:
            self._emit(dict(metrics))

    def request_stop(self, reason: str) -> None:
        """Ask the engine to stop after the current step (e.g. a plugin's early stopping)."""
        self._stop_requested = reason
