"""One training run end to end: validate everything, then create the run
directory, register the per-run plugins, train.

All user mistakes are found before the run directory exists (or, on resume,
before it is changed), so a rejected command leaves no files behind. The same
function serves one process and every rank of a torchrun launch
(:mod:`ganframe.train.distributed`), a new run and ``--resume`` (:mod:`ganframe.run.resume`).
"""

from __future__ import annotations

import dataclasses
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ganframe.train import distributed

from ganframe.run import resume
from ganframe.run.assemble import build_setup
from ganframe.config import RunConfig, option_name
from ganframe.train.engine import Trainer
from ganframe.errors import UsageError
from ganframe.evaluation.periodic import build_periodic_evaluation
from ganframe.plugin.manager import PluginSet
from ganframe.outputs.progress import ProgressReporter
from ganframe.outputs.run_files import RunFiles
from ganframe.run.signals import stop_on_signals
from ganframe.train.state import RunState


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
    return [plugins.registry.get("logger", name, option=option_name("loggers")).load()(run_dir, config) for name in names]


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
    resume_from: str | Path | None = None,
    explicit: frozenset[str] | set[str] = frozenset(),
    notes: TextIO | None = None,
) -> RunState:
    """Train as ``config`` says and return the final state; raises GanframeError on user mistakes.

    ``resume_from`` continues that run directory; ``explicit`` names the RunConfig fields
    the user set (only those are checked against, or may change, the resumed run).
    Notes for the user (resume fallbacks) go to ``notes`` (stderr)."""
    processes = distributed.from_environment(config.device)
    try:
        trainer, loggers, evaluation, messages = _prepare(config, plugins, processes, resume_from, set(explicit), stream)
        if processes.is_main:
            for message in messages:
                (notes or sys.stderr).write(f"ganframe: {message}\n")
        run_dir = trainer.state.run_dir
        # pluggy calls the last registered first: evaluation logs its figures before the others write theirs
        per_run = [RunFiles(run_dir), ProgressReporter(stream, interactive), *loggers, *(extra_plugins or []), *evaluation]
        with registered(plugins.manager, per_run), stop_on_signals(trainer.state, notes):
            state = trainer.fit()
    except BaseException:
        processes.close(wait=False)
        raise
    processes.close(wait=True)
    return state


def _prepare(config: RunConfig, plugins: PluginSet, processes, resume_from, explicit: set[str], stream=None):
    """The trainer (restored from a checkpoint when resuming), the loggers, the ``--eval-every``
    plugin (a list of zero or one) and notes for the user;
    every check runs here, before any file of the run changes."""
    checkpoint, messages = None, []
    if resume_from is not None:
        plan = resume.plan(resume_from, config, explicit, processes)
        config, checkpoint, messages = plan.config, plan.checkpoint, plan.notes
    else:
        config = _agree_on_new_run(config, processes)
    setup = build_setup(config, plugins.registry)
    processes.check(setup.config, setup.device)
    run_dir = Path(setup.config.out) if setup.config.out else processes.from_main(default_run_dir(setup.config))
    if resume_from is None:
        check_run_dir(run_dir)
    setup.config.out = str(run_dir)
    loggers = build_loggers(setup.config.loggers, plugins, run_dir, setup.config.to_dict())
    # every rank checks the data set (none waits for a rank 0 that stopped); only rank 0 scores samples
    periodic = build_periodic_evaluation(
        setup, notify=lambda text: print(text, file=stream or sys.stdout, flush=True), score=processes.is_main,
        registry=plugins.registry,
    )
    evaluation = [periodic] if periodic is not None else []
    trainer = Trainer(setup, plugins.manager, run_dir=run_dir, processes=processes)
    if checkpoint is not None:
        messages += resume.restore(trainer, checkpoint)
        resume.check_target(trainer.state, setup.config)
    if resume_from is not None and processes.is_main:
        messages += resume.remove_partial_files(run_dir)
    return trainer, loggers, evaluation, messages


def _agree_on_new_run(config: RunConfig, processes) -> RunConfig:
    """Every rank of a new distributed run uses rank 0's seed (a random one is drawn once)."""
    if not processes.enabled:
        return config
    seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
    return dataclasses.replace(config, seed=processes.from_main(seed))
