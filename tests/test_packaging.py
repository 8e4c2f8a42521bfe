"""What ganframe ships: the wheel's contents and entry points, and which imports stay light."""

import shutil
import subprocess
import sys
import zipfile

from tests.conftest import REPO

#: `ganframe --help`, `ganframe plugins` and the pytest plugin must start without these
HEAVY = ("torch", "torchvision", "matplotlib")


def test_the_wheel_holds_ganframe_and_its_built_ins_but_not_the_example_plugin(tmp_path):
    source = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
                            "--outdir", str(tmp_path / "dist")], cwd=source, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("ganframe-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"ganframe", "ganframe_builtins"}
    assert "ganframe/testing/__init__.py" in names and "ganframe_builtins/mlp.py" in names
    assert not [n for n in names if "dcgan" in n or n.endswith("pyproject.toml")]
    entry_points = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "[pytest11]\nganframe = ganframe.testing.pytest_plugin" in entry_points


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
from ganframe.plugins import get_plugins
assert get_plugins().registry.find("generator", "dcgan") is not None, "example plugin not loaded"
"""
    assert heavy_modules_after(code) == []


def test_the_test_kit_and_its_pytest_plugin_import_no_torch():
    assert heavy_modules_after("import ganframe.testing, ganframe.testing.pytest_plugin") == []
    assert heavy_modules_after("from ganframe.testing import check_plugin, check_training") == []
