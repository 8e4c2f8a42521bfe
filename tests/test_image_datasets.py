"""Real-image data sets: image-folder, cifar10, celeba and the subset option, on files made here (no network)."""

from __future__ import annotations

import json
import os
import pickle
import stat
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, features

from ganframe.errors import GanframeError, UsageError
from ganframe.plugin.specs import DatasetSpec, Options
from ganframe.testing import check_dataset
from ganframe.train.data import InMemoryDataset, LoaderBatches, make_batches
from ganframe_builtins import image_files
from ganframe_builtins.benchmark_datasets import celeba, cifar10
from ganframe_builtins.image_datasets import mnist
from ganframe_builtins.image_folder import image_folder

RED, GREEN = (255, 0, 0), (0, 255, 0)


def save(path: Path, size=(40, 30), colour=RED, mode="RGB") -> Path:
    """A solid image of ``size`` (width, height); the format follows the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)
    return path


def load(root=None, train=True, **options):
    spec_options = Options({k: str(v) for k, v in options.items()}, owner="dataset 'image-folder'")
    dataset = image_folder(DatasetSpec(root=Path(root or "."), train=train, options=spec_options))
    spec_options.check_all_read()
    return dataset


@pytest.fixture
def pets(tmp_path) -> Path:
    """Two classes, nested folders, PNG/JPEG/WebP, mixed sizes and one broken file."""
    folder = tmp_path / "pets"
    save(folder / "cats" / "a.png", (40, 30), RED)
    save(folder / "cats" / "b.jpg", (64, 64), RED)
    save(folder / "cats" / "deep" / "c.PNG", (20, 50), RED)
    save(folder / "dogs" / "d.png", (33, 33), GREEN)
    save(folder / "dogs" / "e.jpeg", (50, 40), GREEN)
    if features.check("webp"):
        save(folder / "dogs" / "f.webp", (48, 48), GREEN)
    (folder / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "dogs" / "notes.txt").write_text("not an image, not counted")
    return folder


def test_a_folder_of_mixed_formats_and_sizes_becomes_uint8_images_labelled_by_subfolder(pets, capsys):
    dataset = load(path=pets, size=16, labels="subfolders")
    images = 6 if features.check("webp") else 5
    assert isinstance(dataset, InMemoryDataset) and dataset.data.dtype == torch.uint8
    assert tuple(dataset.data.shape) == (images, 3, 16, 16)
    assert dataset.class_names == ["cats", "dogs"] and dataset.num_classes == 2
    assert dataset.labels.tolist() == [0, 0, 0] + [1] * (images - 3)
    # solid colours survive decoding, resizing and cropping in the right channel order (JPEG: within a few levels)
    cats, dogs = dataset.data[:3].float(), dataset.data[3:].float()
    assert (cats[:, 0] > 245).all() and (cats[:, 1:] < 10).all()
    assert (dogs[:, 1] > 245).all() and (dogs[:, [0, 2]] < 10).all()
    x, y = dataset[0]
    assert x.min() >= -1 and x.max() <= 1 and y == 0
    err = capsys.readouterr().err
    assert f"skipped 1 of {images + 1} image files" in err and "broken.png" in err
    check_dataset(lambda spec: dataset, root=pets, sample_shape=(3, 16, 16), num_classes=2)


def test_centre_crop_keeps_the_middle_of_a_wide_image(tmp_path):
    stripe = np.zeros((10, 30, 3), dtype=np.uint8)
    stripe[:, 10:20] = 255  # white middle third, black sides
    folder = tmp_path / "wide"
    folder.mkdir()
    Image.fromarray(stripe).save(folder / "w.png")
    dataset = load(path=folder, size=10)
    assert dataset.data.shape == (1, 3, 10, 10) and (dataset.data == 255).all()


def test_labels_auto_uses_class_subfolders_only_when_every_image_has_one(pets, tmp_path):
    assert load(path=pets, size=8).class_names == ["cats", "dogs"]
    assert load(path=pets, size=8, labels="none").labels is None
    save(pets / "loose.png")
    assert load(path=pets, size=8).labels is None
    save(tmp_path / "one" / "only" / "a.png")
    assert load(path=tmp_path / "one", size=8).labels is None


def test_greyscale_and_native_size(tmp_path):
    for name in ("a.png", "b.png"):
        save(tmp_path / "same" / name, (12, 8), 200, mode="L")
    dataset = load(path=tmp_path / "same", size="none", channels=1)
    assert dataset.data.shape == (2, 1, 8, 12) and (dataset.data == 200).all()


def test_the_cache_is_written_beside_the_data_and_a_second_load_does_not_decode(pets, monkeypatch):
    first = load(path=pets, size=16)
    cache = pets / image_files.CACHE_FOLDER
    [data_file] = cache.glob("*.u8")
    assert [p.suffix for p in sorted(cache.iterdir())] == [".json", ".u8"]
    assert data_file.stat().st_size == first.data.numel()
    calls = []
    original = image_files.decode
    monkeypatch.setattr(image_files, "decode", lambda *a: calls.append(a) or original(*a))
    again = load(path=pets, size=16)
    assert calls == [] and torch.equal(again.data, first.data)
    # another size, or an edited file, is another cache: decoded again
    load(path=pets, size=8)
    assert len(calls) == len(first) + 1
    calls.clear()
    os.utime(pets / "cats" / "a.png", ns=(1, 1))
    load(path=pets, size=16)
    assert len(calls) == len(first) + 1 and len(list(cache.glob("*.u8"))) == 3


def test_a_cache_larger_than_the_memory_limit_is_memory_mapped_and_trains_on_the_fast_path(pets, monkeypatch, capsys):
    in_ram = load(path=pets, size=16)
    monkeypatch.setenv(image_files.MEMORY_ENV, "100")
    files = image_files.list_images(pets)
    decoded = image_files.load_images(pets, files, image_files.Decoding(3, 16), (3, 16, 16), "pets")
    assert decoded.memory_mapped and not decoded.decoded_now
    mapped = load(path=pets, size=16)
    assert "memory-mapping it" in capsys.readouterr().err
    assert torch.equal(mapped.data, in_ram.data)
    batches = make_batches(mapped, 2, torch.device("cpu"), seed=0)
    assert not isinstance(batches, LoaderBatches)
    x, _ = next(iter(batches.epoch(0)))
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32


@pytest.fixture
def read_only(tmp_path):
    """Make folders read-only (the data and the per-user cache) for one test, and writable again after."""
    made = []

    def lock(*folders):
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            for path in [folder, *folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
                    made.append(path)

    yield lock
    for path in made:
        path.chmod(stat.S_IRWXU)


def test_read_only_data_without_a_cache_decodes_in_memory_or_falls_back_to_a_dataloader(
    pets, tmp_path, read_only, monkeypatch, capsys
):
    read_only(pets, tmp_path / "cache")  # the data and the per-user cache ($XDG_CACHE_HOME, set by conftest)
    in_memory = load(path=pets, size=16, labels="subfolders")
    assert isinstance(in_memory, InMemoryDataset) and not (pets / image_files.CACHE_FOLDER).exists()
    monkeypatch.setenv(image_files.MEMORY_ENV, "100")
    lazy = load(path=pets, size=16, labels="subfolders")
    assert "Decoding" in capsys.readouterr().err
    assert not isinstance(lazy, InMemoryDataset) and len(lazy) == len(in_memory)
    assert lazy.sample_shape == (3, 16, 16) and lazy.num_classes == 2 and lazy.class_names == ["cats", "dogs"]
    batches = make_batches(lazy, 2, torch.device("cpu"), seed=0)
    assert isinstance(batches, LoaderBatches) and batches.num_workers >= 1
    seen = list(batches.epoch(0))
    assert len(seen) == len(lazy) // 2
    x, y = seen[0]
    assert x.shape == (2, 3, 16, 16) and x.min() >= -1 and x.max() <= 1 and y.shape == (2,)
    expected = torch.stack([in_memory[i][0] for i in range(len(in_memory))])
    assert torch.equal(torch.stack([lazy[i][0] for i in range(len(lazy))]), expected)


def test_read_only_data_caches_in_the_per_user_cache(pets, tmp_path, read_only):
    read_only(pets)
    load(path=pets, size=16)
    assert list((tmp_path / "cache" / "ganframe" / "data" / "image-cache").glob("*.u8"))


@pytest.mark.parametrize(
    "options, words",
    [
        ({}, ["needs the folder", "path=DIR"]),
        ({"path": "missing"}, ["path=missing does not exist"]),
        ({"size": "0"}, ["size=0", "size=none"]),
        ({"size": "big"}, ["size=big"]),
        ({"channels": "2"}, ["channels=2", "channels=3", "channels=1"]),
        ({"labels": "subfolder"}, ["labels=subfolder", "did you mean 'subfolders'"]),
        ({"subset": "99"}, ["subset=99", "1 to"]),
        ({"subset": "-1"}, ["subset=-1"]),
        ({"subset_seed": "3"}, ["subset_seed=3", "subset=N"]),
        ({"colour": "1"}, ["no option 'colour'"]),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_bad_options_are_one_paragraph_usage_errors(pets, options, words):
    given = dict(options) if not options or "path" in options else {"path": str(pets), **options}
    with pytest.raises(UsageError) as info:
        load(**given)
    message = " ".join(info.value.message.split()).lower()
    for word in words:
        assert word.lower() in message, message


def test_folder_problems_name_the_path_and_what_would_work(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="No images in .*empty.*png"):
        load(path=tmp_path / "empty")
    save(tmp_path / "file.png")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        load(path=tmp_path / "file.png")
    save(tmp_path / "mixed" / "a.png", (10, 10))
    save(tmp_path / "mixed" / "b.png", (12, 10))
    with pytest.raises(UsageError) as info:
        load(path=tmp_path / "mixed", size="none")
    assert "different sizes" in info.value.message and "size=64" in info.value.message
    save(tmp_path / "loose" / "cls" / "a.png")
    save(tmp_path / "loose" / "top.png")
    with pytest.raises(UsageError, match="lie directly in it .*top.png"):
        load(path=tmp_path / "loose", labels="subfolders")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.jpg").write_bytes(b"nope")
    with pytest.raises(UsageError, match="None of the 1 image files"):
        load(path=tmp_path / "broken")


def test_subset_takes_the_first_n_or_a_seeded_draw(tmp_path):
    for i in range(10):
        save(tmp_path / "many" / f"{i:02d}.png", (8, 8), (i * 20, 0, 0))
    whole = load(path=tmp_path / "many", size=8)
    first = load(path=tmp_path / "many", size=8, subset=4)
    assert torch.equal(first.data, whole.data[:4])
    drawn = load(path=tmp_path / "many", size=8, subset=4, subset_seed=1)
    again = load(path=tmp_path / "many", size=8, subset=4, subset_seed=1)
    other = load(path=tmp_path / "many", size=8, subset=4, subset_seed=2)
    assert torch.equal(drawn.data, again.data) and not torch.equal(drawn.data, other.data)
    reds = drawn.data[:, 0, 0, 0].tolist()
    assert reds == sorted(reds) and set(reds) <= set(whole.data[:, 0, 0, 0].tolist())


def test_subset_on_mnist_cuts_the_training_split_only(tiny_root):
    def mnist_with(train, **options):
        return mnist(
            DatasetSpec(
                root=tiny_root, train=train, download=False, options=Options({k: str(v) for k, v in options.items()})
            )
        )

    whole = mnist_with(True)
    assert torch.equal(mnist_with(True, subset=10).data, whole.data[:10])
    drawn = mnist_with(True, subset=10, subset_seed=0)
    assert len(drawn) == 10 and len(drawn.labels) == 10 and not torch.equal(drawn.data, whole.data[:10])
    assert len(mnist_with(False, subset=10)) == len(mnist_with(False))
    with pytest.raises(UsageError, match=f"more samples than .* holds \\({len(whole)}\\)"):
        mnist_with(True, subset=len(whole) + 1)


def test_eval_scores_a_subset_run_on_the_whole_training_split(tiny_root, plugin_set):
    """``ganframe eval``'s data (``split_loader``) drops the subset options, seeded draws included:
    a run on N drawn images is scored against the whole split like any other."""
    from ganframe.evaluation.data_splits import split_loader

    load = split_loader(plugin_set.registry, "mnist", tiny_root, {"subset": "10", "subset_seed": "0"})
    whole = split_loader(plugin_set.registry, "mnist", tiny_root)
    assert torch.equal(load(True).data, whole(True).data) and len(load(True)) > 10


# --- CIFAR-10: pickled batches in CIFAR's own format ---------------------------------------------------

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar(root: Path, per_batch=4, test=3) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = test if name == "test_batch" else per_batch
        batch = {
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "labels": list(rng.integers(0, 10, n)),
            "batch_label": name,
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CIFAR_CLASSES}))
    return folder


def cifar(root, train=True, **options):
    return cifar10(
        DatasetSpec(root=root, train=train, download=False, options=Options({k: str(v) for k, v in options.items()}))
    )


def test_cifar10_reads_its_pickled_batches_channels_first(tmp_path):
    folder = write_cifar(tmp_path)
    train, test = cifar(tmp_path), cifar(tmp_path, train=False)
    assert train.data.shape == (20, 3, 32, 32) and train.data.dtype == torch.uint8 and len(test) == 3
    assert train.class_names == CIFAR_CLASSES and train.num_classes == 10
    first = pickle.loads((folder / "data_batch_1").read_bytes())
    assert torch.equal(train.data[0], torch.from_numpy(first["data"][0].reshape(3, 32, 32)))  # R, G, B planes
    assert train.labels[:4].tolist() == [int(v) for v in first["labels"]]
    assert torch.equal(cifar(tmp_path, subset=5).data, train.data[:5])
    assert len(cifar(tmp_path, train=False, subset=5)) == 3  # the held-out split stays whole


def test_cifar10_unpacks_the_archive_left_in_the_data_root(tmp_path):
    folder = write_cifar(tmp_path / "made")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as archive:
        archive.add(folder, arcname="cifar-10-batches-py")
    assert len(cifar(tmp_path)) == 20 and (tmp_path / "cifar-10-batches-py" / "test_batch").is_file()


def test_cifar10_offline_names_the_files_and_where_they_go(tmp_path):
    with pytest.raises(GanframeError) as info:
        cifar(tmp_path)
    message = info.value.message
    for word in (
        str(tmp_path / "cifar-10-batches-py"),
        "data_batch_1",
        "test_batch",
        "batches.meta",
        "cifar-10-python.tar.gz",
        "GANFRAME_DATA",
    ):
        assert word in message


# --- CelebA: a few aligned-face-sized JPEGs and the split file ----------------------------------------


def write_celeba(root: Path) -> Path:
    folder = root / "celeba"
    lines = []
    for i in range(1, 8):
        name = f"{i:06d}.jpg"
        image = np.zeros((218, 178, 3), dtype=np.uint8)
        image[20:198] = (0, 0, 255)  # the centre 178x178 square is blue, the 20-pixel bands above and below black
        (folder / "img_align_celeba").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / "img_align_celeba" / name, quality=95)
        lines.append(f"{name} {0 if i <= 4 else 1 if i == 5 else 2}")
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    return folder


def faces(root, train=True, **options):
    return celeba(
        DatasetSpec(root=root, train=train, download=False, options=Options({k: str(v) for k, v in options.items()}))
    )


def test_celeba_crops_178_resizes_to_64_and_splits_by_the_partition_file(tmp_path):
    folder = write_celeba(tmp_path)
    train, test = faces(tmp_path), faces(tmp_path, train=False)
    assert train.data.shape == (4, 3, 64, 64) and test.data.shape == (2, 3, 64, 64) and train.num_classes == 0
    # the crop removed the black bands: every row is blue (JPEG blurs the edge rows a little)
    blue = train.data[:, 2].float()
    assert blue.min() > 200 and blue.mean() > 250 and train.data[:, :2].float().mean() < 5
    assert list((folder / image_files.CACHE_FOLDER).glob("*.u8"))
    assert len(faces(tmp_path, subset=2)) == 2


def test_celeba_offline_names_the_files_and_where_they_go(tmp_path):
    with pytest.raises(GanframeError) as info:
        faces(tmp_path)
    message = info.value.message
    for word in (
        str(tmp_path / "celeba" / "img_align_celeba"),
        "list_eval_partition.txt",
        "img_align_celeba.zip",
        "GANFRAME_DATA",
    ):
        assert word in message


# --- end to end: a folder to a run, and --resume -------------------------------------------------------


def test_a_folder_trains_with_dcgan_and_resumes_to_the_same_weights(tmp_path, cli):
    pytest.importorskip("ganframe_dcgan")
    rng = np.random.default_rng(0)
    (tmp_path / "faces").mkdir()
    for i in range(64):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / "faces" / f"{i}.png")
    common = [
        "--dataset",
        "image-folder",
        "--dataset-option",
        f"path={tmp_path / 'faces'}",
        "--dataset-option",
        "size=32",
        "--model",
        "dcgan",
        "--model-option",
        "width=8",
        "--batch-size",
        "16",
        "--device",
        "cpu",
        "--seed",
        "3",
    ]
    whole = cli("run", *common, "--epochs", "2", "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    part = cli("run", *common, "--epochs", "1", "--out", tmp_path / "part")
    assert part.exit_code == 0, part.output
    resumed = cli("run", "--resume", tmp_path / "part", "--epochs", "2")
    assert resumed.exit_code == 0, resumed.output
    a = torch.load(tmp_path / "whole" / "checkpoints" / "epoch-0002.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "checkpoints" / "epoch-0002.pt", weights_only=True)
    assert a["step"] == b["step"] == 8
    for key, value in a["generator"].items():
        assert torch.equal(value, b["generator"][key]), key


def test_a_relative_folder_is_recorded_absolute_so_the_run_resumes_from_anywhere(tmp_path, cli, monkeypatch):
    """config.json records path= as an absolute path: resuming (or evaluating) from another working
    directory finds the same images; the relative form given again on resume agrees with it."""
    rng = np.random.default_rng(0)
    (tmp_path / "work" / "faces").mkdir(parents=True)
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "work" / "faces" / f"{i}.png")
    monkeypatch.chdir(tmp_path / "work")
    common = ["--dataset", "image-folder", "--dataset-option", "path=faces", "--dataset-option", "size=8"]
    first = cli(
        "run", *common, "--model", "mlp-small", "--batch-size", 8, "--max-steps", 1, "--out", "run", "--seed", 0
    )
    assert first.exit_code == 0, first.output
    recorded = json.loads((tmp_path / "work" / "run" / "config.json").read_text())["dataset_options"]["path"]
    assert recorded == str(tmp_path / "work" / "faces")
    again = cli("run", "--resume", "run", *common, "--max-steps", 2)  # the same relative form: no conflict
    assert again.exit_code == 0, again.output
    monkeypatch.chdir(tmp_path)  # elsewhere: "faces" would not exist here
    resumed = cli("run", "--resume", tmp_path / "work" / "run", "--epochs", 1)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((tmp_path / "work" / "run" / "config.json").read_text())["dataset_options"]["path"] == recorded
