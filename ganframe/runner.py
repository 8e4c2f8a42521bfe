"""One training run end to end: validate everything, then create the run
directory, register the per-run plugins, train.

All user mistakes are found before the run directory exists, so a rejected
command leaves no files behind.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ganframe.assemble import build_setup
from ganframe.config import RunConfig
from ganframe.engine import Trainer
from ganframe.errors import UsageError
from ganframe.evaluation.periodic import build_periodic_evaluation
from ganframe.plugins import PluginSet
from ganframe.progress import ProgressReporter
from ganframe.run_files import RunFiles
from ganframe.state import RunState


def default_run_dir(config: RunConfig, now: float | None = None) -> Path:
    """``runs/<time>-<model>-<loss>``, made unique with a counter if taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    safe = lambda name: name.replace(":", "_").replace("/", "_")  # noqa: E731
    base = Path("runs") / f"{stamp}-{safe(config.model)}-{safe(config.loss)}"
    candidate, counter = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{counter}")
        counter += 1
    return candidate


def check_run_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path} exists and is not a folder; choose another --out.")
    if path.is_dir() and any(path.iterdir()):
        raise UsageError(
            f"Run directory {path} already exists and is not empty; choose another --out "
            "(nothing was changed)."
        )


def build_loggers(names: list[str], plugins: PluginSet, run_dir: Path, config: dict[str, Any]) -> list[Any]:
    """Logger plugin objects for ``--logger`` names (factories must not write files yet)."""
    return [plugins.registry.get("logger", name, option="--logger").load()(run_dir, config) for name in names]


@contextmanager
def registered(manager, plugins: list[Any]):
    """Register per-run plugin objects for the duration of a run."""
    for plugin in plugins:
        manager.register(plugin)
    try:
        yield
    finally:
        for plugin in plugins:
            if manager.is_registered(plugin):
                manager.unregister(plugin)


def train(
    config: RunConfig,
    plugins: PluginSet,
    *,
    stream: TextIO | None = None,
    interactive: bool | None = None,
    extra_plugins: list[Any] | None = None,
) -> RunState:
    """Train as ``config`` says and return the final state; raises GanframeError on user mistakes."""
    setup = build_setup(config, plugins.registry)
    run_dir = Path(setup.config.out) if setup.config.out else default_run_dir(setup.config)
    check_run_dir(run_dir)
    setup.config.out = str(run_dir)
    loggers = build_loggers(setup.config.loggers, plugins, run_dir, setup.config.to_dict())
    evaluation = build_periodic_evaluation(setup, notify=lambda text: print(text, file=stream or sys.stdout, flush=True))
    trainer = Trainer(setup, plugins.manager, run_dir=run_dir)
    per_run = [RunFiles(run_dir), ProgressReporter(stream, interactive), *loggers, *(extra_plugins or [])]
    if evaluation is not None:
        per_run.append(evaluation)
    with registered(plugins.manager, per_run):
        return trainer.fit()
