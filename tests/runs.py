"""Small training runs for tests: the ring data set, in-process, quiet; and comparing results."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ganframe.config import RunConfig
from ganframe.run.checkpoint import Checkpoint, newest_readable
from ganframe.testing.runs import read_metrics as metrics_rows  # noqa: F401  (used by the tests)

#: 640 points at batch 64: 10 steps per epoch
RING = {"dataset": "ring", "dataset_options": {"samples": "640"}, "device": "cpu"}


#: what ring_config trains on RING
RING_RUN = {"model": "mlp-small", "batch_size": 64, "epochs": 4, "seed": 5, "log_every": 3, "g_ema": 0.999}


def ring_config(out: Path, **settings) -> RunConfig:
    """4 epochs of the small MLP on 640 ring points at batch 64 (10 steps per epoch), metrics every
    3 steps: every step draws noise, so the RNG states must continue exactly for a resumed run to match.
    It keeps an average of G's weights (``--g-ema``), which must continue exactly as well."""
    return RunConfig(out=str(out), **{**RING, **RING_RUN, **settings})


def ring_args(out: Path, **settings) -> list[str]:
    """``ring_config(out, **settings)`` as ``ganframe run`` options, for runs in a subprocess."""
    from ganframe.config import option_name

    args = ["run", "--out", str(out)]
    for name, value in {**RING, **RING_RUN, **settings}.items():
        pairs = [f"{key}={item}" for key, item in value.items()] if isinstance(value, dict) else [value]
        args += [part for item in pairs for part in (option_name(name), str(item))]
    return args


def run(config: RunConfig, plugin_set, **kwargs):
    """Train in-process, progress and notes captured; returns (state, notes text)."""
    from ganframe.run.runner import train

    notes = io.StringIO()
    state = train(config, plugin_set, stream=io.StringIO(), interactive=False, notes=notes, **kwargs)
    return state, notes.getvalue()


def newest(run_dir: Path) -> Checkpoint:
    checkpoint, _ = newest_readable(run_dir)
    assert checkpoint is not None, f"{run_dir} has no checkpoint"
    return checkpoint


def rewrite_newest(run_dir: Path, edit) -> None:
    """Change the newest checkpoint file's on-disk dict in place (``edit(document)``), as a checkpoint
    written by another version would differ; written back as is, not through :class:`Checkpoint`."""
    from ganframe.files import atomic_write

    path = newest(run_dir).path
    document = torch.load(path, weights_only=True)
    edit(document)
    atomic_write(path, lambda handle: torch.save(document, handle))


def same(a, b) -> bool:
    """Bitwise equality of nested checkpoint data (tensors, dicts, lists, numbers)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


TRAINED = ("generator", "discriminator", "g_optimizer", "d_optimizer", "step", "epoch", "batch_in_epoch", "rng")


def assert_same_training(a: Checkpoint, b: Checkpoint) -> None:
    """Two checkpoints hold the same weights, optimizer states, counters, RNG states and (when either
    keeps one) average of G's weights, bit for bit."""
    differ = [name for name in (*TRAINED, "generator_ema") if not same(getattr(a, name), getattr(b, name))]
    assert not differ, f"{a.path} and {b.path} differ in {differ}"
