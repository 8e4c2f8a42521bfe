"""FID, KID, IS and precision/recall through torch-fidelity, with no network.

The Inception pipeline is the library's own, run with randomly initialised
weights saved to a temporary file in the format the library loads, so the
plumbing (weights option, uint8 conversion, feature extraction, the
real-image cache, the library's metric functions) is real while the numbers
mean nothing. Inception's input size is lowered from 299 to 75 (its minimum)
for these tests only, so a CPU extracts features in milliseconds.
"""

from __future__ import annotations

import json
import math
import urllib.error

import pytest
import torch

torch_fidelity = pytest.importorskip("torch_fidelity")

from torch_fidelity import feature_extractor_inceptionv3 as inception_module  # noqa: E402

from ganframe import MetricSpec, Options, UsageError  # noqa: E402
from ganframe.evaluation.metrics import feature_statistics, frechet_distance  # noqa: E402
from ganframe.testing import check_metric  # noqa: E402
from ganframe.train.data import InMemoryDataset  # noqa: E402
from ganframe_builtins import fidelity_metrics, inception_features  # noqa: E402
from tests.helpers import said  # noqa: E402

WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """torch-fidelity's FeatureExtractorInceptionV3, randomly initialised (He init, so features vary with
    the input), saved as the state dict the library loads from feature_extractor_weights_path."""
    cls = inception_module.FeatureExtractorInceptionV3
    original_url_loader, original_load = inception_module.load_state_dict_from_url, cls.load_state_dict
    inception_module.load_state_dict_from_url = lambda *a, **k: None
    cls.load_state_dict = lambda self, *a, **k: None
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            network = cls("inception-v3-compat", ["2048"])
            for module in network.modules():
                if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                    torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    finally:
        inception_module.load_state_dict_from_url, cls.load_state_dict = original_url_loader, original_load
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(network.state_dict(), path)
    return path


@pytest.fixture(autouse=True)
def small_inception(monkeypatch):
    monkeypatch.setattr(inception_module.FeatureExtractorInceptionV3, "INPUT_IMAGE_SIZE", 75)
    inception_features.forget()
    yield
    inception_features.forget()


def rgb_images(n, seed, channels=3, size=16):
    g = torch.Generator().manual_seed(seed)
    return InMemoryDataset(
        torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8, generator=g), torch.arange(n) % 2
    )


def spec_for(dataset, root, options, name="toy"):
    return MetricSpec(
        dataset=name, train_set=dataset, data_root=root, options=Options(options), load_test_set=lambda: dataset
    )


def test_to_uint8_rgb_maps_the_sample_range_and_repeats_grey():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 2, 2)
    out = inception_features.to_uint8_rgb(x)
    assert out.dtype == torch.uint8 and out.shape == (1, 3, 2, 2)
    assert out[0, 0].flatten().tolist() == [0, 128, 255, 255] and torch.equal(out[0, 0], out[0, 2])


def test_our_frechet_distance_matches_the_librarys_function():
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    g = torch.Generator().manual_seed(0)
    a, b = (
        torch.randn(300, 16, generator=g, dtype=torch.float64),
        torch.randn(200, 16, generator=g, dtype=torch.float64) * 1.5 + 0.3,
    )
    ours = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    theirs = fid_statistics_to_metric(fid_features_to_statistics(a), fid_features_to_statistics(b), verbose=False)
    assert ours == pytest.approx(theirs["frechet_inception_distance"], rel=1e-6) and ours > 1


def test_every_figure_matches_torch_fidelitys_own_calculate_metrics(random_weights, tmp_path):
    real, fake = rgb_images(12, seed=1), rgb_images(12, seed=2)
    samples = fake.data.float() / 127.5 - 1  # what a generator returns
    figures = {}
    for factory, options in (
        (fidelity_metrics.fid_metric, {}),
        (fidelity_metrics.kid_metric, {"subset_size": "6"}),
        (fidelity_metrics.is_metric, {"splits": "2"}),
        (fidelity_metrics.prc_metric, {"features": "inception"}),
    ):
        metric = factory(spec_for(real, tmp_path, {"weights": str(random_weights), **options}))
        metric.prepare()
        figures.update(metric.score(samples))

    class Images(torch.utils.data.Dataset):
        def __init__(self, data):
            self.data = data

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            return self.data[i]

    theirs = torch_fidelity.calculate_metrics(
        input1=Images(fake.data),
        input2=Images(real.data),
        cuda=False,
        fid=True,
        kid=True,
        isc=True,
        prc=True,
        feature_extractor="inception-v3-compat",  # prc defaults to VGG16 there as here; both compared on Inception
        kid_subset_size=6,
        isc_splits=2,
        feature_extractor_weights_path=str(random_weights),
        cache=False,
        verbose=False,
        save_cpu_ram=True,
    )
    assert all(math.isfinite(v) for v in figures.values()) and figures["fid"] > 0
    assert figures["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-4)
    assert figures["kid_mean"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-4, abs=1e-9)
    assert figures["is_mean"] == pytest.approx(theirs["inception_score_mean"], rel=1e-5)
    assert figures["precision"] == pytest.approx(theirs["precision"])
    assert figures["recall"] == pytest.approx(theirs["recall"])


def test_real_features_are_computed_once_and_cached_beside_the_data(random_weights, tmp_path, monkeypatch):
    from torch_fidelity import utils as fidelity_utils

    calls = []
    original = fidelity_utils.get_featuresdict_from_dataset

    def counting(dataset, *args, **kwargs):
        calls.append(len(dataset))
        return original(dataset, *args, **kwargs)

    monkeypatch.setattr(fidelity_utils, "get_featuresdict_from_dataset", counting)
    real = rgb_images(10, seed=3)
    samples = rgb_images(7, seed=4).data.float() / 127.5 - 1
    options = {"weights": str(random_weights), "subset_size": "5"}
    first = fidelity_metrics.kid_metric(spec_for(real, tmp_path, options))  # KID: quicker than FID's 2048-d eigenvalues
    first.prepare()
    value = first.score(samples)["kid_mean"]
    assert calls == [10, 7]
    cached = list((tmp_path / "ganframe-inception").glob("toy-test-*.pt"))
    assert len(cached) == 1
    inception_features.forget()  # a new process: only the file remains
    second = fidelity_metrics.kid_metric(spec_for(real, tmp_path, options))
    second.prepare()
    assert second.score(samples)["kid_mean"] == pytest.approx(value)
    assert calls == [10, 7, 7], "the real images were read from the cache, the samples again"
    prc = fidelity_metrics.prc_metric(
        spec_for(real, tmp_path, {"weights": str(random_weights), "features": "inception"})
    )
    prc.score(samples)
    assert calls == [10, 7, 7], "a second metric on the same samples reuses their features"
    changed = rgb_images(10, seed=5)
    fidelity_metrics.fid_metric(spec_for(changed, tmp_path, {"weights": str(random_weights)})).prepare()
    assert calls[-1] == 10 and len(list((tmp_path / "ganframe-inception").glob("*.pt"))) == 2  # other data, other key


def test_the_kit_passes_each_metric_and_they_decline_points(random_weights, tmp_path):
    data = rgb_images(12, seed=6, channels=1)  # grey images are repeated to 3 channels
    ring = InMemoryDataset(torch.rand(20, 2) * 2 - 1)
    for name, options in (
        ("fid", {}),
        ("kid", {"kid.subset_size": "4"}),
        ("is", {"is.splits": "2"}),
        ("prc", {"prc.features": "inception"}),
    ):
        options = {key.split(".", 1)[-1]: value for key, value in options.items()}
        figures = check_metric(
            name,
            dataset=data,
            root=tmp_path,
            options={"weights": str(random_weights), **options},
            unsupported=[ring],
            n=8,
        )
        assert figures and all(math.isfinite(v) for v in figures.values())


def test_a_missing_extra_names_the_pip_command(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "torch_fidelity", None)
    with pytest.raises(UsageError, match=r'pip install "ganframe\[fidelity\]"'):
        fidelity_metrics.fid_metric(spec_for(rgb_images(4, 0), tmp_path, {}))


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, trained_root):
    from typer.testing import CliRunner

    from ganframe.cli import app

    out = tmp_path_factory.mktemp("fidelity") / "run"
    result = CliRunner().invoke(
        app, ["run", "--data-root", str(trained_root), "--epochs", "1", "--seed", "0", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_offline_without_weights_says_which_file_to_put_where(cli, mnist_run, monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(inception_module, "load_state_dict_from_url", offline)
    result = cli("eval", mnist_run, "--n", "8", "--metrics", "fid")
    assert result.exit_code == 2, result.output
    text = said(result)
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / WEIGHTS_NAME) in text
    assert inception_module.URL_INCEPTION_V3 in text and "--metric-option weights=PATH" in text
    assert "Traceback" not in result.output


def test_prc_uses_vgg16_by_default_and_names_its_weights_file_offline(monkeypatch, tmp_path):
    from torch_fidelity import feature_extractor_vgg16

    def offline(**kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(feature_extractor_vgg16, "torchvision_load_pretrained_vgg16", offline)
    metric = fidelity_metrics.prc_metric(spec_for(rgb_images(6, 0), tmp_path, {}))
    assert metric.extractor == "vgg16" and metric.layer == "fc2_relu"
    with pytest.raises(UsageError) as caught:
        metric.prepare()
    text = caught.value.message
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth") in text
    assert "https://download.pytorch.org/models/vgg16-397923af.pth" in text and "vgg16_weights=PATH" in text
    with pytest.raises(UsageError, match="features=resnet"):
        fidelity_metrics.prc_metric(spec_for(rgb_images(6, 0), tmp_path, {"features": "resnet"}))


def test_a_missing_or_wrong_weights_file_is_a_usage_error(cli, mnist_run, tmp_path):
    result = cli(
        "eval", mnist_run, "--n", "8", "--metrics", "fid", "--metric-option", f"weights={tmp_path / 'nope.pth'}"
    )
    assert result.exit_code == 2 and "no such file" in said(result)
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, wrong)
    result = cli("eval", mnist_run, "--n", "8", "--metrics", "fid", "--metric-option", f"weights={wrong}")
    assert result.exit_code == 2 and "is not the InceptionV3 state dict torch-fidelity loads" in said(result)


def test_eval_scores_fid_kid_is_prc_end_to_end_with_a_weights_file(cli, mnist_run, random_weights):
    result = cli(
        "eval",
        mnist_run,
        "--n",
        "16",
        "--json",
        "--metrics",
        "fid,kid,is,prc",
        "--metric-option",
        f"weights={random_weights}",
        "--metric-option",
        "kid.subset_size=8",
        "--metric-option",
        "is.splits=2",
        "--metric-option",
        "prc.features=inception",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc["metrics"]) == ["fid", "kid", "is", "prc"]
    for key in ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall", "f_score"):
        assert math.isfinite(doc[key]), key
    assert "classes_covered" not in doc  # only what was asked for
    table = cli(
        "eval",
        mnist_run,
        "--n",
        "16",
        "--metrics",
        "kid",
        "--metric-option",
        f"weights={random_weights}",
        "--metric-option",
        "subset_size=8",
    )
    assert table.exit_code == 0 and "kid_mean" in table.output


def test_eval_every_logs_inception_figures_during_training(cli, trained_root, random_weights, tmp_path):
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
        "16",
        "--eval-metrics",
        "kid,is",
        "--eval-metric-option",
        f"weights={random_weights}",
        "--eval-metric-option",
        "kid.subset_size=8",
        "--eval-metric-option",
        "is.splits=2",
    )
    assert result.exit_code == 0, result.output
    evals = [row for row in metrics_rows(out) if "eval/kid_mean" in row]
    assert len(evals) == 1 and evals[0]["eval/train_seconds"] > 0
    assert all(math.isfinite(evals[0][key]) for key in ("eval/kid_mean", "eval/kid_std", "eval/is_mean", "eval/is_std"))
    assert "eval/frechet_distance" not in evals[0]  # only the metrics asked for


class FileByFile:
    """A data set read item by item (like image-folder's fallback for folders larger than RAM): no ``data``."""

    def __init__(self, images, folder):
        self.images = images
        self.files = []
        for i in range(len(images)):
            path = folder / f"{i}.bin"
            path.write_bytes(images[i].numpy().tobytes())
            self.files.append(path)
        self.sample_shape = tuple(images.shape[1:])
        self.num_classes, self.labels = 0, None

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.images[i].float() / 127.5 - 1, -1


def test_real_images_read_file_by_file_give_the_same_features_and_are_cached(random_weights, tmp_path):
    pixels = rgb_images(6, seed=7).data
    (tmp_path / "files").mkdir()
    lazy = FileByFile(pixels, tmp_path / "files")
    options = {"weights": str(random_weights), "features": "inception"}
    metric = fidelity_metrics.prc_metric(spec_for(lazy, tmp_path, options, name="folder"))
    metric.prepare()
    from_files = inception_features.InceptionFeatures.real_features(metric.features, metric.spec, "test")
    in_memory = metric.features.features(pixels)
    assert torch.allclose(from_files["2048"], in_memory["2048"], atol=1e-5)
    assert len(list((tmp_path / "ganframe-inception").glob("folder-test-*.pt"))) == 1
