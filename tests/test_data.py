"""Data roots, the torchvision loaders (on tiny IDX files), the ring and both batching paths."""

from pathlib import Path

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.errors import GanframeError, UsageError
from ganframe.plugin.specs import DatasetSpec, Options
from ganframe.run.data_root import resolve_data_root, user_cache_dir
from ganframe.train.data import DeviceBatches, InMemoryDataset, LoaderBatches
from tests.idx import synthetic_digits


def load(plugin_set, name, root, train=True, **options):
    factory = plugin_set.registry.get("dataset", name).load()
    return factory(DatasetSpec(root=Path(root), train=train, options=Options({k: str(v) for k, v in options.items()})))


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("GANFRAME_DATA", raising=False)
    assert resolve_data_root(None) == user_cache_dir() == tmp_path / "cache" / "ganframe" / "data"
    monkeypatch.setenv("GANFRAME_DATA", str(tmp_path / "env"))
    assert resolve_data_root(None) == tmp_path / "env"
    assert resolve_data_root(str(tmp_path / "cli")) == tmp_path / "cli"


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_loaders_read_idx_files(plugin_set, tiny_root, name, folder):
    train = load(plugin_set, name, tiny_root)
    test = load(plugin_set, name, tiny_root, train=False)
    images, labels = synthetic_digits(256, seed=0)
    assert isinstance(train, InMemoryDataset)
    assert train.data.shape == (256, 1, 28, 28) and train.data.dtype == torch.uint8
    assert torch.equal(train.data[:, 0], images) and torch.equal(train.labels, labels)
    assert train.num_classes == 10 and len(train.class_names) == 10
    assert len(test) == 64
    x, y = train[0]
    assert x.shape == (1, 28, 28) and x.min() >= -1 and x.max() <= 1 and int(y) == int(labels[0])


def test_pixels_scale_like_totensor_and_normalize(plugin_set, tiny_root):
    dataset = load(plugin_set, "mnist", tiny_root)
    x, _ = dataset[0]
    raw = dataset.data[0].float()
    expected = (raw / 255 - 0.5) / 0.5  # ToTensor + Normalize(0.5, 0.5), as in the small MLP GAN tutorial
    assert torch.allclose(x, expected, atol=1e-6)
    assert x.max() == 1.0 and (raw == 255).any()


def test_offline_download_failure_names_folder_files_and_env(plugin_set, tmp_path, monkeypatch):
    from urllib.error import URLError

    from torchvision.datasets import MNIST

    def offline(self):
        raise URLError("no network")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(GanframeError) as info:
        load(plugin_set, "mnist", tmp_path / "empty")
    message = info.value.message
    assert str(tmp_path / "empty" / "MNIST" / "raw") in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        assert name in message
    assert "GANFRAME_DATA" in message and "no network" in message


def test_corrupt_idx_file_is_a_clear_error(plugin_set, tiny_root):
    raw = tiny_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:1000])
    with pytest.raises(GanframeError, match="could not read|Could not read"):
        load(plugin_set, "mnist", tiny_root)


def test_ring_is_eight_gaussians_on_a_circle(plugin_set, tmp_path):
    ring = load(plugin_set, "ring", tmp_path)
    assert ring.sample_shape == (2,) and ring.labels is None and ring.num_classes == 0
    points = ring.data
    assert points.abs().max() <= 1.0
    radius = points.norm(dim=1)
    assert (radius - 0.8).abs().mean() < 0.05
    angles = torch.atan2(points[:, 1], points[:, 0])
    modes = torch.round(angles / (2 * torch.pi / 8)).remainder(8)
    assert torch.bincount(modes.long(), minlength=8).min() > len(points) / 8 * 0.8
    assert len(load(plugin_set, "ring", tmp_path, samples=100)) == 100


def test_unknown_dataset_option_is_rejected(plugin_set, tmp_path):
    from ganframe.run.assemble import load_dataset

    config = RunConfig(dataset="ring", dataset_options={"sampels": "10"}, data_root=str(tmp_path))
    with pytest.raises(UsageError, match="'sampels'.*Did you mean 'samples'"):
        load_dataset(plugin_set.registry.get("dataset", "ring"), config)


def test_device_and_loader_paths_yield_the_same_batches(plugin_set, tiny_root):
    dataset = load(plugin_set, "mnist", tiny_root)
    device = torch.device("cpu")
    fast, plain = DeviceBatches(dataset, 32, device, seed=3), LoaderBatches(dataset, 32, device, seed=3)
    assert len(fast) == len(plain) == 8
    seen = []
    for (xa, ya), (xb, yb) in zip(fast.epoch(1), plain.epoch(1), strict=True):
        assert xa.shape == (32, 1, 28, 28) and xa.dtype == torch.float32
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        seen.append(ya)
    # every batch label matches its image (class c lights row 2 + 2c in the synthetic digits)
    xa, ya = next(fast.epoch(0))
    lit_rows = (xa[:, 0, :, 4:24] > 0.9).all(dim=2).float().argmax(dim=1)
    assert torch.equal((lit_rows - 2) // 2, ya)
    # an epoch visits 256 distinct samples (dropping no full batch); other epochs reorder
    assert torch.cat([y for _, y in fast.epoch(0)]).shape == (256,)
    assert not torch.equal(next(fast.epoch(0))[1], next(fast.epoch(1))[1])


def test_batches_resume_mid_epoch(plugin_set, tiny_root):
    dataset = load(plugin_set, "mnist", tiny_root)
    batches = DeviceBatches(dataset, 32, torch.device("cpu"), seed=3)
    full = [y for _, y in batches.epoch(2)]
    rest = [y for _, y in batches.epoch(2, start=5)]
    assert len(rest) == 3 and all(torch.equal(a, b) for a, b in zip(full[5:], rest))
