"""The installed command as a user runs it: exit codes, stderr, and start-up imports."""

import subprocess
import sys

import pytest


def ganframe(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ganframe", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_misspelled_model_exits_2_with_a_suggestion_and_no_traceback(tmp_path):
    result = ganframe("run", "--model", "cgna", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "Did you mean 'cgan'" in result.stderr and "ganframe plugins" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args", [["--help"], ["plugins"], ["plugins", "--json"], ["run", "--help"]])
def test_help_and_plugins_never_import_torch(args):
    code = (
        "import sys\n"
        "from ganframe.cli import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='ganframe')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "heavy = [m for m in ('torch', 'torchvision', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
