"""Checks that a plugin registers cleanly, alone or installed.

:func:`check_plugin` loads one plugin object next to ganframe's built-ins
(nothing else), as the loader would: it fails on anything the loader would
warn about (a misspelled or unmarked hook, a malformed registration, a name
that collides with a built-in). :func:`check_installed` goes through the
entry points of an installed distribution, as ``ganframe plugins`` does, and
also imports every ``"module:attr"`` factory string, where a typo would
otherwise only show when a run first uses the component. Neither imports
torch unless the plugin's factories do.
"""

from __future__ import annotations

from typing import Any

from ganframe.errors import GanframeError
from ganframe.plugin.manager import PluginSet, load_plugins
from ganframe.plugin.registry import Component, canonical_distribution


def _load(**kwargs: Any) -> PluginSet:
    try:
        return load_plugins(**kwargs)
    except GanframeError as exc:  # GANFRAME_STRICT_PLUGINS=1 in the environment
        raise AssertionError(exc.message) from None


def check_plugin(plugin: Any, *, name: str | None = None) -> list[Component]:
    """Load ``plugin`` (a module or object with ``@hookimpl`` functions) beside the built-ins;
    fail on any problem; return the components it registered."""
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    plugin_set = _load(entry_points=False, extra=[(plugin, name, None, None)])
    record = next(r for r in plugin_set.plugins if r.name == name and not r.builtin)
    if record.status != "loaded":
        raise AssertionError(f"plugin '{name}' failed to load: {record.error}")
    if plugin_set.problems:  # only the built-ins and this plugin are loaded, so every problem is its own
        raise AssertionError(f"plugin '{name}' loads with problems: " + " ".join(plugin_set.problems))
    return [c for c in plugin_set.registry if c.plugin == name]


def check_installed(distribution: str) -> list[Component]:
    """Check that the installed ``distribution`` is found through its ``ganframe`` entry points,
    loads without the problems its author should fix (those GANFRAME_STRICT_PLUGINS=1 makes fatal) and
    that every factory it registered imports; returns its components."""
    wanted = canonical_distribution(distribution)
    plugin_set = _load()
    records = [r for r in plugin_set.plugins if r.distribution and canonical_distribution(r.distribution) == wanted]
    if not records:
        raise AssertionError(
            f"no plugin of distribution '{distribution}' was found in the entry-point group 'ganframe'. Is it "
            "installed in this environment (pip install -e .), with [project.entry-points.ganframe] in its "
            "pyproject.toml, and not left out by GANFRAME_LOAD_PLUGINS?"
        )
    for record in records:
        if record.status != "loaded":
            raise AssertionError(f"{record.label} did not load ({record.status}): {record.error or ''}".strip())
    # a name another third-party distribution also registers is not this plugin's mistake: not checked here
    problems = [text for record in records for text in record.strict_warnings]
    if problems:
        raise AssertionError(f"distribution '{distribution}' loads with problems: " + " ".join(dict.fromkeys(problems)))
    components = [c for c in plugin_set.registry if c.distribution and canonical_distribution(c.distribution) == wanted]
    if not components:
        raise AssertionError(f"distribution '{distribution}' loads but registers no component.")
    for component in components:
        try:
            component.load()
        except GanframeError as exc:
            raise AssertionError(exc.message) from None
    return components
