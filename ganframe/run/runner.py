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
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ganframe.config import RunConfig, option_name
from ganframe.errors import TrainingError, UsageError
from ganframe.evaluation.periodic import build_periodic_evaluation
from ganframe.outputs.progress import ProgressReporter
from ganframe.outputs.run_files import RunFiles
from ganframe.plugin.manager import HookGuard, PluginSet
from ganframe.run import disk, resume
from ganframe.run import lock as run_lock
from ganframe.run.assemble import build_setup
from ganframe.run.signals import stop_on_signals
from ganframe.train import distributed
from ganframe.train.engine import Trainer
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
    if path.is_dir() and any(p.name != run_lock.LOCK_NAME for p in path.iterdir()):
        run_lock.refuse_if_held(path, resuming=False)
        raise UsageError(
            f"Run directory {path} already exists and is not empty; choose another --out (nothing was changed)."
        )


def build_loggers(names: list[str], plugins: PluginSet, run_dir: Path, config: dict[str, Any]) -> list[Any]:
    """Logger plugin objects for ``--logger`` names (factories must not write files yet)."""
    loggers = []
    for name in names:
        component = plugins.registry.get("logger", name, option=option_name("loggers"))
        logger = component.build(run_dir, config)
        plugins.owners[id(logger)] = component  # checked like a plugin module when registered
        loggers.append(logger)
    return loggers


@contextmanager
def registered(plugin_set: PluginSet, plugins: list[Any]):
    """Register per-run plugin objects for the duration of a run."""
    manager = plugin_set.manager
    guard = HookGuard.of(manager)
    if guard is not None:
        guard.reset()
    try:
        for plugin in plugins:
            plugin_set.register_run_plugin(plugin)
        yield
    finally:
        for plugin in plugins:
            plugin_set.owners.pop(id(plugin), None)
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
    explicit: frozenset[str] | set[str] | None = None,
    notes: TextIO | None = None,
) -> RunState:
    """Train as ``config`` says and return the final state; raises GanframeError on user mistakes.

    ``resume_from`` continues that run directory; ``explicit`` names the RunConfig fields
    the user set (only those are checked against, or may change, the resumed run; only those names
    may be ambiguous: ``None``, as from the API, counts every name in ``config`` as set).
    Notes for the user (resume fallbacks) go to ``notes`` (stderr)."""
    processes = distributed.from_environment(config.device, timeout=config.dist_timeout)
    trainer = None
    held: list[run_lock.RunLock] = []  # the run directory's lock (rank 0), released when the run ends
    started = False  # until every plugin is registered, a refused run leaves no lock file (nor folder) behind
    try:
        trainer, loggers, evaluation, messages = _prepare(
            config, plugins, processes, resume_from, explicit, stream, held
        )
        if processes.is_main:
            for message in messages:
                (notes or sys.stderr).write(f"ganframe: {message}\n")
        run_dir = trainer.state.run_dir
        # pluggy calls the last registered first: evaluation logs its figures before the others write theirs
        per_run = [
            RunFiles(run_dir),
            ProgressReporter(stream, interactive),
            *loggers,
            *(extra_plugins or []),
            *evaluation,
        ]
        with registered(plugins, per_run), stop_on_signals(trainer.state, notes):
            started = True
            try:
                state = trainer.fit()
            except Exception as exc:  # a full or read-only disk: say so, and what survives
                failure = disk.disk_failure(exc)
                if failure is None:
                    raise
                raise TrainingError(disk.disk_failure_message(failure, trainer.state)) from exc
        processes.close(wait=True)  # every rank leaves the group together (bounded by --dist-timeout)
    except BaseException as exc:
        processes.close(wait=False)
        if processes.enabled and distributed.is_collective_failure(exc):
            state = trainer.state if trainer is not None else None
            run_dir = state.run_dir if state is not None else resume_from or config.out
            raise TrainingError(
                distributed.collective_failure_message(
                    exc, state, config.dist_timeout, resume.resume_command(run_dir, processes.world_size)
                )
            ) from None
        raise
    finally:
        for lock in held:
            lock.release(abandon=not started)
    return state


def _lock(run_dir: Path, processes, resuming: bool, held: list) -> None:
    """Take the run directory's lock on rank 0 and share the verdict, so every rank of a
    torchrun launch stops with the same message when another process owns the directory."""
    error = None
    if processes.is_main:
        try:
            held.append(run_lock.acquire(run_dir, resuming=resuming))
        except UsageError as exc:
            error = exc.message
    error = processes.from_main(error)
    if error is not None:
        raise UsageError(error)


def _prepare(config: RunConfig, plugins: PluginSet, processes, resume_from, typed: set[str] | None, stream, held: list):
    """The trainer (restored from a checkpoint when resuming), the loggers, the ``--eval-every``
    plugin (a list of zero or one) and notes for the user; ``held`` receives the run directory's
    lock, which :func:`train` releases (abandoning it when the run was refused). Every check runs
    here, before any file of the run changes."""
    checkpoint, messages, explicit = None, [], set(typed or ())
    if resume_from is not None:
        if processes.from_main(Path(resume_from).is_dir()):  # else resume.plan says what is wrong
            _lock(Path(resume_from), processes, True, held)
        plan = resume.plan(resume_from, config, explicit, processes)
        config, checkpoint, messages, run_id = plan.config, plan.checkpoint, plan.notes, plan.run_id
    else:
        config = _agree_on_new_run(config, processes)
        run_id = processes.from_main(uuid.uuid4().hex)
    setup = build_setup(config, plugins.registry, None if typed is None else set(typed))
    processes.check(setup.config, setup.device)
    run_dir = Path(setup.config.out) if setup.config.out else processes.from_main(default_run_dir(setup.config))
    if resume_from is None:
        check_run_dir(run_dir)  # an earlier run's folder is refused before a lock file is put in it
    if processes.is_main:
        disk.check_output_folder(run_dir, "--out" if resume_from is None else "--resume")
    if resume_from is None:
        _lock(run_dir, processes, False, held)
        check_run_dir(run_dir)  # a writer that held the lock a moment ago may have filled it
    setup.config.out = str(run_dir)
    loggers = build_loggers(setup.config.loggers, plugins, run_dir, setup.config.to_dict())
    # every rank checks the data set (none waits for a rank 0 that stopped); only rank 0 scores samples
    periodic = build_periodic_evaluation(
        setup,
        notify=lambda text: print(text, file=stream or sys.stdout, flush=True),
        score=processes.is_main,
        registry=plugins.registry,
    )
    evaluation = [periodic] if periodic is not None else []
    trainer = Trainer(setup, plugins.manager, run_dir=run_dir, processes=processes)
    trainer.state.run_id = run_id
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
