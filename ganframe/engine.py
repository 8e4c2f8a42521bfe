"""The training loop: epochs of :class:`ganframe.step.TrainStep`, with hooks.

The engine knows no particular model, loss or data set, and writes no files
itself: the run directory, progress display and loggers are plugins that
implement the lifecycle hooks (:mod:`ganframe.hookspecs`). Metrics stay on
the device and are summed there; they are read back (one host sync) every
``log_every`` steps and at the end of each epoch, then sent to ``on_metrics``
as the mean over that window.
"""

from __future__ import annotations

import time
from typing import Any

import pluggy
import torch

from ganframe.accelerate import CUDAGraphStep, compile_networks
from ganframe.assemble import Setup
from ganframe.data import make_batches
from ganframe.errors import UsageError
from ganframe.sampling import grid_inputs
from ganframe.state import RunState
from ganframe.step import METRIC_NAMES, StepLevers, TrainStep


def make_optimizer(params, config, device: torch.device, *, capturable: bool = False) -> torch.optim.Optimizer:
    """Adam or SGD from the run's settings.

    On the fast path Adam uses PyTorch's fused kernel (one kernel for all
    parameters; falls back to the multi-tensor ``foreach`` form where fused is
    unavailable); the plain path uses PyTorch's default implementation, as the
    documents do. ``capturable`` keeps Adam's step counter on the device so the
    update can be captured in a CUDA graph.
    """
    params = list(params)
    fast = getattr(config, "fast_path", True)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, foreach=fast or None)
    kwargs: dict[str, Any] = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    if capturable:
        kwargs["capturable"] = True
    if not fast:
        return torch.optim.Adam(params, **kwargs)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, ValueError, TypeError):  # older torch, or a device without fused Adam
        return torch.optim.Adam(params, foreach=True, **kwargs)


class Trainer:
    """Runs one training run from a :class:`Setup`, calling the plugin manager's lifecycle hooks."""

    def __init__(self, setup: Setup, manager: pluggy.PluginManager, *, run_dir=None):
        config = setup.config
        self.setup = setup
        self.hook = manager.hook
        self.device = setup.device
        torch.manual_seed(config.seed)
        g_optimizer = make_optimizer(setup.generator.parameters(), config, self.device, capturable=config.cuda_graph)
        d_optimizer = make_optimizer(setup.discriminator.parameters(), config, self.device, capturable=config.cuda_graph)
        components = setup.components
        generator, discriminator = setup.generator, setup.discriminator
        if config.compile:
            generator, discriminator = compile_networks(generator, discriminator)
        step = TrainStep(
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
            levers=StepLevers() if config.fast_path else StepLevers.plain(),
            autocast_cache=not config.cuda_graph,
        )
        self.step_fn = CUDAGraphStep(step) if config.cuda_graph else step
        data_path = config.data_path if config.fast_path else "loader"
        self.batches = make_batches(setup.dataset, config.batch_size, self.device, config.seed, path=data_path)
        if len(self.batches) == 0:
            raise UsageError(
                f"--batch-size {config.batch_size} is larger than data set '{config.dataset}' "
                f"({len(setup.dataset)} samples); choose a batch size of at most {len(setup.dataset)}."
            )
        noise, labels = grid_inputs(
            setup.model_spec.latent_dim, setup.model_spec.num_classes, components.conditional, config.seed, self.device
        )
        self.state = RunState(
            config=config,
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
            fixed_noise=noise,
            fixed_labels=labels,
        )
        self.state._emit = self._emit
        self._window = torch.zeros(len(METRIC_NAMES), device=self.device)
        self._window_steps = 0

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None) -> None:
        """One step, its metrics summed into the device-side window (no host sync)."""
        self._window += self.step_fn(real, labels)
        self._window_steps += 1

    # -- metrics ---------------------------------------------------------------
    def _emit(self, metrics: dict[str, float]) -> None:
        state = self.state
        record = {"step": state.step, "epoch": state.current_epoch, **metrics}
        state.history.append(record)
        self.hook.on_metrics(state=state, metrics=record)

    def _flush(self) -> None:
        """Read the window's mean metrics from the device (the only host sync) and emit them."""
        if self._window_steps == 0:
            return
        values = (self._window / self._window_steps).tolist()
        self._window.zero_()
        self._window_steps = 0
        self.state.metrics = dict(zip(METRIC_NAMES, values))
        self._emit(self.state.metrics)

    # -- the loop ----------------------------------------------------------------
    def fit(self) -> RunState:
        state, config = self.state, self.setup.config
        state.total_steps = state.steps_per_epoch * config.epochs
        if config.max_steps is not None:
            state.total_steps = min(state.total_steps, config.max_steps)
        self.setup.generator.train()
        self.setup.discriminator.train()
        self.hook.on_train_start(state=state)
        try:
            self._epochs()
        finally:
            self._flush()
            if state.stop_reason is None:
                state.stop_reason = "error"
            self.hook.on_train_end(state=state)
        return state

    def _epochs(self) -> None:
        state, config = self.state, self.setup.config
        while state.epoch < config.epochs:
            started = time.perf_counter()
            for real, labels in self.batches.epoch(state.epoch, start=state.batch_in_epoch):
                self.train_step(real, labels)
                state.step += 1
                state.batch_in_epoch += 1
                self.hook.on_step_end(state=state)
                if self._window_steps >= config.log_every:
                    self._flush()
                if state.step >= state.total_steps or state._stop_requested:
                    break
            self._flush()
            if state.batch_in_epoch >= state.steps_per_epoch:
                state.epoch += 1
                state.batch_in_epoch = 0
                state.epoch_seconds.append(time.perf_counter() - started)
                self.hook.on_epoch_end(state=state)
            if state._stop_requested:
                state.stop_reason = state._stop_requested
                return
            if state.step >= state.total_steps and state.epoch < config.epochs:
                state.stop_reason = "max_steps"
                return
        state.stop_reason = "finished"
