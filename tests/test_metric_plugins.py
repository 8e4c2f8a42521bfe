"""Metrics as plugins: the ``metric`` kind, ``--metrics`` / ``--eval-metrics``, declining data sets,
metric options, and the ``check_metric`` kit (no torch-fidelity needed here)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from ganframe import MetricDeclined, UsageError, hookimpl
from ganframe.evaluation.metric_set import build_metrics, parse_metric_names
from ganframe.plugin.manager import load_plugins
from ganframe.testing import check_metric
from ganframe.train.data import InMemoryDataset
from tests.helpers import said


def ring_like(n=64):
    return InMemoryDataset(torch.randn(n, 2).clamp(-1, 1))


def images(n=32, channels=1):
    return InMemoryDataset(torch.randint(0, 256, (n, channels, 8, 8), dtype=torch.uint8), torch.arange(n) % 2)


class RingModes:
    """A data set's own metric: a default that declines every data set but 'ring'."""

    def __init__(self, spec):
        if spec.dataset != "ring":
            raise MetricDeclined(f"modes covered is the ring's own figure; dataset '{spec.dataset}' is not 'ring'.")
        self.scale = spec.options.get("scale", 1.0)

    def score(self, samples, labels=None):
        return {"modes_covered": float((samples.norm(dim=1) > 0.1 * self.scale).sum())}


class RingPlugin:
    @hookimpl
    def register_metrics(self, register):
        register("modes", RingModes, help="modes covered (test)", default=True)


@pytest.fixture
def registry():
    return load_plugins(entry_points=False, extra=[(RingPlugin(), "ring-test", "ring-test", "1")]).registry


def test_metrics_are_a_component_kind_and_the_classifier_is_the_default(cli):
    result = cli("plugins", "--json")
    assert result.exit_code == 0, result.output
    metrics = {c["name"]: c for c in json.loads(result.stdout)["components"] if c["kind"] == "metric"}
    assert {"classifier", "fid", "kid", "is", "prc"} <= set(metrics)
    assert metrics["classifier"]["default"] is True and metrics["fid"]["default"] is False
    assert "Default metrics (ganframe eval without --metrics): classifier" in said(cli("plugins"))


def test_a_registration_with_a_bad_default_fails_the_plugin():
    class Bad:
        @hookimpl
        def register_metrics(self, register):
            register("bad", RingModes, default="yes")

    plugin_set = load_plugins(entry_points=False, extra=[(Bad(), "bad", "bad", "1")])
    assert plugin_set.registry.find("metric", "bad") is None
    assert any("default must be True or False" in p for p in plugin_set.problems)


def test_defaults_are_every_default_metric_that_accepts_the_data_set(registry, tmp_path):
    on_ring = build_metrics(registry, None, dataset="ring", train_set=ring_like(), data_root=tmp_path)
    assert [m.name for m in on_ring] == ["modes"]  # the classifier declined (no labels), the ring's own metric took it
    on_images = build_metrics(registry, None, dataset="mnist", train_set=images(), data_root=tmp_path)
    assert [m.name for m in on_images] == ["classifier"]
    assert on_ring[0].score(torch.ones(5, 2)) == {"modes_covered": 5.0}


def test_no_default_accepting_the_data_set_is_an_error_with_every_reason(tmp_path):
    plain = load_plugins(entry_points=False).registry
    with pytest.raises(UsageError) as caught:
        build_metrics(plain, None, dataset="ring", train_set=ring_like(), data_root=tmp_path, what="--eval-every")
    assert "No default metric can score dataset 'ring'" in caught.value.message
    assert "(classifier) --eval-every scores samples with a classifier" in caught.value.message
    assert "dataset 'ring' has no labels" in caught.value.message


def test_a_named_metric_that_declines_is_the_error(registry, tmp_path):
    with pytest.raises(MetricDeclined, match="dataset 'mnist' is not 'ring'"):
        build_metrics(registry, ["modes"], dataset="mnist", train_set=images(), data_root=tmp_path)


def test_metric_options_reach_every_metric_or_the_one_named(registry, tmp_path):
    chosen = build_metrics(
        registry, ["modes"], dataset="ring", train_set=ring_like(), data_root=tmp_path, options={"modes.scale": "100"}
    )
    assert chosen[0].metric.scale == 100.0 and chosen[0].score(torch.ones(3, 2)) == {"modes_covered": 0.0}
    chosen = build_metrics(
        registry, ["modes"], dataset="ring", train_set=ring_like(), data_root=tmp_path, options={"scale": "2"}
    )
    assert chosen[0].metric.scale == 2.0
    with pytest.raises(UsageError, match="metric 'modes' reads no option 'scal'. Did you mean 'scale'"):
        build_metrics(
            registry, ["modes"], dataset="ring", train_set=ring_like(), data_root=tmp_path, options={"modes.scal": "2"}
        )
    with pytest.raises(UsageError, match="is for metric 'classifier', which is not among the metrics scored"):
        build_metrics(
            registry,
            ["modes"],
            dataset="ring",
            train_set=ring_like(),
            data_root=tmp_path,
            options={"classifier.x": "2"},
        )


def test_metric_names_parse_and_typos_get_a_suggestion(cli, tmp_path):
    assert parse_metric_names("fid, kid,fid") == ["fid", "kid"] and parse_metric_names(None) is None
    with pytest.raises(UsageError, match="expects metric names"):
        parse_metric_names(" , ")
    result = cli("eval", tmp_path / "no-run", "--metrics", "clasifier")
    assert result.exit_code == 2 and "Unknown metric 'clasifier'" in said(result)
    assert "Did you mean 'classifier'?" in said(result) and "Traceback" not in result.output


def test_eval_metrics_need_eval_every(cli, tmp_path):
    result = cli("run", "--dataset", "ring", "--eval-metrics", "classifier", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "add --eval-every K" in said(result)
    assert not (tmp_path / "x").exists()


def test_eval_with_metrics_classifier_is_todays_output(cli, trained_root, tmp_path):
    run = tmp_path / "run"
    assert cli("run", "--data-root", trained_root, "--epochs", "1", "--seed", "0", "--out", run).exit_code == 0
    default = json.loads(cli("eval", run, "--n", "100", "--json").stdout)
    named = cli("eval", run, "--n", "100", "--json", "--metrics", "classifier")
    assert named.exit_code == 0, named.output
    named = json.loads(named.stdout)
    assert default["metrics"] == named["metrics"] and "frechet_distance" in named["metrics"]["classifier"]
    assert {k: v for k, v in default.items() if k != "seconds"} == {k: v for k, v in named.items() if k != "seconds"}
    table = cli("eval", run, "--n", "100", "--metrics", "classifier")
    assert table.exit_code == 0 and "Frechet distance" in table.output


def test_eval_every_with_a_misspelled_metric_option_fails_before_writing(cli, trained_root, tmp_path):
    out = tmp_path / "run"
    result = cli(
        "run",
        "--data-root",
        trained_root,
        "--epochs",
        "1",
        "--out",
        out,
        "--eval-every",
        "1",
        "--eval-metrics",
        "classifier",
        "--eval-metric-option",
        "wieghts=x",
    )
    assert result.exit_code == 2 and "--eval-metric-option wieghts=x" in said(result)
    assert not out.exists()


def test_eval_every_with_named_metrics_logs_their_figures(cli, trained_root, tmp_path):
    from tests.runs import metrics_rows

    out = tmp_path / "run"
    result = cli(
        "run",
        "--data-root",
        trained_root,
        "--epochs",
        "1",
        "--seed",
        "0",
        "--out",
        out,
        "--eval-every",
        "1",
        "--eval-samples",
        "50",
        "--eval-metrics",
        "classifier",
    )
    assert result.exit_code == 0, result.output
    evals = [r for r in metrics_rows(out) if "eval/frechet_distance" in r]
    assert len(evals) == 1 and evals[0]["eval/train_seconds"] > 0 and math.isfinite(evals[0]["eval/class_kl"])


# -- the kit ---------------------------------------------------------------------------------


def test_check_metric_passes_the_classifier_and_its_declines(trained_root):
    figures = check_metric("classifier", dataset="mnist", root=trained_root, unsupported=["ring"])
    assert figures["classes_covered"] >= 1 and figures["frechet_distance"] >= 0


class NaNMetric:
    def __init__(self, spec):
        pass

    def score(self, samples, labels=None):
        return {"x": float("nan")}


class ShiftingKeys:
    calls = 0

    def __init__(self, spec):
        pass

    def score(self, samples, labels=None):
        ShiftingKeys.calls += 1
        return {f"x{ShiftingKeys.calls}": 1.0}


class TensorFigure:
    def __init__(self, spec):
        pass

    def score(self, samples, labels=None):
        return {"x": samples.mean()}


class AcceptsAnything:
    def __init__(self, spec):
        pass

    def score(self, samples, labels=None):
        return {"x": 1.0}


class DeclinesVaguely:
    def __init__(self, spec):
        if spec.train_set.data.dim() != 4:
            raise MetricDeclined("cannot do that")

    def score(self, samples, labels=None):
        return {"x": 1.0}


@pytest.mark.parametrize(
    "factory, message",
    [
        (NaNMetric, "x=nan; figures must be finite"),
        (ShiftingKeys, "different keys"),
        (TensorFigure, "figures must be Python floats"),
        (AcceptsAnything, "accepted dataset 'check-metric-unsupported-0', which it was expected to decline"),
        (DeclinesVaguely, "without naming it"),
    ],
)
def test_check_metric_catches_broken_metrics(factory, message):
    with pytest.raises(AssertionError, match=message):
        check_metric(factory, dataset=images(), unsupported=[ring_like()])
