"""Image data sets from torchvision: ``mnist`` and ``fashion-mnist``.

Both are 1x28x28 uint8 images with 10 classes, held in memory and scaled to
``[-1, 1]`` when batched. Files are read from ``<data root>/<Name>/raw`` in
torchvision's layout and downloaded there when missing; when the download
fails (offline) the error names the folder, the files expected there and
``GANFRAME_DATA``. Options: ``subset`` / ``subset_seed`` (the first N training
images, or N drawn with a seed; :mod:`ganframe_builtins.subsets`).
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
    from ganframe_builtins.subsets import apply_to_tensors, read_subset

    subset = read_subset(spec.options)
    opened = _open(dataset_class, spec, num_classes=len(class_names))
    data, labels = opened.data.unsqueeze(1), opened.targets
    if spec.train:
        data, labels = apply_to_tensors(subset, data, labels, f"{dataset_class.__name__}'s training split")
    return InMemoryDataset(data, labels, num_classes=len(class_names), class_names=class_names)


def _open(dataset_class, spec, num_classes):
    """Open the split from disk, downloading if allowed; one clear error when that fails."""
    import contextlib
    import io
    from pathlib import Path

    from ganframe import DATA_ENV, GanframeError

    root = Path(spec.root)
    raw = root / dataset_class.__name__ / "raw"
    files = expected_files(dataset_class)
    present = [name for name in files if (raw / name).is_file()]
    cause = None
    if len(present) == len(files):
        try:
            problem = idx_problem(
                raw, [name for name in files if name.startswith("train" if spec.train else "t10k")], num_classes
            )
            if problem is None:
                return dataset_class(root=str(root), train=spec.train, download=False)
        except Exception as exc:  # truncated or corrupt IDX files torchvision refuses
            problem = f"{type(exc).__name__}: {exc}" if str(exc).strip() else type(exc).__name__
        if problem is not None:
            raise GanframeError(
                f"Could not read the {dataset_class.__name__} files in {raw}: {problem}. They may be truncated "
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


#: IDX magic numbers: 0x08 (unsigned bytes) in the third byte, the number of dimensions in the fourth
IDX_UBYTE = 0x08


def idx_header(path, dims: int) -> tuple[list[int], str | None]:
    """The sizes an IDX file's header declares, or a sentence saying why the file is not a
    ``dims``-dimensional unsigned-byte IDX file of exactly that size."""
    import struct
    from math import prod

    header_size = 4 + 4 * dims
    with open(path, "rb") as handle:
        header = handle.read(header_size)
    size = path.stat().st_size
    if len(header) < header_size:
        return [], f"{path.name} is {size} bytes long, shorter than an IDX header ({header_size} bytes)"
    magic = struct.unpack(">I", header[:4])[0]
    expected = (IDX_UBYTE << 8) | dims
    if magic != expected:
        what = "images" if dims == 3 else "labels"
        return [], (
            f"{path.name} starts with the magic number 0x{magic:08x} ({magic}), but an IDX {what} file "
            f"starts with 0x{expected:08x} ({expected}: unsigned bytes, {dims} dimension(s))"
        )
    sizes = list(struct.unpack(f">{dims}I", header[4:]))
    if 0 in sizes:
        return sizes, f"{path.name} declares {' x '.join(map(str, sizes))} values: an empty data set or image"
    if size != header_size + prod(sizes):
        shape = " x ".join(map(str, sizes))
        return sizes, (
            f"{path.name} is {size} bytes long, but its header declares {shape} values after the "
            f"{header_size}-byte header, {header_size + prod(sizes)} bytes in all"
        )
    return sizes, None


def idx_problem(raw, names: list[str], num_classes: int) -> str | None:
    """Why an images + labels pair of IDX files cannot be one labelled data set (``None``: they can):
    magic numbers, sizes against the headers, images against labels, label values against the classes."""
    images_name, labels_name = sorted(names, key=lambda name: "labels" in name)
    image_sizes, problem = idx_header(raw / images_name, 3)
    if problem:
        return problem
    label_sizes, problem = idx_header(raw / labels_name, 1)
    if problem:
        return problem
    if image_sizes[0] != label_sizes[0]:
        return (
            f"{images_name} holds {image_sizes[0]} images but {labels_name} holds {label_sizes[0]} labels; "
            "the two files of a split must have one label per image"
        )
    labels = (raw / labels_name).read_bytes()[8:]
    if labels and max(labels) >= num_classes:
        bad = next(i for i, label in enumerate(labels) if label >= num_classes)
        return (
            f"{labels_name} has label {labels[bad]} at index {bad}, but this data set has {num_classes} "
            f"classes (labels 0 to {num_classes - 1})"
        )
    return None
