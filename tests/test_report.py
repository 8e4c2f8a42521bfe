"""The end-of-run report: the strip of sample grids over epochs and the summary."""

import io
import subprocess
import sys

import pytest

from ganframe.outputs.plots import pick_evenly


def test_pick_evenly_spreads_from_first_to_last():
    assert pick_evenly(list(range(151)), 4) == [0, 50, 100, 150]  # the tutorials' 0/50/100/150
    assert pick_evenly(list(range(6)), 5) == [0, 1, 2, 4, 5]
    assert pick_evenly([0, 1, 2], 5) == [0, 1, 2]
    assert pick_evenly([3, 4], 1) == [4]


def test_run_writes_the_progress_strip_and_losses_plot(cli, tiny_root, tmp_path):
    from matplotlib.image import imread

    out = tmp_path / "run"
    result = cli("run", "--data-root", tiny_root, "--epochs", "7", "--seed", "0", "--out", out, "--model", "mlp-small")
    assert result.exit_code == 0, result.output
    strip = imread(out / "samples" / "progress.png")
    single = imread(out / "samples" / "epoch-0000.png")
    assert strip.shape[1] > 4 * strip.shape[0], "five panels side by side"
    assert (out / "losses.png").is_file() and single.shape[0] == single.shape[1]


def test_plain_summary_lists_losses_and_time_per_epoch(cli, tiny_root, tmp_path):
    result = cli(
        "run", "--data-root", tiny_root, "--epochs", "2", "--seed", "0", "--out", tmp_path / "r", "--model", "mlp-small"
    )
    lines = result.output[result.output.index("Run summary") :].splitlines()
    labels = [line.split("  ")[1] if line.startswith("  ") else line for line in lines]
    for label in (
        "stopped",
        "final D loss",
        "final G loss",
        "final D(x)",
        "final D(G(z))",
        "time per epoch",
        "pictures",
    ):
        assert label in labels
    assert not any(label.startswith("classes covered") for label in labels), "no eval figures without --eval-every"


def test_rich_summary_on_a_terminal(plugin_set, tiny_root, tmp_path):
    from ganframe.config import RunConfig
    from ganframe.run.runner import train

    stream = io.StringIO()
    config = RunConfig(model="mlp-small", data_root=str(tiny_root), epochs=1, seed=0, out=str(tmp_path / "r"))
    state = train(config, plugin_set, stream=stream, interactive=True)
    text = stream.getvalue()
    assert "Run summary" in text and "┃" not in text and "│" in text  # a rich table, no header row
    assert f"{state.epoch_seconds[0]:.1f} s" in text


@pytest.mark.parametrize("command", [["--help"], ["plugins"], ["eval", "--help"], ["run", "--help"]])
def test_cli_listing_imports_neither_torch_nor_tensorboard(command):
    code = (
        "import sys\n"
        "from ganframe.cli import app\n"
        f"try:\n    app({command!r}, prog_name='ganframe')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'tensorboard', 'matplotlib', 'torch_fidelity') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in output


def test_the_summary_names_only_pictures_that_exist(tmp_path):
    from types import SimpleNamespace

    from ganframe.outputs.summary import summary_rows

    state = SimpleNamespace(stop_reason="interrupted", step=3, epoch=0, history=[], epoch_seconds=[], run_dir=tmp_path)
    assert "pictures" not in dict(summary_rows(state))  # a second Ctrl-C: nothing was drawn
    (tmp_path / "losses.png").write_bytes(b"")
    assert dict(summary_rows(state))["pictures"] == str(tmp_path / "losses.png")
