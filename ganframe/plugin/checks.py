"""Mistakes in a plugin object that pluggy accepts silently.

pluggy registers a hook implementation whose name matches no hook spec (a
typo such as ``register_loss``) and simply never calls it; it ignores a
function named exactly like a hook but missing ``@hookimpl``. Either way the
plugin's author sees nothing registered and no error. These checks name the
plugin, the function and the hook that was probably meant, so the loader can
report them (and strict mode can make them fatal). They import no torch.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pluggy

from ganframe.errors import did_you_mean
from ganframe.plugin import spec as hookspecs

#: every hook name ganframe calls
SPEC_NAMES = tuple(sorted(name for name in vars(hookspecs) if name.startswith(("register_", "on_"))))

_MARKER = f"{hookspecs.PROJECT_NAME}_impl"  # the attribute @hookimpl sets on a function


def unknown_hooks(manager: pluggy.PluginManager, obj: Any) -> list[str]:
    """Names of ``obj``'s ``@hookimpl`` functions that match no hook spec."""
    names = []
    for caller in manager.get_hookcallers(obj) or []:
        if caller.has_spec():
            continue
        if any(impl.plugin is obj and not impl.optionalhook for impl in caller.get_hookimpls()):
            names.append(caller.name)
    return sorted(names)


def unmarked_hooks(obj: Any) -> list[str]:
    """Functions of ``obj`` named like a hook but not marked ``@hookimpl`` (never called)."""
    own_module = obj.__name__ if isinstance(obj, ModuleType) else None
    names = []
    for name in SPEC_NAMES:
        function = getattr(obj, name, None)
        if function is None or not callable(function) or hasattr(function, _MARKER):
            continue
        if own_module is not None and getattr(function, "__module__", own_module) != own_module:
            continue  # imported into the module from elsewhere, not defined by the plugin
        names.append(name)
    return names


def unknown_hook_message(plugin: str, hook: str) -> str:
    """One sentence: the plugin, the hook name that does not exist and what was probably meant."""
    if "model" in hook and hook.startswith("register"):
        hint = (
            " A model is a generator and a discriminator registered under the same name: implement "
            "'register_generators' and 'register_discriminators'."
        )
    else:
        hint = did_you_mean(hook, SPEC_NAMES)
    return f"{plugin} implements '{hook}', which is not a ganframe hook, so it is never called.{hint}"


def unmarked_hook_message(plugin: str, hook: str) -> str:
    return (
        f"{plugin} defines '{hook}' without the @hookimpl marker, so it is never called; "
        "decorate it with @hookimpl (from ganframe import hookimpl)."
    )


def argument_mistakes(obj: Any) -> list[str]:
    """Hook implementations of ``obj`` asking for arguments their hook does not pass
    (what makes pluggy refuse the plugin), in words."""
    mistakes = []
    for name in SPEC_NAMES:
        function = getattr(obj, name, None)
        if function is None or not hasattr(function, _MARKER):
            continue
        passed = list(inspect.signature(getattr(hookspecs, name)).parameters)
        try:
            wanted = [p for p in inspect.signature(function).parameters if p != "self"]
        except (TypeError, ValueError):
            continue
        unknown = [arg for arg in wanted if arg not in passed]
        if unknown:
            mistakes.append(
                f"{name}({', '.join(wanted)}) asks for {', '.join(repr(a) for a in unknown)}, but {name} passes "
                f"only {', '.join(repr(a) for a in passed)}"
            )
    return mistakes
