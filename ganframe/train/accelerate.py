"""Opt-in step accelerators for CUDA: ``--cuda-graph`` and ``--compile``.

On a GPU the MLP GAN step is launch-bound: roughly 170-200 small kernels,
each costing a few microseconds to launch, for work that takes less. A CUDA
graph records the whole step once (both phases, both optimizer updates, the
noise and dropout draws) and replays it with a single launch.

What capture needs, and how this module provides it:

- **Static inputs.** Every step copies its batch into fixed buffers that the
  graph reads.
- **Capturable optimizers.** Adam keeps its step counter on the device
  (``capturable=True``; the engine builds the optimizers that way).
- **Warm-up.** A few eager steps on a side stream initialise optimizer state
  and library workspaces before capture. Their updates are undone
  (parameters, buffers, optimizer state and RNG states restored in place), so the run
  trains exactly the steps it reports.
- **Random numbers.** ``randn``/``randint`` and dropout use the default CUDA
  generator, which PyTorch advances on every replay, so noise and dropout
  masks differ between steps.
- **autocast** runs with its weight-cast cache off, as PyTorch requires under
  capture.

- **Schedules.** A step whose phases or regularisers do not all run at every
  step (n-critic, lazy R1) runs one of a few *plans*; one graph is captured
  per plan, the first time it comes up, and the host picks which to replay
  from the schedule's counters (no device sync). A schedule with more than
  :data:`MAX_GRAPHS` plans is refused with a clear error.

Components that read values back to the host inside a step (``.item()``,
data-dependent Python branches) cannot be captured; capture failure is
reported as one clear error.
"""

from __future__ import annotations

import torch

from ganframe.errors import GanframeError, UsageError, exception_gist
from ganframe.train import rng
from ganframe.train.step import TrainStep

WARMUP_STEPS = 3
#: the most plans (distinct sets of phases and regularisers per step) captured as graphs
MAX_GRAPHS = 16


class CUDAGraphStep:
    """``step(real, labels) -> metrics`` replayed from captured CUDA graphs (one per plan)."""

    def __init__(self, step: TrainStep):
        self.step = step
        self.graphs: dict = {}
        self.static_real: torch.Tensor | None = None
        self.static_labels: torch.Tensor | None = None
        self.static_metrics: dict = {}

    # -- state kept across warm-up ----------------------------------------------------
    def _optimizer_tensors(self):
        for optimizer in (self.step.g_optimizer, self.step.d_optimizer):
            for param_state in optimizer.state.values():
                yield from (value for value in param_state.values() if torch.is_tensor(value))

    def _snapshot(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        tensors: list[torch.Tensor] = list(self._optimizer_tensors())
        for module in (self.step.generator, self.step.discriminator):
            tensors += list(module.parameters()) + list(module.buffers())
        return [(t, t.detach().clone()) for t in tensors]

    def _restore(self, saved: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Undo the warm-up in place (captured addresses must not change)."""
        known = {id(t) for t, _ in saved}
        with torch.no_grad():
            for tensor, value in saved:
                tensor.copy_(value)
            for tensor in self._optimizer_tensors():
                if id(tensor) not in known:  # created by the warm-up: zero state acts as "never stepped"
                    tensor.zero_()

    # -- capture and replay -----------------------------------------------------------
    def capture(self, plan, real: torch.Tensor, labels: torch.Tensor | None) -> None:
        if len(self.graphs) >= MAX_GRAPHS:
            raise UsageError(
                f"--cuda-graph captures one graph per plan of the training step, and this step's schedule has more "
                f"than {MAX_GRAPHS} (its phase and regulariser intervals combine into too many); use smaller "
                "intervals that divide each other, or run without --cuda-graph."
            )
        if self.static_real is None:
            self.static_real = real.detach().clone()
            self.static_labels = labels.detach().clone() if labels is not None else None
        saved = self._snapshot()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        try:
            # the warm-up's noise and dropout draws are undone too: capture then starts from the same
            # RNG state in a resumed run as at that step of an uninterrupted one
            with rng.preserved(real.device), torch.cuda.stream(side):
                for _ in range(WARMUP_STEPS):
                    self.step.run(plan, self.static_real, self.static_labels)
            torch.cuda.current_stream().wait_stream(side)
            self._restore(saved)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self.static_metrics[plan] = self.step.run(plan, self.static_real, self.static_labels)
            self.graphs[plan] = graph
        except Exception as exc:
            raise GanframeError(
                f"--cuda-graph could not capture the training step ({type(exc).__name__}: {exception_gist(exc)}). "
                "A component probably reads values back "
                "to the host or branches on data inside the step; run without --cuda-graph."
            ) from exc

    def __call__(self, real: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        plan = self.step.next_plan()
        if plan not in self.graphs:
            self.capture(plan, real, labels)
        self.static_real.copy_(real, non_blocking=True)
        if self.static_labels is not None:
            self.static_labels.copy_(labels, non_blocking=True)
        self.graphs[plan].replay()
        self.step.advance(plan)
        return self.static_metrics[plan]


def compile_networks(generator: torch.nn.Module, discriminator: torch.nn.Module):
    """``torch.compile`` both networks (fused elementwise kernels, fewer launches).

    The originals keep their parameters (the compiled wrappers share them), so
    checkpoints and sampling use the uncompiled modules unchanged.
    """
    return torch.compile(generator), torch.compile(discriminator)
