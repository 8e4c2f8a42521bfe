"""``ganframe eval`` and ``ganframe run --eval-every`` end to end on tiny synthetic data."""

import json

import pytest
import torch

from tests.helpers import said
from tests.runs import metrics_rows


def train_run(cli, root, out, *extra):
    result = cli("run", "--data-root", root, "--epochs", "2", "--seed", "0", "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def cgan_run(cli, trained_root, tmp_path):
    return train_run(cli, trained_root, tmp_path / "cgan", "--model", "cgan")


def test_eval_json_reports_every_figure(cli, cgan_run, trained_root):
    result = cli("eval", cgan_run, "--data-root", trained_root, "--n", "300", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n"] == 300 and doc["conditional"] is True and doc["dataset"] == "mnist"
    assert 0 <= doc["classes_covered"] <= doc["num_classes"] == 10
    assert len(doc["class_shares"]) == 10 and sum(doc["class_shares"]) == pytest.approx(1.0)
    assert 0 <= doc["class_kl"] <= 2.303 and 0.1 <= doc["confidence"] <= 1.0
    assert doc["frechet_distance"] >= 0
    assert 0 <= doc["label_accuracy"] <= 1 and len(doc["label_accuracy_per_class"]) == 10
    assert doc["classifier"]["trained_now"] is False  # reused from the data root's cache
    assert doc["classifier"]["path"].startswith(str(trained_root))
    trained = json.loads(cli("eval", cgan_run, "--n", "300", "--json", "--weights", "trained").stdout)
    assert doc["weights"] == "ema" and trained["weights"] == "trained"  # cgan keeps an average by default
    assert trained["frechet_distance"] != doc["frechet_distance"]


def test_eval_is_repeatable_and_finds_the_recorded_data_root(cli, cgan_run, trained_root, monkeypatch, tmp_path):
    monkeypatch.setenv("GANFRAME_DATA", str(tmp_path / "elsewhere"))  # the checkpoint's own root wins
    runs = [json.loads(cli("eval", cgan_run, "--n", "200", "--json", "--seed", "3").stdout) for _ in range(2)]
    assert runs[0]["data_root"] == str(trained_root) and not runs[0]["classifier"]["trained_now"]
    assert runs[0]["class_shares"] == runs[1]["class_shares"]
    assert runs[0]["frechet_distance"] == pytest.approx(runs[1]["frechet_distance"])


def test_eval_table(cli, cgan_run):
    result = cli("eval", cgan_run, "--n", "100")
    assert result.exit_code == 0, result.output
    for text in ("classes covered", "class KL", "confidence", "Frechet distance", "label accuracy", "per class"):
        assert text in result.stdout


def test_unconditional_model_has_no_label_accuracy(cli, trained_root, tmp_path):
    run = train_run(cli, trained_root, tmp_path / "mlp", "--model", "mlp-small", "--max-steps", "3")
    doc = json.loads(cli("eval", run, "--n", "100", "--json").stdout)
    assert "label_accuracy" not in doc and doc["conditional"] is False


def test_eval_of_a_ring_run_reports_its_mode_coverage(cli, tmp_path):
    """ring has no labels but scores its own samples: no classifier is trained or cached."""
    run = train_run(cli, tmp_path, tmp_path / "ring", "--dataset", "ring", "--max-steps", "2")
    result = cli("eval", run, "--n", "500", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "ring" and doc["n"] == 500 and doc["num_modes"] == 8
    assert 0 <= doc["modes_covered"] <= 8 and 0.0 <= doc["high_quality_share"] <= 1.0
    assert len(doc["mode_counts"]) == 8 and sum(doc["mode_counts"]) == doc["high_quality"]
    assert doc["high_quality"] == round(doc["high_quality_share"] * 500)
    assert "classifier" not in doc and list(doc["metrics"]) == ["dataset"] and "ring" in doc["source"]
    assert not (tmp_path / "ganframe-classifiers").exists()
    table = cli("eval", run, "--n", "500")
    assert table.exit_code == 0, table.output
    for text in ("modes covered", "/ 8", "high-quality share", "per mode"):
        assert text in table.stdout


def test_an_unlabelled_data_set_is_declined_by_the_classifier_and_scored_by_its_own_metric():
    from types import SimpleNamespace

    from ganframe.errors import MetricDeclined
    from ganframe.evaluation.dataset_metric import dataset_metric
    from ganframe.evaluation.evaluator import check_evaluable
    from ganframe.train.data import InMemoryDataset

    points = InMemoryDataset(torch.zeros(10, 2))
    spec = SimpleNamespace(train_set=points, dataset="points")
    with pytest.raises(MetricDeclined, match="dataset 'points' has no labels"):
        check_evaluable(points, "points")
    with pytest.raises(MetricDeclined, match="dataset 'points' offers no quality metric of its own"):
        dataset_metric(spec)
    points.quality_metrics = lambda samples: {"mean": float(samples.mean()), "parts": [1, 2]}
    metric = dataset_metric(spec)  # a metric of its own makes it evaluable
    assert metric.score(torch.ones(4, 2)) == {"mean": 1.0}
    assert metric.report(torch.ones(4, 2))["parts"] == [1, 2]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--mode", "evl"], "Did you mean 'eval'"),
        (["--n", "1"], "--n must be at least 2"),
        (["--device", "gpu"], "Invalid value 'gpu' for --device. Did you mean 'cpu'?"),
        (["--weights", "avg"], "Invalid value 'avg' for --weights."),
    ],
)
def test_bad_options_are_rejected_before_any_work(cli, tmp_path, args, expected):
    result = cli("eval", tmp_path / "missing.pt", *args)
    assert result.exit_code == 2 and expected in said(result) and "Traceback" not in result.output


def test_missing_checkpoint_is_one_clear_error(cli, tmp_path):
    result = cli("eval", tmp_path / "missing.pt")
    assert result.exit_code == 2 and "does not exist" in said(result)


def test_eval_every_logs_the_figures_to_metrics_jsonl(cli, trained_root, tmp_path):
    out = train_run(
        cli,
        trained_root,
        tmp_path / "run",
        "--model",
        "cgan",
        "--epochs",
        "3",
        "--eval-every",
        "2",
        "--eval-samples",
        "200",
    )
    records = metrics_rows(out)
    evals = [r for r in records if "eval/classes_covered" in r]
    assert [r["epoch"] for r in evals] == [2, 3]  # every 2nd epoch, and after the last
    for record in evals:
        assert {"eval/class_kl", "eval/confidence", "eval/frechet_distance", "eval/label_accuracy"} <= set(record)
        assert "eval/label_accuracy/7" in record


def test_summary_at_the_end_shows_the_latest_figures(cli, trained_root, tmp_path):
    result = cli(
        "run",
        "--data-root",
        trained_root,
        "--epochs",
        "2",
        "--seed",
        "0",
        "--out",
        tmp_path / "r",
        "--model",
        "cgan",
        "--eval-every",
        "1",
        "--eval-samples",
        "100",
    )
    assert result.exit_code == 0, result.output
    summary = result.output[result.output.index("Run summary") :]
    for text in (
        "finished after 8 steps, 2 epoch(s)",
        "final D loss",
        "final D(G(z))",
        "evaluated at",
        "epoch 2 (100 samples)",
        "classes covered (> 2%)",
        "label accuracy",
        "time per epoch",
        "samples/progress.png",
    ):
        assert text in summary
    assert "\x1b[" not in result.output, "plain text when not on a terminal"


def test_eval_every_does_not_change_training(cli, trained_root, tmp_path):
    """Evaluation draws its own noise and restores the global RNG (which dropout uses when sampling
    in train mode): the trained weights are the same with and without it."""
    import torch

    weights = []
    for name, extra in (("plain", []), ("evaluated", ["--eval-every", "1", "--eval-samples", "50"])):
        torch.manual_seed(0)  # networks are initialised before the run's seed is applied
        out = train_run(cli, trained_root, tmp_path / name, "--model", "mlp", "--sample-mode", "train", *extra)
        weights.append(torch.load(out / "checkpoints" / "epoch-0002.pt", weights_only=True)["generator"])
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_eval_every_on_ring_logs_its_mode_coverage(cli, tmp_path):
    out = tmp_path / "ring-run"
    result = cli(
        "run",
        "--dataset",
        "ring",
        "--dataset-option",
        "samples=640",
        "--epochs",
        "2",
        "--seed",
        "0",
        "--eval-every",
        "1",
        "--eval-samples",
        "300",
        "--out",
        out,
        "--data-root",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    evals = [r for r in metrics_rows(out) if "eval/modes_covered" in r]
    assert [r["epoch"] for r in evals] == [1, 2]
    for record in evals:
        assert record["eval/num_modes"] == 8 and 0 <= record["eval/modes_covered"] <= 8
        assert 0.0 <= record["eval/high_quality_share"] <= 1.0
        assert not any(key.startswith("eval/mode_counts") for key in record)
    summary = result.output[result.output.index("Run summary") :]
    assert "modes covered" in summary and "of 8" in summary and "high-quality samples" in summary
    assert not (tmp_path / "ganframe-classifiers").exists()


def test_eval_every_must_be_positive(cli, tmp_path):
    result = cli("run", "--dataset", "ring", "--eval-every", "0", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "--eval-every must be a positive whole number" in said(result)


def test_a_class_count_mismatch_is_found_before_any_classifier_is_trained(cli, tmp_path):
    """A conditional checkpoint with 12 classes against a 10-class data root without a cached
    classifier: the error comes at once, nothing is trained or written into the data root."""
    from tests.idx import make_mnist_root
    from tests.runs import rewrite_newest

    root = make_mnist_root(tmp_path / "data")
    run = train_run(cli, root, tmp_path / "cgan", "--model", "cgan", "--max-steps", "2")

    def twelve_classes(payload):
        payload["model"]["num_classes"] = 12
        for state in (payload["generator"], payload["generator_ema"]["network"]):
            state["embeddings.weight"] = torch.cat([state["embeddings.weight"], state["embeddings.weight"][:2]])

    rewrite_newest(run, twelve_classes)
    result = cli("eval", run, "--n", "100")
    assert result.exit_code == 2 and "has 12 classes but dataset 'mnist'" in said(result)
    assert not (root / "ganframe-classifiers").exists() and "Training the evaluation classifier" not in result.output
