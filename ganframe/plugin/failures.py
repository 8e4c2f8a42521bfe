"""A plugin's exception, framed as one paragraph that names the plugin.

An exception escaping a plugin's factory (model, loss, data set, logger) or
lifecycle hook is the plugin's bug, not the user's mistake, and a 70-line
traceback through pluggy and ganframe does not say whose. The paragraph names
the plugin and its distribution, what was being called, the exception, and
the innermost line of the plugin's own code on the way to it (not torch's or
ganframe's). ``GANFRAME_DEBUG=1`` makes the CLI print the full traceback
too. Exceptions ganframe defines (:class:`GanframeError`: a plugin refusing
bad options with a :class:`UsageError`) pass through unchanged. No torch here.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from ganframe.errors import exception_gist

#: set to 1 to see the full traceback behind any message
DEBUG_ENV = "GANFRAME_DEBUG"


def env_flag(name: str) -> bool:
    """An on/off environment variable: 1, true, yes or on (any case) mean on."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def debugging() -> bool:
    return env_flag(DEBUG_ENV)


def origin(plugin: str, distribution: str | None, version: str | None) -> str:
    """``plugin 'x' (distribution 'y' 1.0)``, as ``ganframe plugins`` names plugins."""
    if not distribution:
        return f"plugin '{plugin}'"
    return f"plugin '{plugin}' (distribution '{distribution}'{' ' + version if version else ''})"


def plugin_files(code: Any) -> tuple[str, ...]:
    """Where the code of ``code`` (a module, function, class or object) lives: its top-level
    package's folders, else its module's file."""
    code = getattr(code, "func", code)  # functools.partial
    module_name = code.__name__ if isinstance(code, ModuleType) else getattr(code, "__module__", None)
    if module_name is None:
        module_name = getattr(type(code), "__module__", None)
    if not module_name:
        return ()
    top = sys.modules.get(module_name.split(".")[0])
    folders = [str(Path(p).resolve()) + os.sep for p in getattr(top, "__path__", None) or []]
    if folders:
        return tuple(folders)
    file = getattr(sys.modules.get(module_name), "__file__", None)
    return (str(Path(file).resolve()),) if file else ()


def plugin_line(exc: BaseException, code: Any) -> tuple[str, int] | None:
    """``(file, line)`` of the innermost traceback frame in the plugin's own files, if any."""
    files = plugin_files(code)
    if not files:
        return None
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        filename = str(Path(frame.filename).resolve()) if not frame.filename.startswith("<") else frame.filename
        if filename.startswith(files) or filename in files:
            return frame.filename, frame.lineno or 0
    return None


def describe(exc: BaseException, code: Any) -> str:
    """``ValueError: boom (at /path/plugin.py:12)``."""
    text = f"{type(exc).__name__}: {exception_gist(exc, limit=300)}" if str(exc).strip() else type(exc).__name__
    where = plugin_line(exc, code)
    return f"{text} (at {where[0]}:{where[1]})" if where else text


def factory_failure(component: Any, exc: BaseException, factory: Any) -> str:
    """The paragraph for an exception from a registered component's factory."""
    who = origin(component.plugin, component.distribution, component.version)
    return (
        f"The {kind_word(component.kind)} '{component.qualified_name}' could not be built: the {component.kind} factory "
        f"of {who} raised {describe(exc, factory)}. This is a problem in the plugin, not in your command: update or "
        f"fix the plugin, or choose another {component.kind} (see `ganframe plugins`). Nothing was written. "
        f"Set {DEBUG_ENV}=1 to see the full traceback."
    )


def kind_word(kind: str) -> str:
    return "data set" if kind == "dataset" else kind


def hook_failure(label: str, hook: str, exc: BaseException, code: Any, state: Any) -> str:
    """The paragraph for an exception from a plugin's lifecycle hook during a run (``state``: the run's)."""
    text = f"{label[:1].upper()}{label[1:]} failed in its {hook} hook: {describe(exc, code)}."
    if state is None:
        return f"{text} Set {DEBUG_ENV}=1 to see the full traceback."
    from ganframe.run.resume import resume_command

    kept = (
        f"Its newest checkpoint, {state.last_checkpoint}, is complete (written at step {state.checkpoint_step})."
        if state.last_checkpoint is not None
        else "No checkpoint had been written yet."
    )
    return (
        f"{text} The run stopped at step {state.step} (epoch {state.current_epoch}); the plugin's later hooks were "
        f"not called. {kept} Fix, update or remove the plugin, then resume with: "
        f"{resume_command(state.run_dir, state.world_size)}. Set {DEBUG_ENV}=1 to see the full traceback."
    )
