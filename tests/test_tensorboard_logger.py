"""``--logger tensorboard``: event files with scalars and sample grids, and the
one-sentence error when the optional extra is missing."""

import sys

import pytest

from tests.helpers import said

pytest.importorskip("tensorboard", reason="the dev extras install tensorboard")


def read_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_writes_scalars_and_a_sample_grid_per_epoch(cli, tiny_root, tmp_path):
    out = tmp_path / "run"
    result = cli(
        "run",
        "--data-root",
        tiny_root,
        "--epochs",
        "2",
        "--seed",
        "0",
        "--log-every",
        "2",
        "--logger",
        "tensorboard",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    events = read_events(out / "tensorboard")
    tags = events.Tags()
    assert {"loss/d_loss", "loss/g_loss", "D/D(x)", "D/D(G(z))"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("loss/d_loss")] == [2, 4, 6, 8]  # every --log-every window
    d_x = [e.value for e in events.Scalars("D/D(x)")]
    assert all(0.0 < v < 1.0 for v in d_x)
    images = events.Images("samples")
    assert [i.step for i in images] == [0, 1, 2]  # before training and after each epoch
    assert images[0].width == images[0].height > 28 * 10  # a 10 x 10 grid of 28 x 28 samples


def test_eval_figures_reach_tensorboard(cli, trained_root, tmp_path):
    out = tmp_path / "run"
    result = cli(
        "run",
        "--data-root",
        trained_root,
        "--epochs",
        "1",
        "--seed",
        "0",
        "--logger",
        "tensorboard",
        "--eval-every",
        "1",
        "--eval-samples",
        "100",
        "--out",
        out,
        "--model",
        "mlp-small",
    )
    assert result.exit_code == 0, result.output
    scalars = set(read_events(out / "tensorboard").Tags()["scalars"])
    assert {"eval/classes_covered", "eval/class_kl", "eval/frechet_distance", "eval/confidence"} <= scalars


def test_missing_extra_is_one_sentence_with_the_install_command(monkeypatch, plugin_set, tmp_path):
    from ganframe.errors import UsageError

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import now raises ImportError
    factory = plugin_set.registry.get("logger", "tensorboard").load()
    with pytest.raises(UsageError) as error:
        factory(tmp_path / "run", {})
    message = error.value.message
    assert 'pip install "ganframe[tensorboard]"' in message and message.count(".") <= 2
    assert not (tmp_path / "run").exists()


def test_missing_extra_stops_the_run_before_any_file(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "run"
    result = cli("run", "--dataset", "ring", "--logger", "tensorboard", "--out", out, "--max-steps", "2")
    assert result.exit_code == 2
    assert "needs the TensorBoard package" in said(result) and 'pip install "ganframe[tensorboard]"' in said(result)
    assert "Traceback" not in result.output and not out.exists()
