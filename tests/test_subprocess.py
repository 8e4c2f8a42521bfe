"""The installed command as a user runs it: exit codes, stderr, and start-up imports."""

import subprocess
import sys


def ganframe(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ganframe", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_misspelled_model_exits_2_with_a_suggestion_and_no_traceback(tmp_path):
    result = ganframe("run", "--model", "cgna", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "Did you mean 'cgan'" in result.stderr and "ganframe plugins" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x").exists()
