"""``python tests/cli_driver.py run ...``: the real ganframe CLI, plus test plugins.

Subprocess tests (signals, torchrun) start this instead of ``ganframe`` when
they need a plugin only the tests have. ``GANFRAME_TEST_PLUGINS`` is a
comma-separated list of: ``nan-at`` (the loss, see :mod:`tests.fixtures_plugins`),
``slow-end``, ``rank-dump``, ``shared-noise``, ``freeze-rank-1``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fixtures_plugins  # noqa: E402


def main() -> None:
    from ganframe.cli import main as cli_main
    from ganframe.plugin import manager

    wanted = {name.strip() for name in os.environ.get("GANFRAME_TEST_PLUGINS", "").split(",") if name.strip()}
    plugin_set = fixtures_plugins.plugin_set()
    if "slow-end" in wanted:
        plugin_set.manager.register(fixtures_plugins.SlowEnd())
    if "freeze-rank-1" in wanted:
        plugin_set.manager.register(fixtures_plugins.FreezeRank1())
    if "rank-dump" in wanted:
        plugin_set.manager.register(fixtures_plugins.RankDump())
    if "shared-noise" in wanted:
        from ganframe.train.step import TrainStep

        TrainStep.sample_inputs = fixtures_plugins.shared_noise_sampler()
    manager._cached = plugin_set
    cli_main()


if __name__ == "__main__":
    main()
