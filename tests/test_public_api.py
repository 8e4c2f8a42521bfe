"""The front door: ``ganframe.__all__`` is the plugin author's API, old import paths still work
(with a DeprecationWarning) for one release, and plugins ship importing nothing else."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import ganframe
from ganframe import _moved

REPO = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = {"ganframe", "ganframe.testing"}


def test_every_public_name_resolves_and_is_listed():
    assert "hookimpl" in ganframe.__all__ and "GANLoss" in ganframe.__all__
    for name in ganframe.__all__:
        assert getattr(ganframe, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'engine_internals'"):
        ganframe.engine_internals  # noqa: B018


def test_import_ganframe_imports_no_torch():
    code = "import sys, ganframe; assert 'torch' not in sys.modules, 'torch imported'; print(len(ganframe.__all__))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(ganframe.__all__)


def test_every_old_import_path_warns_and_gives_the_moved_module():
    """One fresh interpreter imports each 0.1 path: same module object, own spec, a warning naming it."""
    code = (
        "import warnings, importlib\n"
        "from ganframe._moved import MOVED\n"
        "warnings.simplefilter('always')\n"
        "for old_name, new_name in MOVED.items():\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        old = importlib.import_module(old_name)\n"
        "    new = importlib.import_module(new_name)\n"
        "    assert old is new, (old_name, old, new)\n"
        "    assert new.__spec__.name == new_name, (old_name, new.__spec__)\n"
        "    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]\n"
        "    assert any(old_name in m and 'ganframe.__all__' in m for m in messages), (old_name, messages)\n"
        "print(len(MOVED))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(_moved.MOVED) > 20


def test_a_plugin_written_against_the_old_layout_still_works(recwarn):
    warnings.simplefilter("always")
    from ganframe.losses import GANLoss  # the 0.1 guide's import
    from ganframe.specs import ModelSpec

    assert GANLoss is ganframe.GANLoss and ModelSpec is ganframe.ModelSpec
    assert any(issubclass(w.category, DeprecationWarning) for w in recwarn)


def _ganframe_imports(source: str) -> set[str]:
    """Every ganframe module a piece of source imports (``from ganframe.x import y`` -> ganframe.x)."""
    found: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a signature shown as prose, not code: scan its import lines alone
        tree = ast.parse(
            "\n".join(line.strip() for line in source.splitlines() if line.strip().startswith(("import ", "from ")))
        )
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ganframe":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "ganframe"}
    return found


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


PLUGIN_SOURCES = sorted((REPO / "plugins").rglob("*.py"))


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_built_ins_and_the_example_plugin_import_only_the_public_api(path):
    private = _ganframe_imports(path.read_text()) - PUBLIC_MODULES
    assert not private, f"{path.relative_to(REPO)} imports {sorted(private)}; use 'ganframe' or 'ganframe.testing'"


@pytest.mark.parametrize("doc", ["docs/writing-plugins.md", "README.md", "plugins/ganframe-dcgan/README.md"])
def test_docs_examples_import_only_the_public_api(doc):
    private = set()
    for block in _python_blocks((REPO / doc).read_text()):
        private |= _ganframe_imports(block) - PUBLIC_MODULES
    assert not private, f"{doc} shows imports of {sorted(private)}"


def test_the_alias_table_names_only_modules_that_exist():
    for new in _moved.MOVED.values():
        assert importlib.util.find_spec(new) is not None, new
