"""The evaluation classifier pipeline on tiny synthetic IDX data: train, cache
next to the data (or per user when the data root is read-only), reuse,
retrain when the data set changes; and its figures on known inputs."""

import math
import os
import stat

import pytest
import torch

from ganframe.evaluation import cache
from ganframe.evaluation.classifier import classify, logits_accuracy
from ganframe.evaluation.data_splits import load_splits
from ganframe.evaluation.evaluator import obtain_classifier, prepare_evaluator
from ganframe.train.data import InMemoryDataset
from tests.eval_helpers import CPU, TINY
from tests.idx import make_mnist_root


@pytest.fixture
def splits(tmp_path, plugin_set):
    root = make_mnist_root(tmp_path / "data")
    train_set, test_set = load_splits(plugin_set.registry, "mnist", root)
    return root, train_set, test_set


def obtain(train_set, test_set, root, notes=None):
    return obtain_classifier(
        train_set, test_set, "mnist", root, device=CPU, notify=(notes if notes is not None else []).append, recipe=TINY
    )


def test_checksum_follows_pixels_labels_and_shape():
    data, labels = torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 2, 3])
    base = cache.tensor_checksum(data, labels)
    assert cache.tensor_checksum(data.clone(), labels.clone()) == base
    changed = data.clone()
    changed[3, 0, 1, 1] = 1
    assert cache.tensor_checksum(changed, labels) != base
    assert cache.tensor_checksum(data, torch.tensor([0, 1, 2, 4])) != base
    assert cache.tensor_checksum(data.reshape(4, 1, 1, 4), labels) != base


def test_trains_once_caches_next_to_the_data_and_reuses_it(splits):
    root, train_set, test_set = splits
    notes = []
    model, info = obtain(train_set, test_set, root, notes)
    path = root / cache.FOLDER / cache.file_name("mnist", cache.tensor_checksum(train_set.data, train_set.labels))
    assert info["trained_now"] and info["path"] == str(path) and path.is_file()
    assert info["test_accuracy"] == pytest.approx(logits_accuracy(classify(model, test_set.data)[1], test_set.labels))
    assert info["test_accuracy"] >= 0.95  # the synthetic classes are bars, easy to learn
    assert any("Training the evaluation classifier" in n for n in notes)
    assert not any(name.endswith(".tmp") for name in os.listdir(path.parent)), "atomic write leaves no temp file"

    notes.clear()
    again, info2 = obtain(train_set, test_set, root, notes)
    assert not info2["trained_now"] and info2["path"] == str(path) and notes == []
    assert torch.equal(classify(model, test_set.data)[1], classify(again, test_set.data)[1])


def test_a_changed_data_set_trains_a_new_classifier(splits):
    root, train_set, test_set = splits
    _, first = obtain(train_set, test_set, root)
    data = train_set.data.clone()
    data[0, 0, 0, 0] ^= 1
    changed = InMemoryDataset(data, train_set.labels, num_classes=10)
    _, second = obtain(changed, test_set, root)
    assert second["trained_now"] and second["path"] != first["path"]
    assert len(list((root / cache.FOLDER).glob("*.pt"))) == 2


def test_read_only_data_root_falls_back_to_the_user_cache_and_says_so(splits):
    root, train_set, test_set = splits
    before = sorted(p.name for p in root.iterdir())
    root.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)  # r-x: respected even by root
    try:
        assert not cache.is_writable(root / cache.FOLDER)
        notes = []
        _, info = obtain(train_set, test_set, root, notes)
    finally:
        root.chmod(0o755)
    user_folder = cache.user_cache_dir() / cache.FOLDER
    assert info["path"].startswith(str(user_folder)) and os.path.isfile(info["path"])
    assert any("read-only" in n and str(user_folder) in n for n in notes)
    assert sorted(p.name for p in root.iterdir()) == before, "nothing may be written in a read-only data root"
    _, again = obtain(train_set, test_set, root)  # found again in the user cache
    assert not again["trained_now"] and again["path"] == info["path"]


def test_an_unreadable_cache_file_is_replaced(splits):
    root, train_set, test_set = splits
    _, info = obtain(train_set, test_set, root)
    with open(info["path"], "wb") as handle:
        handle.write(b"not a checkpoint")
    notes = []
    _, again = obtain(train_set, test_set, root, notes)
    assert again["trained_now"] and again["path"] == info["path"]
    assert any("unreadable or outdated" in n for n in notes)
    assert cache.load_classifier_file(cache.Path(info["path"])) is not None


def test_real_test_images_score_near_perfect_and_a_constant_image_one_class(splits):
    root, train_set, test_set = splits
    evaluator = prepare_evaluator(train_set, test_set, "mnist", root, device=CPU, recipe=TINY)
    real = evaluator.score(test_set.data, test_set.labels)
    assert real["classes_covered"] == 10
    assert real["class_kl"] < 0.01
    assert real["label_accuracy"] >= 0.95 and min(real["label_accuracy_per_class"]) >= 0.8
    assert real["frechet_distance"] == pytest.approx(0.0, abs=1e-6)  # the reference itself

    constant = torch.full((500, 1, 28, 28), 0.3)
    flat = evaluator.score(constant)
    assert flat["classes_covered"] == 1
    assert flat["class_kl"] == pytest.approx(math.log(10))
    assert "label_accuracy" not in flat
    held_in = evaluator.score(train_set.data)
    assert held_in["frechet_distance"] < 0.1 * flat["frechet_distance"]


def test_real_mnist_test_images_score_near_perfect(mnist_root, plugin_set):
    """On real MNIST, with a classifier trained briefly on a third of the training split: the test
    images cover every digit evenly and are read as their labels; a constant image is one class;
    real training images are far closer to the test split than noise is."""
    from ganframe.evaluation.classifier import Recipe, train_classifier
    from ganframe.evaluation.evaluator import Evaluator
    from ganframe.evaluation.metrics import feature_statistics

    train_set, test_set = load_splits(plugin_set.registry, "mnist", mnist_root)
    model = train_classifier(
        train_set.data[:20000], train_set.labels[:20000], 10, recipe=Recipe(epochs=1, batch_size=64)
    )
    mean, cov = feature_statistics(classify(model, test_set.data)[0])
    evaluator = Evaluator(model, 10, [str(d) for d in range(10)], mean, cov)
    real = evaluator.score(test_set.data, test_set.labels)
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.01
    assert real["label_accuracy"] >= 0.95 and real["confidence"] > 0.9
    held_in = evaluator.score(train_set.data[30000:40000])
    noise = evaluator.score(torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    assert held_in["frechet_distance"] < 0.02 * noise["frechet_distance"]
    constant = evaluator.score(torch.full((500, 1, 28, 28), -1.0))
    assert constant["classes_covered"] == 1 and constant["class_kl"] == pytest.approx(math.log(10))


def test_a_bad_copy_in_a_read_only_data_root_is_passed_over_not_retrained_every_time(splits):
    """The data root's copy is unreadable and read-only: the classifier trained into the per-user
    cache is found on the next call instead of training again and again."""
    root, train_set, test_set = splits
    _, first = obtain(train_set, test_set, root)
    with open(first["path"], "wb") as handle:
        handle.write(b"not a checkpoint")
    root.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    (root / cache.FOLDER).chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _, second = obtain(train_set, test_set, root)
        _, third = obtain(train_set, test_set, root)
    finally:
        (root / cache.FOLDER).chmod(0o755)
        root.chmod(0o755)
    assert second["trained_now"] and second["path"].startswith(str(cache.user_cache_dir()))
    assert not third["trained_now"] and third["path"] == second["path"]


def test_a_cache_file_with_flipped_bytes_is_refused(splits):
    """torch.load would read a flipped weight silently; the zip checksums catch it."""
    root, train_set, test_set = splits
    _, info = obtain(train_set, test_set, root)
    path = cache.Path(info["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the weights' record
    path.write_bytes(bytes(data))
    assert cache.load_classifier_file(path) is None
