"""The plugin manager: finds plugins, calls their registration hooks, and
keeps one broken plugin from breaking every command.

Plugins come from two places, registered the same way:

1. ganframe's built-ins (:data:`BUILTIN_PLUGINS`, the modules in ``plugins/``
   installed as ``ganframe_builtins``);
2. every installed distribution with an entry point in the group
   ``ganframe`` (``[project.entry-points.ganframe]`` in its pyproject.toml).

Loading is isolated per plugin: a plugin that fails to import, fails pluggy's
validation, or whose registration hook raises is recorded as *failed* (with
the error), reported once on stderr and skipped, and everything else keeps
working. Components are staged per plugin and only committed when all of that
plugin's registration hooks succeeded, so a half-registered plugin never
leaves stray names behind.

Environment variables:

- ``GANFRAME_LOAD_PLUGINS``: comma-separated allow-list of third-party plugins
  (entry-point names or distribution names). Unset: load all. Empty: load no
  third-party plugin. Built-ins always load.
- ``GANFRAME_STRICT_PLUGINS=1``: a failed plugin or a hook implementation
  that matches no hook spec is fatal (:class:`PluginError`, exit 1), for the
  CI of plugin authors.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any

import pluggy

import ganframe
from ganframe import hookspecs
from ganframe.errors import PluginError, did_you_mean
from ganframe.registry import METADATA_BY_KIND, Component, Registry, help_from_factory

ENTRY_POINT_GROUP = "ganframe"
LOAD_PLUGINS_ENV = "GANFRAME_LOAD_PLUGINS"
STRICT_PLUGINS_ENV = "GANFRAME_STRICT_PLUGINS"

#: ganframe's own plugins, registered through the same hooks a third party uses
BUILTIN_PLUGINS = (
    "ganframe_builtins.mlp",
    "ganframe_builtins.conditional",
    "ganframe_builtins.batchnorm",
    "ganframe_builtins.bce_losses",
    "ganframe_builtins.image_datasets",
    "ganframe_builtins.toy_datasets",
    "ganframe_builtins.tensorboard_logger",
)

#: registration hook name -> component kind it registers
REGISTRATION_HOOKS = {
    "register_generators": "generator",
    "register_discriminators": "discriminator",
    "register_losses": "loss",
    "register_datasets": "dataset",
    "register_loggers": "logger",
}


@dataclass
class PluginRecord:
    """What ``ganframe plugins`` shows about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: str = "loaded"  # "loaded" | "failed"
    error: str | None = None
    hooks: list[str] = field(default_factory=list)


@dataclass
class PluginSet:
    """Everything loaded: the pluggy manager, the registry and what went wrong."""

    manager: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginRecord]
    problems: list[str]
    _reported: bool = False

    @property
    def failed(self) -> list[PluginRecord]:
        return [p for p in self.plugins if p.status == "failed"]

    def report(self, stream: Any = None) -> None:
        """Write each problem to stderr, once per process."""
        if self._reported:
            return
        self._reported = True
        stream = stream or sys.stderr
        for problem in self.problems:
            stream.write(f"ganframe: warning: {problem}\n")


def _strict() -> bool:
    return os.environ.get(STRICT_PLUGINS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _allow_list() -> set[str] | None:
    raw = os.environ.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return {item.strip() for item in raw.split(",") if item.strip()}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


class _Loader:
    """One loading pass; kept as a class so the per-plugin bookkeeping stays together."""

    def __init__(self) -> None:
        self.manager = new_plugin_manager()
        self.registry = Registry()
        self.records: list[PluginRecord] = []
        self.problems: list[str] = []
        self.strict_problems: list[str] = []  # the subset GANFRAME_STRICT_PLUGINS makes fatal
        self.spec_names = sorted(n for n in dir(hookspecs) if n.startswith(("register_", "on_")))

    # -- public steps ---------------------------------------------------------
    def add(self, obj: Any, name: str, distribution: str | None, version: str | None, builtin: bool) -> None:
        """Register one plugin object and its components, isolating any failure."""
        record = PluginRecord(name, distribution, version, builtin)
        self.records.append(record)
        try:
            self.manager.register(obj, name=name)
        except Exception as exc:  # pluggy validation: wrong arguments for a hook, ...
            self._fail(record, exc)
            return
        self._check_unknown_hooks(obj, record)
        staged: list[Component] = []
        try:
            for hook_name, kind in REGISTRATION_HOOKS.items():
                for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
                    if impl.plugin is obj:
                        impl.function(**{arg: self._register_for(kind, record, staged) for arg in impl.argnames})
        except Exception as exc:
            self.manager.unregister(obj)
            self._fail(record, exc)
            return
        record.hooks = sorted(
            caller.name for caller in (self.manager.get_hookcallers(obj) or []) if caller.has_spec()
        )
        for component in staged:
            try:
                self.registry.add(component)
            except ValueError as exc:
                self._problem(str(exc), strict=True)

    def load_entry_points(self) -> None:
        allow = _allow_list()
        seen: set[tuple[str, str]] = set()
        matched: set[str] = set()
        for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist_name = ep.dist.metadata["Name"] if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            key = (dist_name or "", ep.name)
            if key in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(key)
            if allow is not None:
                hits = {ep.name, dist_name} & allow
                if not hits:
                    continue
                matched |= hits
            record_name = ep.name
            try:
                obj = ep.load()
            except Exception as exc:
                record = PluginRecord(record_name, dist_name, version, builtin=False)
                self.records.append(record)
                self._fail(record, exc)
                continue
            self.add(obj, record_name, dist_name, version, builtin=False)
        for name in sorted((allow or set()) - matched):
            self.problems.append(
                f"{LOAD_PLUGINS_ENV} names '{name}', but no installed plugin or distribution has that name."
            )

    # -- helpers --------------------------------------------------------------
    def _fail(self, record: PluginRecord, exc: BaseException) -> None:
        record.status = "failed"
        record.error = _describe(exc)
        origin = f" (distribution '{record.distribution}')" if record.distribution else ""
        self._problem(f"plugin '{record.name}'{origin} failed to load and was skipped: {record.error}", strict=True)

    def _problem(self, text: str, *, strict: bool) -> None:
        self.problems.append(text)
        if strict:
            self.strict_problems.append(text)

    def _check_unknown_hooks(self, obj: Any, record: PluginRecord) -> None:
        """pluggy's check_pending, per plugin and non-fatal: name the typo and the likely hook."""
        for caller in self.manager.get_hookcallers(obj) or []:
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is obj and not impl.optionalhook:
                    self._problem(
                        f"plugin '{record.name}' implements '{caller.name}', which is not a ganframe hook, "
                        f"so it is never called.{did_you_mean(caller.name, self.spec_names)}",
                        strict=True,
                    )

    def _register_for(self, kind: str, record: PluginRecord, staged: list[Component]):
        allowed_metadata = METADATA_BY_KIND[kind]

        def register(name: str, factory: Any, *, help: str = "", **metadata: Any) -> None:
            if not isinstance(name, str) or not name or ":" in name or name != name.strip():
                raise ValueError(f"{kind} name {name!r} must be a non-empty string without ':' or spaces around it")
            if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
                raise TypeError(f"{kind} '{name}': factory must be a callable or a 'module:attribute' string")
            unknown = set(metadata) - allowed_metadata
            if unknown:
                valid = ", ".join(sorted(allowed_metadata)) or "none"
                raise TypeError(f"{kind} '{name}': unknown keyword(s) {sorted(unknown)} (valid for a {kind}: {valid})")
            staged.append(
                Component(
                    kind=kind,
                    name=name,
                    factory=factory,
                    help=help or help_from_factory(factory),
                    plugin=record.name,
                    distribution=record.distribution,
                    version=record.version,
                    metadata=metadata,
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
        loader.add(importlib.import_module(module_name), module_name, "ganframe", ganframe.__version__, True)
    if entry_points:
        loader.load_entry_points()
    for obj, name, distribution, version in extra:
        loader.add(obj, name, distribution, version, builtin=False)
    for kind in METADATA_BY_KIND:
        for name, qualified in loader.registry.collisions(kind).items():
            loader.problems.append(
                f"{kind} '{name}' is registered by several distributions; use one of "
                f"{', '.join(qualified)} (the bare name is ambiguous)."
            )
    plugin_set = PluginSet(loader.manager, loader.registry, loader.records, loader.problems)
    if _strict() and loader.strict_problems:
        raise PluginError(
            f"{STRICT_PLUGINS_ENV} is set and plugin loading failed: " + " ".join(loader.strict_problems)
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
