"""Defaults are never ambiguous: a plugin registering a common name cannot break a built-in that
never mentions it; only options the user gave are recorded; InMemoryDataset refuses labels a
conditional model would index out of range."""

from __future__ import annotations

import json

import pytest
import torch

from ganframe.train.data import InMemoryDataset
from tests.helpers import said
from tests.plugin_dists import LOSS_PLUGIN

RING = ["--dataset", "ring", "--dataset-option", "samples=640", "--device", "cpu", "--max-steps", "2"]

#: a model whose registered default loss is 'bce', from a distribution that registers its own 'bce'
OWN_BCE = """
from ganframe import hookimpl


@hookimpl
def register_generators(register):
    register("own", "ganframe_builtins.mlp:mlp_small_generator", defaults={"loss": "{loss}"})


@hookimpl
def register_discriminators(register):
    register("own", "ganframe_builtins.mlp:mlp_small_discriminator")


@hookimpl
def register_losses(register):
    register("{loss}", "ganframe_builtins.bce_losses:BCELoss", help="own-model's")
"""

#: a data set whose factory's default depends on the split, as many do
SPLIT_SIZED = """
from ganframe import hookimpl


def points(spec):
    import torch
    from ganframe import InMemoryDataset

    samples = spec.options.get("samples", 640 if spec.train else 100)
    return InMemoryDataset(torch.rand(samples, 2) * 2 - 1)


@hookimpl
def register_datasets(register):
    register("split-sized", points)
"""


def components(out) -> dict:
    return json.loads((out / "config.json").read_text())["components"]


@pytest.mark.parametrize("model, loss", [("mlp-small", "ganframe:bce"), ("mlp", "ganframe:bce-smooth")])
def test_a_plugin_registering_a_builtin_name_leaves_the_builtin_models_default_loss_alone(
    cli, site, tmp_path, model, loss
):
    site.add("gf-bce", {"gf_bce": LOSS_PLUGIN.format(name=loss.split(":")[1], help="a plugin's")})
    out = tmp_path / "run"
    result = cli("run", "--model", model, *RING, "--out", out)
    assert result.exit_code == 0, result.output
    assert components(out)["loss"] == loss


def test_a_plugin_registering_the_default_model_and_data_set_names_leaves_the_defaults_alone(cli, site, tmp_path):
    site.add(
        "gf-shadow",
        {
            "gf_shadow": OWN_BCE.replace("own", "mlp").replace("{loss}", "shadow-loss")
            + "\n@hookimpl\ndef register_datasets(register):\n"
            "    register('ring', 'ganframe_builtins.toy_datasets:ring')\n"
        },
    )
    out = tmp_path / "run"
    result = cli("run", "--dataset-option", "samples=640", "--dataset", "ring", "--max-steps", 2, "--out", out)
    assert result.exit_code == 2  # --dataset ring was typed: that one is ambiguous
    assert "(from --dataset ring)" in said(result) and "'ganframe:ring', 'gf-shadow:ring'" in said(result)
    result = cli(
        "run",
        "--dataset-option",
        "samples=640",
        "--loss",
        "bce",
        "--max-steps",
        2,
        "--out",
        out,
        "--data-root",
        tmp_path / "no-mnist-here",
    )  # default --model mlp and --dataset mnist: not typed
    assert "ambiguous" not in said(result) and "MNIST is not available" in said(result)


def test_a_typed_ambiguous_name_is_refused_and_says_the_user_typed_it(cli, site, tmp_path):
    site.add("gf-bce", {"gf_bce": LOSS_PLUGIN.format(name="bce", help="a plugin's")})
    out = tmp_path / "run"
    result = cli("run", "--model", "mlp-small", "--loss", "bce", *RING, "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "(from --loss bce)" in said(result) and "'ganframe:bce', 'gf-bce:bce'" in said(result)
    assert not out.exists()


def test_a_models_default_loss_is_its_own_distributions(cli, site, tmp_path):
    site.add("own-model", {"own_model": OWN_BCE.replace("{loss}", "bce")})
    out = tmp_path / "run"
    result = cli("run", "--model", "own", *RING, "--out", out)
    assert result.exit_code == 0, result.output
    assert components(out)["loss"] == "own-model:bce"


def test_an_ambiguous_default_says_where_it_came_from(cli, site, tmp_path):
    site.add("own-model", {"own_model": OWN_BCE.replace("{loss}", "wloss").split("@hookimpl\ndef register_losses")[0]})
    site.add("gf-a", {"gf_a": LOSS_PLUGIN.format(name="wloss", help="a")})
    site.add("gf-b", {"gf_b": LOSS_PLUGIN.format(name="wloss", help="b")})
    out = tmp_path / "run"
    result = cli("run", "--model", "own", *RING, "--out", out)
    assert result.exit_code == 2, result.output
    message = said(result)
    assert "the default loss of model 'own-model:own', from its registered defaults" in message
    assert "--loss wloss" not in message and "'gf-a:wloss', 'gf-b:wloss'" in message and "with --loss" in message


def test_only_options_the_user_gave_are_recorded_and_passed_back(cli, site, tmp_path):
    from ganframe.evaluation.data_splits import load_splits
    from ganframe.plugin.manager import get_plugins

    site.add("split-sized", {"split_sized": SPLIT_SIZED})
    out = tmp_path / "run"
    result = cli(
        "run",
        "--dataset",
        "split-sized",
        "--model",
        "mlp-small",
        "--max-steps",
        2,
        "--device",
        "cpu",
        "--loss",
        "bce-smooth",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["dataset_options"] == {} and config["loss_options"] == {} and config["model_options"] == {}
    train, held_out = load_splits(get_plugins().registry, "split-sized", tmp_path, config["dataset_options"])
    assert (len(train), len(held_out)) == (640, 100)  # the held-out split keeps its own default
    given = tmp_path / "given"
    assert (
        cli(
            "run",
            "--dataset",
            "split-sized",
            "--dataset-option",
            "samples=320",
            "--model",
            "mlp-small",
            "--max-steps",
            2,
            "--device",
            "cpu",
            "--out",
            given,
        ).exit_code
        == 0
    )
    assert json.loads((given / "config.json").read_text())["dataset_options"] == {"samples": "320"}
    resumed = cli("run", "--resume", given, "--epochs", 1)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((given / "config.json").read_text())["dataset_options"] == {"samples": "320"}


@pytest.mark.parametrize(
    "labels, kwargs, message",
    [
        (torch.tensor([0.0, 1.5, 2.0, 1.0]), {}, "whole class indices"),
        (torch.tensor([0, 1, 10, 3]), {"num_classes": 10}, "label 10 at index 2"),
        (torch.tensor([0, -1, 2, 3]), {}, "label -1 at index 1"),
        (torch.tensor([True, False, True, True]), {}, "whole class indices"),
        (torch.tensor([[0], [1], [2], [3]]), {}, "shape (4,)"),
        (torch.tensor([0, 1, 2]), {}, "shape (4,)"),
    ],
)
def test_in_memory_datasets_refuse_labels_a_model_cannot_use(labels, kwargs, message):
    with pytest.raises(ValueError) as info:
        InMemoryDataset(torch.zeros(4, 2), labels, **kwargs)
    assert message in str(info.value)


def test_in_memory_dataset_labels_in_range_count_their_classes():
    assert InMemoryDataset(torch.zeros(4, 2), torch.tensor([0, 1, 4, 1], dtype=torch.uint8)).num_classes == 5
    assert InMemoryDataset(torch.zeros(4, 2), torch.tensor([0, 1, 2, 1]), num_classes=10).num_classes == 10
