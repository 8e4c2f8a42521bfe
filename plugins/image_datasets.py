"""Image data sets from torchvision: ``mnist`` and ``fashion-mnist``.

Both are 1x28x28 uint8 images with 10 classes, held in memory and scaled to
``[-1, 1]`` when batched. Files are read from ``<data root>/<Name>/raw`` in
torchvision's layout and downloaded there when missing; when the download
fails (offline) the error names the folder, the files expected there and
``GANFRAME_DATA``.

Option ``subset`` (``--dataset-option subset=1000``; 0, the default, keeps
all): train on the first N training images only (data-limited GAN training,
as DiffAugment studies); the held-out split ``ganframe eval`` scores against
is never cut.
"""

from ganframe import hookimpl


@hookimpl
def register_datasets(register):
    register("mnist", mnist, help="MNIST digits 1x28x28, 10 classes (torchvision)")
    register("fashion-mnist", fashion_mnist, help="Fashion-MNIST clothing 1x28x28, 10 classes (torchvision)")


def mnist(spec):
    """MNIST handwritten digits (torchvision): 1x28x28, 10 classes, scaled to [-1, 1]."""
    from torchvision.datasets import MNIST

    return _in_memory(MNIST, spec, class_names=[str(d) for d in range(10)])


def fashion_mnist(spec):
    """Fashion-MNIST clothing images (torchvision): 1x28x28, 10 classes, scaled to [-1, 1]."""
    from torchvision.datasets import FashionMNIST

    return _in_memory(FashionMNIST, spec, class_names=list(FashionMNIST.classes))


def expected_files(dataset_class) -> list[str]:
    """The raw IDX file names torchvision looks for (without the .gz it downloads)."""
    from pathlib import PurePosixPath

    return [PurePosixPath(resource[0]).name.removesuffix(".gz") for resource in dataset_class.resources]


def _in_memory(dataset_class, spec, class_names):
    from ganframe import InMemoryDataset

    from ganframe import UsageError

    subset = spec.options.get("subset", 0)
    if subset < 0:
        raise UsageError(f"--dataset-option subset={subset} must be 0 (all images) or a positive number of images.")
    opened = _open(dataset_class, spec)
    data, targets = opened.data, opened.targets
    if subset and spec.train:
        data, targets = data[:subset], targets[:subset]
    return InMemoryDataset(data.unsqueeze(1), targets, num_classes=len(class_names), class_names=class_names)


def _open(dataset_class, spec):
    """Open the split from disk, downloading if allowed; one clear error when that fails."""
    import contextlib
    import io
    from pathlib import Path

    from ganframe import DATA_ENV
    from ganframe import GanframeError

    root = Path(spec.root)
    raw = root / dataset_class.__name__ / "raw"
    files = expected_files(dataset_class)
    present = [name for name in files if (raw / name).is_file()]
    cause = None
    if len(present) == len(files):
        try:
            return dataset_class(root=str(root), train=spec.train, download=False)
        except Exception as exc:  # truncated or corrupt IDX files
            raise GanframeError(
                f"Could not read the {dataset_class.__name__} files in {raw}: {exc}. They may be truncated "
                f"or corrupt; delete them to download again, or point --data-root / {DATA_ENV} at a good copy."
            ) from None
    if spec.download:
        try:  # torchvision prints every failed mirror; keep the terminal clean and report once
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return dataset_class(root=str(root), train=spec.train, download=True)
        except Exception as exc:
            cause = exc
    missing = [name for name in files if name not in present]
    why = f" and downloading them failed ({type(cause).__name__}: {cause})" if cause else ""
    raise GanframeError(
        f"{dataset_class.__name__} is not available: looked in {raw} for {', '.join(files)}; "
        f"missing {', '.join(missing)}{why}. Put the four IDX files there, or set {DATA_ENV} "
        f"(or --data-root) to a folder that holds {dataset_class.__name__}/raw/."
    )
