"""Plugin distributions built in a temp folder, without pip.

A folder holding ``name-1.0.dist-info/`` (METADATA + entry_points.txt) next to
the plugin's module is an installed distribution as far as
``importlib.metadata`` is concerned once the folder is on ``sys.path`` (or
``PYTHONPATH`` for a subprocess). That is how these tests install broken,
colliding and misspelled plugins beside ganframe in milliseconds.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: a plugin module that registers one loss; ``{name}`` is the loss name
LOSS_PLUGIN = """
from ganframe import hookimpl

@hookimpl
def register_losses(register):
    register("{name}", "ganframe_builtins.bce_losses:BCELoss", help="{help}")
"""


class Site:
    """A folder of fake installed distributions; ``add`` writes one."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.modules: list[str] = []

    def add(
        self,
        distribution: str,
        modules: dict[str, str],
        entry_points: dict[str, str] | None = None,
        version: str = "1.0",
    ) -> Path:
        """Write ``modules`` (name -> source) and a dist-info whose ``ganframe`` entry points are
        ``entry_points`` (name -> ``module``; default: one per module, named after it)."""
        for module, source in modules.items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        entry_points = entry_points if entry_points is not None else {m: m for m in modules}
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[ganframe]\n{lines}")
        importlib.invalidate_caches()
        return info

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a subprocess that sees these distributions."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("GANFRAME_") or k in ("GANFRAME_DATA", "GANFRAME_AUTO_PRECISION")
        }
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), *filter(None, [os.environ.get("PYTHONPATH")])])
        env.update(extra)
        return env

    def ganframe(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """``python -m ganframe ARGS`` in a subprocess with these distributions installed."""
        return subprocess.run(
            [sys.executable, "-m", "ganframe", *map(str, args)],
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=300,
        )


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Fake distributions on ``sys.path`` for this test (and ``PYTHONPATH`` via ``site.env()``)."""
    folder = Site(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder.root))
    yield folder
    for module in folder.modules:
        sys.modules.pop(module, None)
