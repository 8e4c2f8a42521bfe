"""The plugin manager: finds plugins, calls their registration hooks, and
keeps one broken plugin from breaking every command.

Plugins come from two places, registered the same way:

1. ganframe's built-ins (:data:`BUILTIN_PLUGINS`, the modules in ``plugins/``
   installed as ``ganframe_builtins``);
2. every installed distribution with an entry point in the group
   ``ganframe`` (``[project.entry-points.ganframe]`` in its pyproject.toml).

Loading is isolated per plugin: a plugin that fails to import, fails pluggy's
validation, or whose registration hook raises is recorded as *failed* (with
the error and the line that raised it), reported once on stderr and skipped,
and everything else keeps working (simonw/llm's issue 1280 is the failure
this avoids). Components are staged per plugin and only committed when all of
that plugin's registration hooks succeeded, so a half-registered plugin never
leaves stray names behind. Mistakes pluggy accepts silently (a misspelled hook
name, a hook function without ``@hookimpl``) are reported as warnings
(:mod:`ganframe.plugin.checks`).

Environment variables:

- ``GANFRAME_LOAD_PLUGINS``: comma-separated allow-list of third-party plugins
  (entry-point names or distribution names; ``-``, ``_`` and case do not
  matter). Unset: load all. Empty: load no third-party plugin. Built-ins always
  load. Plugins left out are listed as *disabled* and never imported.
- ``GANFRAME_STRICT_PLUGINS=1``: every problem a plugin's author should fix is
  fatal (:class:`PluginError`, exit 1), for the CI of plugin authors: a failed
  plugin, a misspelled or unmarked hook, a plugin with no hooks, a name
  registered twice by one distribution, a name that collides with a built-in.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pluggy

import ganframe
from ganframe.errors import PluginError, describe_exception, quoted_list
from ganframe.plugin import checks as plugin_checks
from ganframe.plugin import spec as hookspecs
from ganframe.plugin.registry import METADATA_BY_KIND, Component, Registry, canonical_distribution, check_registration

ENTRY_POINT_GROUP = "ganframe"
LOAD_PLUGINS_ENV = "GANFRAME_LOAD_PLUGINS"
STRICT_PLUGINS_ENV = "GANFRAME_STRICT_PLUGINS"
BUILTIN_DISTRIBUTION = "ganframe"

#: ganframe's own plugins, registered through the same hooks a third party uses
BUILTIN_PLUGINS = (
    "ganframe_builtins.mlp",
    "ganframe_builtins.conditional",
    "ganframe_builtins.batchnorm",
    "ganframe_builtins.bce_losses",
    "ganframe_builtins.image_datasets",
    "ganframe_builtins.toy_datasets",
    "ganframe_builtins.image_folder",
    "ganframe_builtins.benchmark_datasets",
    "ganframe_builtins.tensorboard_logger",
    "ganframe_builtins.classifier_metrics",
    "ganframe_builtins.fidelity_metrics",
    "ganframe_builtins.steps",
    "ganframe_builtins.regularizers",
    "ganframe_builtins.augmentations",
)

#: registration hook name -> component kind it registers
REGISTRATION_HOOKS = {
    "register_generators": "generator",
    "register_discriminators": "discriminator",
    "register_losses": "loss",
    "register_datasets": "dataset",
    "register_loggers": "logger",
    "register_metrics": "metric",
    "register_steps": "step",
    "register_regularizers": "regularizer",
    "register_augmentations": "augmentation",
}

#: frames in these folders are loading machinery; error locations point past them
_MACHINERY = (
    str(Path(ganframe.__file__).parent),
    str(Path(pluggy.__file__).parent),
    str(Path(importlib.__file__).parent),
)


@dataclass
class PluginRecord:
    """What ``ganframe plugins`` shows about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: str = "loaded"  # "loaded" | "failed" | "disabled" (left out by GANFRAME_LOAD_PLUGINS)
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    #: problems found in a plugin that loaded (misspelled hooks, collisions, ...)
    warnings: list[str] = field(default_factory=list)
    #: the subset of ``warnings`` its author should fix (GANFRAME_STRICT_PLUGINS makes them fatal)
    strict_warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``plugin 'x' (distribution 'y' 1.0)`` for messages."""
        if not self.distribution:
            return f"plugin '{self.name}'"
        version = f" {self.version}" if self.version else ""
        return f"plugin '{self.name}' (distribution '{self.distribution}'{version})"


@dataclass
class PluginSet:
    """Everything loaded: the pluggy manager, the registry and what went wrong."""

    manager: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginRecord]
    problems: list[str]
    _reported: bool = False
    #: id(object) -> the logger component that built it (see :meth:`register_run_plugin`)
    owners: dict[int, Component] = field(default_factory=dict)

    def report(self, stream: Any = None) -> None:
        """Write each problem to stderr, once per process."""
        if self._reported:
            return
        self._reported = True
        stream = stream or sys.stderr
        for problem in self.problems:
            stream.write(f"ganframe: warning: {problem}\n")

    def register_run_plugin(self, obj: Any, stream: Any = None) -> None:
        """Register a per-run plugin object. One a logger factory built (:attr:`owners`) is checked
        like a plugin module: registered under its component's name (pluggy's errors then name it),
        misspelled and unmarked hooks reported (fatal with GANFRAME_STRICT_PLUGINS=1), and its
        lifecycle hooks guarded (:class:`HookGuard`). ganframe's own per-run plugins register as they are."""
        component = self.owners.get(id(obj))
        if component is None:
            self.manager.register(obj)
            return
        from ganframe.plugin.failures import origin

        label = f"logger '{component.qualified_name}' of {origin(component.plugin, component.distribution, component.version)}"
        name, count = f"logger {component.qualified_name}", 2
        while self.manager.get_plugin(name) is not None:
            name, count = f"logger {component.qualified_name} #{count}", count + 1
        try:
            self.manager.register(obj, name=name)
        except Exception as exc:  # pluggy validation: a hook asking for arguments it is not passed
            if self.manager.is_registered(obj):
                self.manager.unregister(obj)
            mistakes = "; ".join(plugin_checks.argument_mistakes(obj)) or describe_exception(exc, skip=_MACHINERY)
            raise PluginError(
                f"The {label} cannot be used: {mistakes}. Fix the plugin or leave out --logger {component.name}."
            ) from exc
        problems = [
            plugin_checks.unknown_hook_message(f"The {label}", hook)
            for hook in plugin_checks.unknown_hooks(self.manager, obj)
        ]
        problems += [
            plugin_checks.unmarked_hook_message(f"The {label}", hook) for hook in plugin_checks.unmarked_hooks(obj)
        ]
        if not problems and not any(caller.has_spec() for caller in self.manager.get_hookcallers(obj) or []):
            problems.append(
                f"The {label} implements no ganframe hook, so it logs nothing; mark its hook methods with @hookimpl."
            )
        if problems and _strict():
            self.manager.unregister(obj)
            raise PluginError(
                f"{STRICT_PLUGINS_ENV}=1 makes plugin problems fatal: "
                + " ".join(problems)
                + f" Unset {STRICT_PLUGINS_ENV} to run with them."
            )
        for problem in problems:
            (stream or sys.stderr).write(f"ganframe: warning: {problem}\n")
        guard = HookGuard.of(self.manager)
        if guard is not None:
            guard.guard(self.manager, obj, f"The {label}")


def _strict() -> bool:
    from ganframe.plugin.failures import env_flag

    return env_flag(STRICT_PLUGINS_ENV)


def _allow_list() -> dict[str, str] | None:
    """Canonical name -> name as written, or ``None`` when every plugin may load."""
    raw = os.environ.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return {canonical_distribution(item): item.strip() for item in raw.split(",") if item.strip()}


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    HookGuard.install(manager)
    return manager


#: the hooks a run calls (registration hooks are called by the loader, one plugin at a time)
LIFECYCLE_HOOKS = tuple(name for name in plugin_checks.SPEC_NAMES if name.startswith("on_"))


@dataclass
class HookFailure:
    label: str
    hook: str
    exc: BaseException
    code: Any


class HookGuard:
    """Keeps one plugin's failing lifecycle hook from taking the others down with it.

    A guarded hook implementation that raises is recorded, and the plugin's
    hooks are not called again; the other plugins' implementations of that hook
    still run (so the run's own ``on_epoch_end`` still writes the epoch's
    checkpoint, whichever order pluggy calls them in). When the outermost hook
    call returns, the first failure is raised as one :class:`PluginError`
    paragraph (:func:`ganframe.plugin.failures.hook_failure`), chained to the
    plugin's exception for ``GANFRAME_DEBUG``. ganframe's own per-run plugins
    are not guarded: their errors (a full disk) keep their own messages.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget earlier runs' failures: every plugin's hooks are called again (a new run)."""
        self.pending: list[HookFailure] = []
        self.stopped: set[int] = set()
        self.depth = 0

    @classmethod
    def install(cls, manager: pluggy.PluginManager) -> HookGuard:
        guard = cls()
        manager.add_hookcall_monitoring(guard._before, guard._after)
        manager._ganframe_guard = guard  # type: ignore[attr-defined]
        return guard

    @staticmethod
    def of(manager: pluggy.PluginManager) -> HookGuard | None:
        return getattr(manager, "_ganframe_guard", None)

    def guard(self, manager: pluggy.PluginManager, plugin: Any, label: str) -> None:
        """Wrap ``plugin``'s lifecycle hook implementations (wrappers are left alone)."""
        for caller in manager.get_hookcallers(plugin) or []:
            if caller.name not in LIFECYCLE_HOOKS:
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                    # pluggy marks the attribute Final, but replacing it is how a call is guarded
                    impl.function = self._wrap(impl.function, plugin, label, caller.name)  # type: ignore[misc]

    def _wrap(self, function: Any, plugin: Any, label: str, hook: str) -> Any:
        def guarded(*args: Any) -> Any:
            if id(plugin) in self.stopped:
                return None
            try:
                return function(*args)
            except Exception as exc:
                self.stopped.add(id(plugin))
                self.pending.append(HookFailure(label, hook, exc, function))
                return None

        return guarded

    def _before(self, hook_name: str, hook_impls: Any, kwargs: Any) -> None:
        self.depth += 1

    def _after(self, outcome: Any, hook_name: str, hook_impls: Any, kwargs: Any) -> None:
        self.depth -= 1
        if self.depth or not self.pending:
            return
        first, self.pending = self.pending[0], []
        if outcome.exception is None:  # an error of ganframe's own goes first
            from ganframe.plugin.failures import hook_failure

            raise PluginError(
                hook_failure(first.label, first.hook, first.exc, first.code, kwargs.get("state"))
            ) from first.exc


class _Loader:
    """One loading pass; kept as a class so the per-plugin bookkeeping stays together."""

    def __init__(self) -> None:
        self.manager = new_plugin_manager()
        self.registry = Registry()
        self.records: list[PluginRecord] = []
        self.problems: list[str] = []
        self.strict_problems: list[str] = []  # the subset GANFRAME_STRICT_PLUGINS makes fatal

    # -- public steps ---------------------------------------------------------
    def add(self, obj: Any, name: str, distribution: str | None, version: str | None, builtin: bool) -> None:
        """Register one plugin object and its components, isolating any failure."""
        record = PluginRecord(name, distribution, version, builtin)
        self.records.append(record)
        try:
            # qualified so that two distributions may use the same entry-point name
            self.manager.register(obj, name=name if builtin or not distribution else f"{distribution}:{name}")
        except Exception as exc:  # pluggy validation: wrong arguments for a hook, ...
            if self.manager.is_registered(obj):  # older pluggy registers part of a plugin before failing
                self.manager.unregister(obj)
            mistakes = plugin_checks.argument_mistakes(obj)
            self._fail(record, "registering its hooks", exc, "; ".join(mistakes) or None)
            return
        staged: list[Component] = []
        for hook_name, kind in REGISTRATION_HOOKS.items():
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
                if impl.plugin is not obj:
                    continue
                try:
                    impl.function(**{arg: self._register_for(kind, record, staged) for arg in impl.argnames})
                except (Exception, SystemExit) as exc:
                    self.manager.unregister(obj)
                    self._fail(record, hook_name, exc)
                    return
        record.hooks = sorted(caller.name for caller in (self.manager.get_hookcallers(obj) or []) if caller.has_spec())
        self._check_hooks(obj, record)
        guard = HookGuard.of(self.manager)
        assert guard is not None  # every manager ganframe builds has one
        guard.guard(self.manager, obj, record.label)
        for component in staged:
            try:
                self.registry.add(component)
            except ValueError as exc:
                self._problem(f"{record.label}: {exc}.", strict=True, records=[record])

    def load_entry_points(self) -> None:
        allow = _allow_list()
        matched: set[str] = {canonical_distribution(BUILTIN_DISTRIBUTION)}  # built-ins always load
        for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist_name = ep.dist.metadata["Name"] if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            if allow is not None:
                hits = {canonical_distribution(ep.name), canonical_distribution(dist_name or "")} & set(allow)
                if not hits:
                    self.records.append(PluginRecord(ep.name, dist_name, version, False, status="disabled"))
                    continue
                matched |= hits
            try:
                obj = ep.load()
            except (Exception, SystemExit) as exc:  # a plugin calling sys.exit() must not end the command
                record = PluginRecord(ep.name, dist_name, version, builtin=False)
                self.records.append(record)
                self._fail(record, f"importing '{ep.value}'", exc)
                continue
            self.add(obj, ep.name, dist_name, version, builtin=False)
        for key in sorted(set(allow or {}) - matched):
            assert allow is not None
            self._problem(
                f"{LOAD_PLUGINS_ENV} names '{allow[key]}', but no installed plugin or distribution has that "
                "name (see `ganframe plugins`).",
                strict=False,
            )

    def report_collisions(self) -> None:
        builtin = {r.name for r in self.records if r.builtin}
        for kind in METADATA_BY_KIND:
            for name, qualified in self.registry.collisions(kind).items():
                owners = {(c.plugin, c.distribution) for c in self.registry.components(kind) if c.name == name}
                with_builtin = any(plugin in builtin for plugin, _ in owners)
                note = " (one of them is ganframe's built-in, which a plugin cannot replace)" if with_builtin else ""
                self._problem(
                    f"{kind} '{name}' is registered by {len(qualified)} distributions{note}, so the bare name "
                    f"'{name}' is ambiguous; use a qualified name: {quoted_list(qualified)}.",
                    strict=with_builtin,
                    records=[r for r in self.records if not r.builtin and (r.name, r.distribution) in owners],
                )

    # -- helpers --------------------------------------------------------------
    def _fail(self, record: PluginRecord, stage: str, exc: BaseException, explanation: str | None = None) -> None:
        record.status = "failed"
        record.error = f"{stage} failed: {explanation or describe_exception(exc, skip=_MACHINERY)}"
        self.problems.append(f"{record.label} failed to load and was skipped: {record.error}")
        self.strict_problems.append(f"{record.label} failed to load: {record.error}")

    def _problem(self, text: str, *, strict: bool, records: Iterable[PluginRecord] = ()) -> None:
        """A warning (fatal in strict mode when ``strict``), also listed on the plugins it is about."""
        self.problems.append(text)
        if strict:
            self.strict_problems.append(text)
        for record in records:
            record.warnings.append(text)
            if strict:
                record.strict_warnings.append(text)

    def _check_hooks(self, obj: Any, record: PluginRecord) -> None:
        """What pluggy accepts silently: misspelled hooks, unmarked hooks, no hooks at all."""
        unknown = plugin_checks.unknown_hooks(self.manager, obj)
        unmarked = plugin_checks.unmarked_hooks(obj)
        for hook in unknown:
            self._problem(plugin_checks.unknown_hook_message(record.label, hook), strict=True, records=[record])
        for hook in unmarked:
            self._problem(plugin_checks.unmarked_hook_message(record.label, hook), strict=True, records=[record])
        if not record.hooks and not unknown and not unmarked:
            self._problem(
                f"{record.label} implements no ganframe hook, so it adds nothing; mark its hook functions "
                "with @hookimpl (from ganframe import hookimpl) and name them after the hooks in "
                "docs/writing-plugins.md.",
                strict=True,
                records=[record],
            )

    def _register_for(self, kind: str, record: PluginRecord, staged: list[Component]):
        def register(name: str, factory: Any, *, help: str | None = None, **metadata: Any) -> None:
            staged.append(
                check_registration(
                    kind,
                    name,
                    factory,
                    help,
                    metadata,
                    plugin=record.name,
                    distribution=record.distribution,
                    version=record.version,
                )
            )

        return register


def load_plugins(
    *, entry_points: bool = True, extra: Iterable[tuple[Any, str, str | None, str | None]] = ()
) -> PluginSet:
    """Load built-ins, then entry-point plugins, then ``extra`` ``(obj, name, distribution, version)``.

    Raises :class:`PluginError` in strict mode when anything failed.
    """
    loader = _Loader()
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        loader.add(module, module_name, BUILTIN_DISTRIBUTION, ganframe.__version__, True)
    if entry_points:
        loader.load_entry_points()
    for obj, name, distribution, version in extra:
        loader.add(obj, name, distribution, version, builtin=False)
    loader.report_collisions()
    plugin_set = PluginSet(loader.manager, loader.registry, loader.records, loader.problems)
    if _strict() and loader.strict_problems:
        numbered = " ".join(f"({i}) {text}" for i, text in enumerate(loader.strict_problems, 1))
        raise PluginError(
            f"{STRICT_PLUGINS_ENV}=1 makes plugin problems fatal, and loading found "
            f"{len(loader.strict_problems)}: {numbered} Unset {STRICT_PLUGINS_ENV} to skip broken plugins instead."
        )
    return plugin_set


_cached: PluginSet | None = None


def get_plugins(*, report: bool = True) -> PluginSet:
    """The process-wide :class:`PluginSet`, loaded on first use and reported once."""
    global _cached
    if _cached is None:
        _cached = load_plugins()
    if report:
        _cached.report()
    return _cached


def reset_plugins() -> None:
    """Forget the cached plugins (tests, or after installing a plugin in-process)."""
    global _cached
    _cached = None
