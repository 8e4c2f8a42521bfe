"""Progress output: plain lines off a terminal, a live rich bar on one."""

import io

from ganframe.config import RunConfig
from ganframe.run.runner import train


def run(plugin_set, tmp_path, interactive):
    stream = io.StringIO()
    config = RunConfig(
        dataset="ring",
        dataset_options={"samples": "640"},
        epochs=2,
        log_every=5,
        seed=0,
        out=str(tmp_path / ("tty" if interactive else "plain")),
    )
    train(config, plugin_set, stream=stream, interactive=interactive)
    return stream.getvalue()


def test_plain_lines_when_not_a_terminal(plugin_set, tmp_path):
    text = run(plugin_set, tmp_path, interactive=False)
    lines = text.splitlines()
    assert lines[0].startswith(
        "Training ganframe:mlp / ganframe:mlp with loss ganframe:bce-smooth on ganframe:ring"
    )  # mlp's default loss
    metric_lines = [line for line in lines if line.startswith("epoch ") and "d_loss" in line]
    assert len(metric_lines) == 4  # 20 steps, read every 5
    assert "step 5/20" in metric_lines[0] and "D(G(z))" in metric_lines[0]
    assert "epoch 2/2 done in" in text
    assert "\x1b[" not in text and "\r" not in text, "no control characters in logs"


def test_rich_bar_on_a_terminal(plugin_set, tmp_path):
    text = run(plugin_set, tmp_path, interactive=True)
    assert "epoch 1/2 done in" in text and "epoch 2/2 done in" in text
    assert "20/20" in text and "d_loss" in text
