"""The built-in plugins ship in the wheel as ganframe_builtins, never as a generic `plugins` package."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ganframe.plugins import BUILTIN_PLUGINS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (path,) = out.glob("ganframe-*.whl")
    return path


def test_wheel_contains_the_builtins_under_their_own_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for module in BUILTIN_PLUGINS:
        assert module.replace(".", "/") + ".py" in names
    top_levels = {name.split("/")[0] for name in names if not name.startswith("ganframe-")}
    assert top_levels == {"ganframe", "ganframe_builtins"}
    assert not any(name.startswith("plugins/") for name in names)


def test_builtins_load_from_the_installed_wheel(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import ganframe, ganframe_builtins\n"
        "from ganframe.plugins import load_plugins\n"
        "print(ganframe_builtins.__file__)\n"
        "print(load_plugins(entry_points=False).registry.model_names())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert "['batchnorm', 'cgan', 'mlp', 'mlp-small']" in result.stdout
