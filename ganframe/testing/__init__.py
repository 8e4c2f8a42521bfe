"""ganframe's plugin test kit: ready checks a plugin author runs on their own components.

Each check builds the component the way ganframe would, exercises the
contract the engine relies on, and raises ``AssertionError`` with one clear
message naming what is wrong and what was expected, so it reads well in a
pytest failure. Every check accepts the factory itself or the name it is
registered under (``"dcgan"`` or ``"my-dist:dcgan"``; a name also proves the
plugin is installed and registers it). See ``docs/writing-plugins.md``.

- :func:`check_generator`, :func:`check_discriminator`, :func:`check_model`:
  output shape and range, gradients reaching every parameter (and D's input),
  conditional label handling, rebuilding from a state dict, and device moves.
- :func:`check_loss`: 0-dim finite losses with gradients to the right network
  in each phase, and the sign convention (both losses are minimised).
- :func:`check_dataset`: the declared sample shape and labels, values in
  ``[-1, 1]``, batchable items.
- :func:`check_metric`: a metric prepares and scores real samples and noise
  with finite float figures under stable keys, and declines the data sets it
  cannot score with :class:`ganframe.MetricDeclined` naming them.
- :func:`check_plugin`, :func:`check_installed`: the plugin loads without
  warnings (no misspelled hooks, no collisions with built-ins), its factories
  import.
- :func:`check_training`, :func:`run_ganframe`: ``ganframe run`` by name in a
  subprocess, as a user would.

Installed ganframe also registers a pytest plugin (entry point ``pytest11``)
with the fixtures ``ganframe_plugins`` and ``ganframe_run``. This package is
imported by pytest in every session, so it imports torch only when a check
runs: the names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_generator": "ganframe.testing.networks",
    "check_discriminator": "ganframe.testing.networks",
    "check_model": "ganframe.testing.networks",
    "check_loss": "ganframe.testing.loss_checks",
    "check_dataset": "ganframe.testing.dataset_checks",
    "check_metric": "ganframe.testing.metric_checks",
    "check_plugin": "ganframe.testing.registration",
    "check_installed": "ganframe.testing.registration",
    "check_training": "ganframe.testing.runs",
    "run_ganframe": "ganframe.testing.runs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganframe.testing' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
