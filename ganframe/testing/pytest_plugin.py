"""ganframe's pytest plugin (entry point ``pytest11``): fixtures for plugin authors' tests.

pytest imports this module in every session of an environment where ganframe
is installed, so it imports nothing heavy and defines no autouse fixtures:
it only adds two fixtures a plugin's tests may ask for.

- ``ganframe_plugins``: a freshly loaded :class:`ganframe.plugin.manager.PluginSet`
  (built-ins and every installed plugin), for asserting on the registry.
- ``ganframe_run``: ``ganframe_run(*args)`` runs ``ganframe run ARGS`` in a
  subprocess with ``--out`` in the test's temporary folder and returns the
  metrics rows (see :func:`ganframe.testing.check_training`).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def ganframe_plugins():
    from ganframe.plugin.manager import load_plugins

    return load_plugins()


@pytest.fixture
def ganframe_run(tmp_path):
    from ganframe.testing import check_training

    def run(*args: str, out=None, env=None):
        return check_training(*args, out=out or tmp_path / "run", env=env)

    return run
