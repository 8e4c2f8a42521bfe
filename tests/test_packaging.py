"""What ganframe ships: the wheel's contents and entry points, that the built-ins load from an
installed wheel, and which imports stay light."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ganframe.plugin.manager import BUILTIN_PLUGINS
from tests.conftest import REPO

#: `ganframe --help`, `ganframe plugins` and the pytest plugin must start without these
HEAVY = ("torch", "torchvision", "matplotlib")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """ganframe's wheel, built from a copy of the tracked files (no build artefacts in the checkout)."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--skip-dependency-check",
            "--outdir",
            str(tmp_path / "dist"),
        ],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [path] = (tmp_path / "dist").glob("ganframe-*.whl")
    return path


def test_the_wheel_holds_ganframe_and_its_built_ins_but_not_the_example_plugin(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"ganframe", "ganframe_builtins"}, "no generic top-level name such as `plugins`"
    for module in BUILTIN_PLUGINS:
        assert module.replace(".", "/") + ".py" in names
    assert "ganframe/testing/__init__.py" in names
    assert not [n for n in names if "dcgan" in n or n.endswith("pyproject.toml")]
    entry_points = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "[pytest11]\nganframe = ganframe.testing.pytest_plugin" in entry_points


def test_builtins_load_from_the_installed_wheel(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import ganframe, ganframe_builtins\n"
        "from ganframe.plugin.manager import load_plugins\n"
        "print(ganframe_builtins.__file__)\n"
        "print(load_plugins(entry_points=False).registry.model_names())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout, "imported from the checkout instead of the installed wheel"
    assert "['batchnorm', 'cgan', 'mlp', 'mlp-small']" in result.stdout


def heavy_modules_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_help_and_plugins_import_no_torch_even_with_the_example_plugin_installed():
    code = """
from typer.testing import CliRunner
from ganframe.cli import app
for args in (["--help"], ["plugins"], ["plugins", "--json"], ["run", "--help"]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
from ganframe.plugin.manager import get_plugins
assert get_plugins().registry.find("generator", "dcgan") is not None, "example plugin not loaded"
"""
    assert heavy_modules_after(code) == []


def test_the_test_kit_and_its_pytest_plugin_import_no_torch():
    assert heavy_modules_after("import ganframe.testing, ganframe.testing.pytest_plugin") == []
    assert heavy_modules_after("from ganframe.testing import check_plugin, check_training") == []
