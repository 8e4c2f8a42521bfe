"""Plugins only the tests use: a loss that turns non-finite on cue, and lifecycle
plugins that slow a run down or dump every rank's weights.

In-process tests load them with ``load_plugins(extra=...)`` (:func:`plugin_set`);
subprocess tests start ``tests/cli_driver.py``, which loads the ones named in
``GANFRAME_TEST_PLUGINS`` and then runs the real CLI.
"""

from __future__ import annotations

import time
from pathlib import Path

from ganframe import hookimpl
from ganframe_builtins.bce_losses import BCELoss


@hookimpl
def register_losses(register):
    register("nan-at", NanAtStep, help="BCE whose d_loss or g_loss is NaN at chosen steps (tests only)")


class NanAtStep(BCELoss):
    """BCE, except that ``which`` (d_loss or g_loss) is NaN at the steps listed in ``at``
    (``3,7``; 1-based). ``poison=true`` multiplies by NaN, so the gradients are NaN too and
    an update that is not skipped ruins the weights; otherwise NaN is added (finite gradients)."""

    def __init__(self, spec):
        super().__init__(spec)
        self.at = {int(s) for s in str(spec.options.get("at", "5")).split(",")}
        self.which = spec.options.get("which", "g_loss")
        self.poison = spec.options.get("poison", False)
        self.calls = {"d_loss": 0, "g_loss": 0}

    def _maybe_nan(self, name, loss):
        self.calls[name] += 1
        if name == self.which and self.calls[name] in self.at:
            return loss * float("nan") if self.poison else loss + float("nan")
        return loss

    def discriminator_loss(self, inputs):
        return self._maybe_nan("d_loss", super().discriminator_loss(inputs))

    def generator_loss(self, inputs):
        return self._maybe_nan("g_loss", super().generator_loss(inputs))


class SlowEnd:
    """Sleeps a minute in ``on_train_end`` before the run directory's checkpoint hook (which runs last),
    and announces it on stderr, so a test can send a second SIGINT while a stop is under way."""

    @hookimpl
    def on_train_end(self, state):
        import sys

        sys.stderr.write("slow-end: sleeping\n")
        sys.stderr.flush()
        time.sleep(60.0)


class FreezeRank1:
    """Rank 1 stops answering after step 3 (sleeps in ``on_step_end``), as a frozen worker would."""

    @hookimpl
    def on_step_end(self, state):
        if state.rank == 1 and state.step == 3:
            time.sleep(600.0)


class RankDump:
    """Saves each rank's final weights to ``<run dir>/rank-<r>.pt`` (replicas are compared)."""

    @hookimpl
    def on_train_end(self, state):
        import torch

        weights = {"generator": state.generator.state_dict(), "discriminator": state.discriminator.state_dict()}
        torch.save({"weights": weights, "history": state.history}, Path(state.run_dir) / f"rank-{state.rank}.pt")


def shared_noise_sampler(seed: int = 1234):
    """A ``TrainStep.sample_inputs`` drawing noise from one generator shared by all ranks: each rank
    draws the *global* batch of noise and takes its slice, so a distributed run and a single-process
    run at the same global batch see identical noise and data (tests only: real runs seed per rank)."""
    import torch
    import torch.distributed as dist

    generator = torch.Generator().manual_seed(seed)

    def sample_inputs(self, n, device):
        world = dist.get_world_size() if dist.is_initialized() else 1
        rank = dist.get_rank() if dist.is_initialized() else 0
        noise = torch.randn(n * world, self.latent_dim, generator=generator)[rank * n : (rank + 1) * n]
        return noise.to(device), None

    return sample_inputs


def plugin_set():
    """Built-in plugins plus this module (the ``nan-at`` loss)."""
    import sys

    from ganframe.plugin.manager import load_plugins

    return load_plugins(entry_points=False, extra=[(sys.modules[__name__], "test-plugins", None, None)])
