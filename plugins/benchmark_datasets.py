"""The standard small benchmarks of GAN papers: ``cifar10`` and ``celeba`` (64x64).

Both live under the data root (``--data-root`` > ``GANFRAME_DATA`` > the
per-user cache, as for MNIST) in torchvision's layout, and are downloaded
there through torchvision when missing and allowed. Offline, one error names
the files to put where.

- ``cifar10``: 50,000 training and 10,000 test images, 3x32x32, 10 classes,
  read with torchvision's ``CIFAR10`` (its pickled batches), held in memory.
- ``celeba``: the aligned faces (``img_align_celeba``), centre crop 178x178
  then resized to 64x64 (the DCGAN convention; ``size`` changes 64), no
  labels. The split comes from ``list_eval_partition.txt`` (train: 162,770,
  test: 19,962). The JPEGs are decoded once into the same uint8 cache as
  ``image-folder`` (beside the images, or in the per-user cache).

Both read ``subset`` / ``subset_seed`` (:mod:`ganframe_builtins.subsets`).
"""

from ganframe import hookimpl

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = (
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
    "test_batch",
    "batches.meta",
)
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
CELEBA_FOLDER = "celeba"
CELEBA_IMAGES = "img_align_celeba"
CELEBA_PARTITION = "list_eval_partition.txt"


@hookimpl
def register_datasets(register):
    register("cifar10", cifar10, help="CIFAR-10 3x32x32, 10 classes (torchvision)")
    register("celeba", celeba, help="CelebA aligned faces 3x64x64 (crop 178, resize 64), no labels (torchvision files)")


def cifar10(spec):
    """CIFAR-10 (torchvision's files): 3x32x32 uint8, 10 classes; ``train=False`` is the test batch."""
    import torch

    from ganframe import InMemoryDataset
    from ganframe_builtins.subsets import apply_to_tensors, read_subset

    subset = read_subset(spec.options)
    opened = _open_cifar(spec)
    data = torch.from_numpy(opened.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(opened.targets, dtype=torch.long)
    if spec.train:
        data, labels = apply_to_tensors(subset, data, labels, "CIFAR-10's training split")
    return InMemoryDataset(data, labels, num_classes=len(opened.classes), class_names=list(opened.classes))


def _cifar_class():
    """torchvision's CIFAR10 checking that its files exist instead of their MD5 sums (a corrupt file
    still fails to unpickle, and the check reads 180 MB on every load)."""
    import os

    from torchvision.datasets import CIFAR10

    class PresentCIFAR10(CIFAR10):
        def _check_integrity(self) -> bool:
            folder = os.path.join(self.root, self.base_folder)
            return all(os.path.isfile(os.path.join(folder, name)) for name in CIFAR_FILES)

        def _load_meta(self) -> None:
            import pickle

            with open(os.path.join(self.root, self.base_folder, self.meta["filename"]), "rb") as handle:
                data = pickle.load(handle, encoding="latin1")
            self.classes = data[self.meta["key"]]
            self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    return PresentCIFAR10


def _open_cifar(spec):
    from pathlib import Path

    from ganframe import DATA_ENV, GanframeError

    root = Path(spec.root)
    folder = root / CIFAR_FOLDER
    dataset_class = _cifar_class()
    if not all((folder / name).is_file() for name in CIFAR_FILES) and (root / CIFAR_ARCHIVE).is_file():
        from torchvision.datasets.utils import extract_archive

        try:
            extract_archive(str(root / CIFAR_ARCHIVE), str(root))
        except Exception as exc:
            raise GanframeError(
                f"Could not unpack {root / CIFAR_ARCHIVE} ({type(exc).__name__}: {exc}); it may be truncated. "
                f"Delete it to download again, or unpack it yourself so that {folder} holds {', '.join(CIFAR_FILES)}."
            ) from None
    cause = None
    if all((folder / name).is_file() for name in CIFAR_FILES):
        try:
            return dataset_class(root=str(root), train=spec.train, download=False)
        except Exception as exc:
            raise GanframeError(
                f"Could not read the CIFAR-10 files in {folder}: {type(exc).__name__}: {exc}. They may be "
                f"truncated or corrupt; delete the folder to download again, or point --data-root / {DATA_ENV} at "
                "a good copy."
            ) from None
    if spec.download:
        try:
            return _quietly(lambda: dataset_class(root=str(root), train=spec.train, download=True))
        except Exception as exc:
            cause = exc
    missing = [name for name in CIFAR_FILES if not (folder / name).is_file()]
    why = f", and downloading it failed ({type(cause).__name__}: {cause})" if cause else ""
    raise GanframeError(
        f"CIFAR-10 is not available: looked in {folder} for {', '.join(CIFAR_FILES)}; missing {', '.join(missing)}"
        f"{why}. Put the python version's files there (data_batch_1 to data_batch_5, test_batch, batches.meta), "
        f"or put {CIFAR_ARCHIVE} (https://www.cs.toronto.edu/~kriz/{CIFAR_ARCHIVE}) in {root} and it is unpacked "
        f"on first use; or set {DATA_ENV} (or --data-root) to a folder that holds {CIFAR_FOLDER}/."
    )


def celeba(spec):
    """CelebA aligned faces: centre crop 178, resized to ``size`` (64); ``train=False`` is the test split."""
    from ganframe import UsageError
    from ganframe_builtins import image_files
    from ganframe_builtins.image_folder import to_dataset
    from ganframe_builtins.subsets import read_subset

    size = spec.options.get("size", 64)
    subset = read_subset(spec.options)
    if size < 1:
        raise UsageError(f"size={size} is not an image size for celeba; use a number of pixels such as size=64.")
    folder, names = _open_celeba(spec)
    files = [folder / CELEBA_IMAGES / name for name in names]
    if spec.train:
        index = subset.indices(len(files), "CelebA's training split")
        if index is not None:
            files = [files[i] for i in index.tolist()]
    missing = [path for path in files if not path.is_file()]
    if missing:
        raise UsageError(
            f"{len(missing)} CelebA image(s) listed in {folder / CELEBA_PARTITION} are not in {folder / CELEBA_IMAGES} "
            f"(e.g. {missing[0].name}); put the complete img_align_celeba folder there (202,599 JPEGs, from "
            "img_align_celeba.zip)."
        )
    decoding = image_files.Decoding(channels=3, size=size, crop=178)
    split = "training" if spec.train else "test"
    return to_dataset(folder, files, None, None, decoding, (3, size, size), what=f"CelebA's {split} split")


def _open_celeba(spec):
    """(the celeba folder, the image names of the split); downloads through torchvision when missing
    and allowed, else one error naming the files."""
    from pathlib import Path

    from ganframe import DATA_ENV, GanframeError

    root = Path(spec.root)
    folder = root / CELEBA_FOLDER
    partition = folder / CELEBA_PARTITION
    images = folder / CELEBA_IMAGES
    if not images.is_dir() and (folder / "img_align_celeba.zip").is_file():
        from torchvision.datasets.utils import extract_archive

        extract_archive(str(folder / "img_align_celeba.zip"), str(folder))
    cause = None
    if not (partition.is_file() and images.is_dir()) and spec.download:
        try:
            from torchvision.datasets import CelebA

            _quietly(lambda: CelebA(root=str(root), split="all", target_type=[], download=True))
        except Exception as exc:
            cause = exc
    if partition.is_file() and images.is_dir():
        wanted = "0" if spec.train else "2"
        try:
            rows = [line.split() for line in partition.read_text().splitlines() if line.strip()]
            return folder, [name for name, part in rows if part == wanted]
        except ValueError:
            raise GanframeError(
                f"Could not read {partition}: each line should be '<image>.jpg <0|1|2>' (0 train, 1 validation, "
                "2 test), as in CelebA's own file."
            ) from None
    missing = [str(p.relative_to(root)) for p in (images, partition) if not p.exists()]
    why = f", and downloading them through torchvision failed ({type(cause).__name__}: {cause})" if cause else ""
    raise GanframeError(
        f"CelebA is not available: missing {' and '.join(missing)} in {root}{why}. Put the aligned images in "
        f"{images}/ (000001.jpg ... 202599.jpg, from img_align_celeba.zip, which may also be left in {folder} to be "
        f"unpacked on first use) and the split file {partition}; torchvision's CelebA download (Google Drive, "
        "often over quota) fetches them with identity_CelebA.txt, list_attr_celeba.txt, list_bbox_celeba.txt and "
        f"list_landmarks_align_celeba.txt, which ganframe does not need. Or set {DATA_ENV} (or --data-root) to a "
        f"folder that holds {CELEBA_FOLDER}/."
    )


def _quietly(make):
    """torchvision prints every download attempt; keep the terminal clean and report once."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return make()
