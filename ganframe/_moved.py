"""Import paths of the flat 0.1 layout, kept for one release with a DeprecationWarning.

ganframe 0.1 kept every module at the top level (``ganframe.losses``,
``ganframe.specs``, ...). 0.2 groups them by role into subpackages and puts
the stable names in ``ganframe.__all__``. Plugins written against 0.1 keep
working: :data:`MOVED` maps each old module name to its new home, and a
meta-path finder hands out the new module under the old name, with a
``DeprecationWarning`` that says what to import instead. One table, no shim
files, so the tree shows only the new layout. Remove in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import FrameType, ModuleType

#: old module -> new module
MOVED: dict[str, str] = {
    "ganframe.hookspecs": "ganframe.plugin.spec",
    "ganframe.plugins": "ganframe.plugin.manager",
    "ganframe.plugin_checks": "ganframe.plugin.checks",
    "ganframe.registry": "ganframe.plugin.registry",
    "ganframe.specs": "ganframe.plugin.specs",
    "ganframe.layers": "ganframe.nn.layers",
    "ganframe.losses": "ganframe.nn.losses",
    "ganframe.engine": "ganframe.train.engine",
    "ganframe.step": "ganframe.train.step",
    "ganframe.state": "ganframe.train.state",
    "ganframe.data": "ganframe.train.data",
    "ganframe.weight_average": "ganframe.train.weight_average",
    "ganframe.nonfinite": "ganframe.train.nonfinite",
    "ganframe.rng": "ganframe.train.rng",
    "ganframe.distributed": "ganframe.train.distributed",
    "ganframe.accelerate": "ganframe.train.accelerate",
    "ganframe.metrics_window": "ganframe.train.metrics_window",
    "ganframe.assemble": "ganframe.run.assemble",
    "ganframe.resume": "ganframe.run.resume",
    "ganframe.signals": "ganframe.run.signals",
    "ganframe.data_root": "ganframe.run.data_root",
    "ganframe.checkpoint": "ganframe.run.checkpoint",
    "ganframe.runner": "ganframe.run.runner",
    "ganframe.sampling": "ganframe.run.sampling",
    "ganframe.run_files": "ganframe.outputs.run_files",
    "ganframe.progress": "ganframe.outputs.progress",
    "ganframe.summary": "ganframe.outputs.summary",
    "ganframe.images": "ganframe.outputs.images",
    "ganframe.plots": "ganframe.outputs.plots",
}


def advice(old: str) -> str:
    """What to import instead of ``old``: the front door when it has the module's public names."""
    return (
        f"{old} is deprecated since ganframe 0.2 and will be removed in 0.3: import its public names "
        f"from 'ganframe' (see ganframe.__all__); the module itself is now {MOVED[old]}."
    )


def _caller_stacklevel() -> int:
    """The stack level of the first frame outside the import machinery (the ``import`` line itself)."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib") or frame.f_code.co_filename == __file__
    ):
        frame, level = frame.f_back, level + 1
    return level


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds old module names and loads them as the module they moved to."""

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 (importlib's signature)
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def __init__(self) -> None:
        self._own_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(advice(spec.name), DeprecationWarning, stacklevel=_caller_stacklevel())
        module = importlib.import_module(MOVED[spec.name])
        self._own_specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system stamped the old name's spec on the real module: give it back its own
        module.__spec__ = self._own_specs[module.__name__]


def install() -> None:
    """Put the finder on ``sys.meta_path`` once (``import ganframe`` calls it)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
