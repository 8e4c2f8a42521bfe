"""The installed command as a user runs it: exit codes, stderr, and start-up imports."""

from functools import partial

from ganframe.testing import run_ganframe

ganframe = partial(run_ganframe, timeout=120)


def test_misspelled_model_exits_2_with_a_suggestion_and_no_traceback(tmp_path):
    result = ganframe("run", "--model", "cgna", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "Did you mean 'cgan'" in result.stderr and "ganframe plugins" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x").exists()
