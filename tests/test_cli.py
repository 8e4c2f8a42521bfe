"""The CLI end to end: runs write the run directory, plugins lists, sample needs no data set."""

import json

import pytest
import torch
from PIL import Image

from tests.helpers import said
from tests.runs import metrics_rows

RING_SMALL = ["--dataset", "ring", "--dataset-option", "samples=640"]  # 10 steps per epoch at batch 64


def test_run_on_ring_writes_the_run_directory(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", *RING_SMALL, "--epochs", 2, "--seed", 0, "--log-every", 5, "--out", out)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["generator"] == "mlp" and config["seed"] == 0
    # unset options take the data set's registered defaults (ring's lr), then the model's (mlp's
    # measured ones, README "Quality of the defaults" and "The ring example")
    from ganframe_builtins.mlp import MLP_DEFAULTS
    from ganframe_builtins.toy_datasets import RING_DEFAULTS

    assert config["batch_size"] == 64 and config["latent_dim"] == RING_DEFAULTS["latent_dim"] == 2
    assert config["lr_decay"] == RING_DEFAULTS["lr_decay"] == "linear"
    assert (config["loss"], config["lr"], config["beta1"]) == (
        MLP_DEFAULTS["loss"],
        RING_DEFAULTS["lr"],
        MLP_DEFAULTS["beta1"],
    )
    assert config["components"]["dataset"] == "ganframe:ring" and config["sample_shape"] == [2]
    assert (out / "real.png").is_file() and (out / "losses.png").is_file()
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "epoch-0000.png",
        "epoch-0001.png",
        "epoch-0002.png",
        "progress.png",
    ]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001.pt", "epoch-0002.pt"]
    rows = metrics_rows(out)
    assert [r["step"] for r in rows] == [5, 10, 15, 20]  # read every 5 steps, not every step
    assert [r["epoch"] for r in rows] == [1, 1, 2, 2]
    for row in rows:
        assert set(row) == {"step", "epoch", "d_loss", "g_loss", "D(x)", "D(G(z))"}
        assert all(map(lambda v: v == v and abs(v) < 1e6, row.values()))
    checkpoint = torch.load(out / "checkpoints" / "epoch-0002.pt", weights_only=True)
    for key in ("generator", "discriminator", "g_optimizer", "d_optimizer", "config"):
        assert key in checkpoint
    assert checkpoint["step"] == 20 and checkpoint["epoch"] == 2
    assert checkpoint["g_optimizer"]["state"], "optimizer state is saved, not just hyperparameters"


def test_max_steps_stops_mid_epoch_with_a_checkpoint(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", *RING_SMALL, "--epochs", 3, "--max-steps", 13, "--seed", 0, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001.pt", "step-0000013.pt"]
    assert torch.load(out / "checkpoints" / "step-0000013.pt", weights_only=True)["step"] == 13


def test_cgan_on_real_mnist_writes_one_class_per_row(cli, tmp_path, mnist_root):
    out = tmp_path / "cgan"
    result = cli(
        "run",
        "--model",
        "cgan",
        "--loss",
        "bce-smooth",
        "--max-steps",
        10,
        "--log-every",
        5,
        "--data-root",
        mnist_root,
        "--seed",
        1,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["loss_options"] == {}  # only options the user gave; the loss used its default smoothing
    grid = Image.open(out / "samples" / "epoch-0000.png")
    assert grid.size == (302, 302)  # 10 x 10 tiles of 28 px with 2 px padding: one row per class
    assert all(r["d_loss"] == r["d_loss"] for r in metrics_rows(out))


def test_same_seed_same_losses_and_different_seed_differs(cli, tmp_path):
    runs = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        out = tmp_path / name
        assert cli("run", *RING_SMALL, "--epochs", 2, "--seed", seed, "--log-every", 5, "--out", out).exit_code == 0
        runs[name] = [(r["d_loss"], r["g_loss"]) for r in metrics_rows(out)]
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_plugins_json_lists_every_builtin(cli):
    result = cli("plugins", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    found = {(c["kind"], c["name"]): c for c in document["components"]}
    expected = [("generator", m) for m in ("mlp", "cgan", "mlp-small", "batchnorm")]
    expected += [("discriminator", m) for m in ("mlp", "cgan", "mlp-small", "batchnorm")]
    expected += [("loss", n) for n in ("bce", "bce-smooth", "minimax")]
    expected += [("dataset", n) for n in ("mnist", "fashion-mnist", "ring")]
    for key in expected:
        component = found[key]
        assert component["distribution"] == "ganframe" and component["version"]
        assert component["help"] and component["plugin"].startswith("ganframe_builtins.")
    assert found[("generator", "cgan")]["conditional"] is True
    assert {"mlp", "cgan", "mlp-small", "batchnorm"} <= set(document["models"])


def test_plugins_table(cli):
    result = cli("plugins")
    assert result.exit_code == 0
    for word in ("kind", "distribution", "bce-smooth", "fashion-mnist", "ganframe_builtins.mlp"):
        assert word in result.stdout


@pytest.fixture
def trained(cli, tmp_path, tiny_root, monkeypatch):
    """A cgan and an mlp checkpoint trained on tiny MNIST; the data set is deleted afterwards."""
    paths = {}
    for model in ("cgan", "mlp"):
        out = tmp_path / model
        result = cli("run", "--model", model, "--max-steps", 3, "--data-root", tiny_root, "--seed", 0, "--out", out)
        assert result.exit_code == 0, result.output
        paths[model] = out / "checkpoints" / "step-0000003.pt"
    import shutil

    shutil.rmtree(tiny_root)  # sampling must not need the data set
    monkeypatch.setenv("GANFRAME_DATA", str(tmp_path / "nowhere"))
    return paths


def test_sample_png_and_pt_without_the_data_set(cli, trained, tmp_path):
    png = tmp_path / "grid.png"
    result = cli("sample", trained["cgan"], "--n", 30, "--out", png)
    assert result.exit_code == 0, result.output
    assert Image.open(png).size == (302, 92)  # 10 per row, 3 rows
    pt = tmp_path / "sevens.pt"
    result = cli("sample", trained["cgan"], "--digit", 7, "--n", 100, "--out", pt, "--seed", 1)
    assert result.exit_code == 0, result.output
    payload = torch.load(pt, weights_only=True)
    images, labels = payload["images"], payload["labels"]
    assert images.shape == (100, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= -1 and images.max() <= 1
    assert labels.dtype == torch.long and torch.equal(labels, torch.full((100,), 7))
    again = torch.load(tmp_path / "sevens.pt", weights_only=True)["images"]
    assert torch.equal(images, again)
    unconditional = tmp_path / "mlp.pt"
    assert cli("sample", trained["mlp"], "--n", 5, "--out", unconditional).exit_code == 0
    assert torch.load(unconditional, weights_only=True)["labels"] is None


def test_sample_accepts_a_run_directory(cli, trained, tmp_path):
    out = tmp_path / "latest.pt"
    assert cli("sample", trained["mlp"].parent.parent, "--n", 4, "--out", out).exit_code == 0
    assert torch.load(out, weights_only=True)["images"].shape == (4, 1, 28, 28)


def test_a_run_directory_never_yields_a_checkpoint_copied_in_from_another_run(cli, trained, tmp_path):
    """``sample`` / ``eval`` given a run directory read its own newest checkpoint (the run id in its
    config.json), passing over a newer file from another run and saying so."""
    import os
    import shutil

    run_dir = trained["cgan"].parent.parent
    copied = run_dir / "checkpoints" / "zz-from-mlp.pt"
    shutil.copy(trained["mlp"], copied)
    os.utime(copied, ns=(trained["cgan"].stat().st_mtime_ns + 10**9,) * 2)  # the newest file there
    out = tmp_path / "threes.pt"
    result = cli("sample", run_dir, "--digit", 3, "--n", 4, "--out", out, "--seed", 0)
    assert result.exit_code == 0, said(result)  # --digit works: the cgan's own checkpoint, not the mlp's
    assert "belongs to another run" in said(result) and str(copied) in said(result)
    direct = tmp_path / "direct.pt"
    assert cli("sample", trained["cgan"], "--digit", 3, "--n", 4, "--out", direct, "--seed", 0).exit_code == 0
    assert torch.equal(torch.load(out)["images"], torch.load(direct)["images"])
    trained["cgan"].unlink()  # only the other run's checkpoint left: refused, naming it
    result = cli("sample", run_dir, "--n", 4, "--out", tmp_path / "none.pt")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "is this run's own" in said(result) and not (tmp_path / "none.pt").exists()


# -- bad input: exit 2, one clear message, no traceback, no files ----------------------------


def assert_usage_error(result, *fragments):
    text = said(result)
    assert result.exit_code == 2, text
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["--model", "cgna"], ["Unknown model 'cgna'", "Did you mean 'cgan'", "ganframe plugins"]),
        (["--loss", "bce-smoth"], ["Unknown loss 'bce-smoth'", "Did you mean 'bce-smooth'", "ganframe plugins"]),
        (["--dataset", "mnsit"], ["Unknown dataset 'mnsit'", "Did you mean 'mnist'", "ganframe plugins"]),
        (["--generator", "mlp-smal"], ["Unknown generator 'mlp-smal'", "'mlp-small'"]),
        (["--model", "cgan", "--dataset", "ring"], ["'cgan' is conditional", "'ring' has no labels"]),
        (["--batch-size", "0"], ["--batch-size", "0"]),
        (["--epochs", "0"], ["--epochs", "0"]),
        (["--max-steps", "-3"], ["--max-steps"]),
        (["--optimizer", "adma"], ["'adma'", "Did you mean 'adam'"]),
        (["--model", "cgan", "--smooth", "0.8"], ["loss 'bce' has no option 'smooth'"]),
        (["--loss", "bce-smooth", "--smooth", "2"], ["--smooth must be in (0, 1]"]),
        (["--loss-option", "novalue"], ["--loss-option expects KEY=VALUE"]),
        (["--dataset", "ring", "--batch-size", "999999"], ["--batch-size 999999 is larger than"]),
    ],
)
def test_run_rejects_bad_input(cli, tmp_path, args, fragments):
    out = tmp_path / "never"
    result = cli("run", *args, "--out", out, "--data-root", tmp_path / "data")
    assert_usage_error(result, *fragments)
    assert not out.exists(), "a rejected run must not leave a run directory"


def test_run_refuses_a_non_empty_out_directory(cli, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert_usage_error(cli("run", "--dataset", "ring", "--out", out), "already exists and is not empty")
    assert (out / "keep.txt").read_text() == "mine"


def test_sample_rejects_bad_input(cli, trained, tmp_path):
    assert_usage_error(
        cli("sample", trained["cgan"], "--digit", 10, "--out", tmp_path / "x.png"),
        "--digit 10 is out of range",
        "0 to 9",
    )
    assert_usage_error(
        cli("sample", trained["mlp"], "--digit", 3, "--out", tmp_path / "x.png"), "--digit needs a conditional model"
    )
    assert_usage_error(cli("sample", tmp_path / "missing.pt", "--out", tmp_path / "x.png"), "does not exist")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    assert_usage_error(cli("sample", garbage, "--out", tmp_path / "x.png"), str(garbage), "truncated or corrupt")
    assert_usage_error(cli("sample", trained["mlp"], "--out", tmp_path / "x.jpg"), "must end in .png")
    assert_usage_error(cli("sample", trained["mlp"], "--n", 0, "--out", tmp_path / "x.png"), "--n")
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.jpg").exists()


def test_unknown_command_is_a_usage_error(cli):
    result = cli("trian")
    assert result.exit_code == 2 and "Traceback" not in result.output
