"""Building a ganframe trainer for a benchmark through the public API."""

from __future__ import annotations

from functools import lru_cache

from ganframe.assemble import build_setup
from ganframe.config import RunConfig
from ganframe.engine import Trainer


@lru_cache(maxsize=1)
def plugins():
    from ganframe.plugins import load_plugins

    return load_plugins()


def make_trainer(model: str, loss: str, batch_size: int, device, data_root, **settings) -> Trainer:
    config = RunConfig(model=model, loss=loss, batch_size=batch_size, data_root=str(data_root),
                       device=device.type, seed=0, **settings)
    plugin_set = plugins()
    return Trainer(build_setup(config, plugin_set.registry), plugin_set.manager)


def steps_and_rounds(device, batch_size: int) -> tuple[int, int]:
    """(steps per round, rounds): enough work per round to dwarf the clock's overhead."""
    if device.type == "cuda":
        return (50, 10) if batch_size <= 256 else (20, 10)
    return (10, 5) if batch_size <= 256 else (2, 3)
