"""The training loop: epochs of :class:`ganframe.train.step.TrainStep`, with hooks.

The engine knows no particular model, loss or data set, and writes no files
itself: the run directory, progress display and loggers are plugins that
implement the lifecycle hooks (:mod:`ganframe.plugin.spec`). Metrics stay on
the device (:mod:`ganframe.train.metrics_window`); they are read back (one host
sync) every ``log_every`` steps of an epoch, at the end of each epoch and
when training stops, checked for non-finite losses (:mod:`ganframe.train.nonfinite`)
and sent to ``on_metrics`` as the mean over that window.

The loop is resumable: it starts at ``state.epoch`` / ``state.batch_in_epoch``
(set by :mod:`ganframe.run.resume`), takes the RNG states a checkpoint needs just
before the hooks that write one, and runs hooks so that they cannot change
the random numbers training draws (:mod:`ganframe.train.rng`). A stop request (a
signal, a plugin) takes effect after the current step; in a distributed run
after the step at which all ranks have agreed on it (the next metrics read).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

import pluggy
import torch

from ganframe.errors import UsageError
from ganframe.run.assemble import Setup
from ganframe.run.sampling import grid_inputs
from ganframe.train import nonfinite, rng
from ganframe.train.accelerate import CUDAGraphStep, compile_networks
from ganframe.train.data import make_batches
from ganframe.train.distributed import Processes
from ganframe.train.lr_decay import make_lr_decay
from ganframe.train.metrics_window import MetricsWindow
from ganframe.train.state import RunState
from ganframe.train.step import METRIC_NAMES, StepLevers, TrainStep
from ganframe.train.weight_average import WeightAverage


@dataclass(frozen=True)
class TrainSettings:
    """The run settings the engine reads: a narrow view of :class:`ganframe.config.RunConfig`, so
    the engine does not depend on options it has no business with (names, paths, loggers)."""

    seed: int
    epochs: int
    max_steps: int | None
    batch_size: int
    optimizer: str
    lr: float
    beta1: float
    beta2: float
    momentum: float
    lr_decay: str
    g_ema: float
    precision: str
    compile: bool
    cuda_graph: bool
    data_path: str
    on_nan: str
    log_every: int
    dataset: str
    sync_batchnorm: bool

    @classmethod
    def of(cls, config) -> TrainSettings:
        """The settings of a resolved config."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls)})


def make_optimizer(
    params, config, device: torch.device, *, capturable: bool = False, fused: bool = True
) -> torch.optim.Optimizer:
    """Adam or SGD from the run's settings.

    With ``fused`` (``StepLevers.fused_optimizer``, the default) Adam uses PyTorch's fused kernel
    (one kernel for all parameters; falls back to the multi-tensor ``foreach`` form where fused is
    unavailable); without it PyTorch's default implementation, as the tutorials do. ``capturable``
    keeps Adam's step counter on the device so the update can be captured in a CUDA graph.
    """
    params = list(params)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, foreach=fused or None)
    kwargs: dict[str, Any] = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    if capturable:
        kwargs["capturable"] = True
    if not fused:
        return torch.optim.Adam(params, **kwargs)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, ValueError, TypeError):  # older torch, or a device without fused Adam
        return torch.optim.Adam(params, foreach=True, **kwargs)


class Trainer:
    """Runs one training run from a :class:`Setup`, calling the plugin manager's lifecycle hooks."""

    def __init__(
        self,
        setup: Setup,
        manager: pluggy.PluginManager,
        *,
        run_dir=None,
        processes: Processes | None = None,
        levers: StepLevers = StepLevers(),
    ):
        """``levers``: the step's exact speed-ups, all on; benchmarks and tests pass ``StepLevers.plain()``."""
        config = self.settings = TrainSettings.of(setup.config)
        self.setup = setup
        self.processes = processes or Processes()
        self.hook = manager.hook
        self.device = setup.device
        torch.manual_seed(config.seed)
        g_optimizer = make_optimizer(
            setup.generator.parameters(),
            config,
            self.device,
            capturable=config.cuda_graph,
            fused=levers.fused_optimizer,
        )
        d_optimizer = make_optimizer(
            setup.discriminator.parameters(),
            config,
            self.device,
            capturable=config.cuda_graph,
            fused=levers.fused_optimizer,
        )
        components = setup.components
        #: the average of G's weights for sampling (--g-ema); updated after every step, never trained
        self.g_average = WeightAverage(setup.generator, config.g_ema) if config.g_ema else None
        generator, discriminator = setup.generator, setup.discriminator
        if config.compile:
            generator, discriminator = compile_networks(generator, discriminator)
        self.step = TrainStep(
            generator,
            discriminator,
            setup.loss,
            g_optimizer,
            d_optimizer,
            latent_dim=setup.model_spec.latent_dim,
            num_classes=setup.model_spec.num_classes,
            g_conditional=components.generator.conditional,
            d_conditional=components.discriminator.conditional,
            autocast_dtype=torch.bfloat16 if config.precision == "bf16" else None,
            levers=levers,
            autocast_cache=not config.cuda_graph,
            phases=setup.phases,
            regularizations=setup.regularizations,
            augment=setup.augment,
        )
        self.batches = make_batches(
            setup.dataset,
            config.batch_size,
            self.device,
            config.seed,
            path=config.data_path,
            shard=self.processes.shard,
        )
        if len(self.batches) == 0:
            raise UsageError(
                f"--batch-size {config.batch_size} is larger than data set '{config.dataset}' "
                f"({len(setup.dataset)} samples); choose a batch size of at most {len(setup.dataset)}."
            )
        noise, labels = grid_inputs(
            setup.model_spec.latent_dim, setup.model_spec.num_classes, components.conditional, config.seed, self.device
        )
        self.state = RunState(
            config=setup.config,
            model_spec=setup.model_spec,
            generator=setup.generator,
            discriminator=setup.discriminator,
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            loss=setup.loss,
            dataset=setup.dataset,
            device=self.device,
            component_names=components.names(),
            g_conditional=components.generator.conditional,
            d_conditional=components.discriminator.conditional,
            run_dir=run_dir,
            steps_per_epoch=len(self.batches),
            g_average=self.g_average,
            fixed_noise=noise,
            fixed_labels=labels,
            rank=self.processes.rank,
            world_size=self.processes.world_size,
            train_step=self.step,
        )
        self.state.set_emitter(self._emit)
        #: --lr-decay: the learning rates set before each step from the step count (None: constant)
        self.lr_decay = make_lr_decay(
            config.lr_decay, (g_optimizer, d_optimizer), config.lr, self.state.steps_per_epoch * config.epochs
        )
        self.processes.prepare(self.step, config, self.device)  # per-rank noise, DDP; nothing in one process
        if config.on_nan == "skip":
            self.step.skip_update = nonfinite.skip_guard(self.processes.all_true)
        #: what the loop calls: the step itself, or its CUDA-graph replay (captured lazily at the first
        #: step, so a resumed run captures the restored optimizer state)
        self.step_fn = CUDAGraphStep(self.step) if config.cuda_graph else self.step
        self._window = MetricsWindow(len(METRIC_NAMES), min(config.log_every, len(self.batches)), self.device)
        self._stop: str | None = None  # the stop request every process has agreed on

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None) -> None:
        """One step, its metrics kept in the device-side window (no host sync), then the
        weight average (if any) moved toward G's new weights."""
        if self.lr_decay is not None:
            self.lr_decay.before_step(self.state.step)
        self._window.add(self.step_fn(real, labels))
        if self.g_average is not None:
            self.g_average.update()

    # -- metrics ---------------------------------------------------------------
    def _emit(self, metrics: dict[str, float]) -> None:
        state = self.state
        record = {"step": state.step, "epoch": state.current_epoch, **metrics}
        state.history.append(record)
        with rng.preserved(self.device):
            self.hook.on_metrics(state=state, metrics=record)

    def _flush(self) -> None:
        """Read the window's metrics from the device (the only host sync), agree on stop requests
        across processes, stop on (or count) non-finite losses, and emit the window's mean."""
        state, processes = self.state, self.processes
        steps = len(self._window)
        rows = self._window.take()
        if processes.enabled:
            rows = self._agree(rows)
        if steps == 0:
            return
        rows = rows.cpu()
        first_step = state.step - steps + 1
        finite = nonfinite.finite_rows(rows)
        if self.settings.on_nan == "stop" and not finite.all():
            row, name, value = nonfinite.first_nonfinite(rows, finite)
            kept = state.last_checkpoint if state.is_main_process else "the newest one rank 0 wrote"
            raise nonfinite.NonFiniteLossError(
                nonfinite.stop_message(name, value, first_step + row, state.current_epoch, kept)
            )
        state.nonfinite_skipped += int((~finite).sum())
        if finite.any():
            state.metrics = dict(zip(METRIC_NAMES, rows[finite].mean(dim=0).tolist()))
        else:  # every step skipped: the row is still written (the skips stay visible), its means None
            state.metrics = dict.fromkeys(METRIC_NAMES)
        if state.nonfinite_skipped:
            state.metrics["nonfinite_skipped"] = state.nonfinite_skipped
        self._emit(state.metrics)

    def _agree(self, rows: torch.Tensor) -> torch.Tensor:
        """One all-reduce per metrics read: the rows averaged over the ranks, and every rank's stop
        request counted, so all ranks stop after the same step with the same reason."""
        state = self.state
        requested = state.stop_requested
        votes = [requested == "SIGINT", requested == "SIGTERM", requested not in (None, "SIGINT", "SIGTERM")]
        packed = torch.cat([rows.flatten(), torch.tensor(votes, dtype=rows.dtype, device=rows.device)])
        self.processes.sum_(packed)
        packed = packed.cpu()  # one copy to the host: the votes and the rows _flush reads
        sigint, sigterm, other = packed[-3:].tolist()
        if sigint or sigterm or other:
            self._stop = (
                "SIGINT" if sigint else "SIGTERM" if sigterm else (requested or "stop requested by another rank")
            )
        return packed[:-3].view_as(rows) / self.processes.world_size

    def _stop_agreed(self) -> str | None:
        """The stop to act on now: in one process any request at once; in a distributed run only
        one that every rank knows of (see :meth:`_agree`)."""
        if not self.processes.enabled and self.state.stop_requested is not None:
            self._stop = self.state.stop_requested
        return self._stop

    # -- hooks that may write checkpoints ------------------------------------------
    def _checkpoint_hook(self, hook) -> None:
        """Call an epoch-end or train-end hook with the RNG states a checkpoint stores: those at the
        training position (the ones :func:`rng.preserved` keeps), every rank's in a distributed run."""
        state = self.state
        nonfinite.check_weights(state)  # never a checkpoint from NaN weights (every rank: they are replicas)
        try:
            with rng.preserved(self.device) as local:
                state.rng_snapshot = (
                    {**local, "ranks": self.processes.gather(local)} if self.processes.enabled else local
                )
                hook(state=state)
        finally:
            state.rng_snapshot = None

    # -- the loop ----------------------------------------------------------------
    def fit(self) -> RunState:
        state, config = self.state, self.settings
        state.total_steps = state.steps_per_epoch * config.epochs
        if config.max_steps is not None:
            state.total_steps = min(state.total_steps, config.max_steps)
        self.setup.generator.train()
        self.setup.discriminator.train()
        with rng.preserved(self.device):
            self.hook.on_train_start(state=state)
        try:
            self._epochs()
        except KeyboardInterrupt:
            state.stop_reason = "interrupted"
            raise
        except (nonfinite.NonFiniteLossError, nonfinite.NonFiniteWeightsError):
            state.stop_reason = "nonfinite"
            raise
        except BaseException:
            state.stop_reason = "error"
            raise
        finally:
            if state.stopped_cleanly:
                self._end_with_checkpoint()
            else:
                self.hook.on_train_end(state=state)
        return state

    def _end_with_checkpoint(self) -> None:
        """The train-end hooks of a run that stopped cleanly (they write its final checkpoint), unless
        its weights are not finite: then they run as for a NaN stop, and the error follows."""
        try:
            self._checkpoint_hook(self.hook.on_train_end)  # checks the weights before the hooks run
        except nonfinite.NonFiniteWeightsError:
            self.state.stop_reason = "nonfinite"
            self.hook.on_train_end(state=self.state)
            raise

    def _epochs(self) -> None:
        state, config = self.state, self.settings
        while state.epoch < config.epochs and state.step < state.total_steps:
            started = time.perf_counter()
            for real, labels in self.batches.epoch(state.epoch, start=state.batch_in_epoch):
                self.train_step(real, labels)
                state.step += 1
                state.batch_in_epoch += 1
                self.hook.on_step_end(state=state)
                if state.batch_in_epoch % config.log_every == 0:
                    self._flush()
                if state.step >= state.total_steps or self._stop_agreed():
                    break
            self._flush()  # before any checkpoint: a NaN raises here, so none is written after it
            if state.batch_in_epoch >= state.steps_per_epoch:
                state.epoch += 1
                state.batch_in_epoch = 0
                state.epoch_seconds.append(time.perf_counter() - started)
                self._checkpoint_hook(self.hook.on_epoch_end)
            if self._stop_agreed():
                state.stop_reason = self._stop
                return
        state.stop_reason = "finished" if state.epoch >= config.epochs else "max_steps"
