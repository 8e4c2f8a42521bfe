"""Building a ganframe trainer for a benchmark through the public API."""

from __future__ import annotations

from ganframe.config import RunConfig
from ganframe.plugin.manager import get_plugins
from ganframe.run.assemble import Setup, build_setup
from ganframe.train.engine import Trainer


def make_setup(model: str, loss: str, batch_size: int, device, data_root, **settings) -> Setup:
    """fp32 unless ``precision`` is given: the benchmarks compare with an fp32 hand loop on any machine
    (``--precision auto``, the run default, would mean bf16 on a CPU or GPU with native bf16)."""
    settings = {"precision": "fp32", **settings}
    config = RunConfig(
        model=model, loss=loss, batch_size=batch_size, data_root=str(data_root), device=device.type, seed=0, **settings
    )
    return build_setup(config, get_plugins(report=False).registry)


def make_trainer(model: str, loss: str, batch_size: int, device, data_root, **settings) -> Trainer:
    return Trainer(
        make_setup(model, loss, batch_size, device, data_root, **settings), get_plugins(report=False).manager
    )


def steps_and_rounds(device, batch_size: int) -> tuple[int, int]:
    """(steps per round, rounds): enough work per round to dwarf the clock's overhead."""
    if device.type == "cuda":
        return (50, 10) if batch_size <= 256 else (20, 10)
    return (10, 5) if batch_size <= 256 else (2, 3)
