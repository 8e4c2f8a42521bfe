"""``image-folder``: train on your own images.

Every PNG, JPEG and WebP file under a folder (recursively; hidden folders
skipped) becomes one sample, decoded once into a uint8 cache beside the data
(:mod:`ganframe_builtins.image_files`) so that training batches from memory
on the device like MNIST does. Options (``--dataset-option KEY=VALUE``):

- ``path`` (required): the folder.
- ``size`` (64): the short side is resized to ``size`` and the centre cropped
  square; ``size=none`` keeps each image's own size (then all must match).
- ``channels`` (3): 3 for RGB, 1 for greyscale.
- ``labels`` (``auto``): ``subfolders`` makes each first-level subfolder a
  class (names sorted), for conditional models and ``ganframe eval``;
  ``none`` leaves the images unlabelled; ``auto`` is ``subfolders`` when every
  image lies in a first-level subfolder and there are at least two of them
  (the layout of torchvision's ``ImageFolder``), else ``none``. Unconditional
  models ignore labels, so ``auto`` costs nothing and lets ``ganframe eval``
  score a run trained without the option.
- ``subset`` / ``subset_seed``: the first N files, or N drawn with a seed
  (:mod:`ganframe_builtins.subsets`); only those are decoded.

A folder has no held-out split: ``train=False`` (what ``ganframe eval``
compares against) is the same images.
"""

from ganframe import hookimpl

LABELS = ("auto", "subfolders", "none")


@hookimpl
def register_datasets(register):
    register(
        "image-folder",
        image_folder,
        help="your own PNG/JPEG/WebP images: --dataset-option path=DIR (size=64, channels=3, labels=auto|subfolders|none)",
    )


def image_folder(spec):
    """The images under ``path``, resized and cropped to ``size``; labelled by subfolder on request."""
    from pathlib import Path

    from ganframe_builtins import image_files
    from ganframe_builtins.subsets import read_subset

    path = spec.options.get("path", "")
    size = parse_size(spec.options.get("size", "64"))
    channels = spec.options.get("channels", 3)
    labels = spec.options.get("labels", "auto")
    subset = read_subset(spec.options)
    check_options(path, channels, labels)
    folder = Path(path).expanduser().resolve()
    files = image_files.list_images(folder)
    if not files:
        from ganframe import UsageError

        raise UsageError(
            f"No images in {folder}: image-folder reads files ending in {', '.join(image_files.SUFFIXES)} "
            "(any case), in the folder and its subfolders (hidden ones skipped). Put images there, or point "
            "path= at the folder that holds them."
        )
    if labels == "auto":
        labels = "subfolders" if has_class_folders(folder, files) else "none"
    class_names, file_labels = subfolder_labels(folder, files) if labels == "subfolders" else (None, None)
    index = subset.indices(len(files), f"{folder} ({len(files)} images)")
    if index is not None:
        files = [files[i] for i in index.tolist()]
        file_labels = [file_labels[i] for i in index.tolist()] if file_labels is not None else None
    decoding = image_files.Decoding(channels=channels, size=size)
    if size is None:
        shape, _ = image_files.native_shape(files, folder, channels)
    else:
        shape = (channels, size, size)
    return to_dataset(folder, files, file_labels, class_names, decoding, shape)


def to_dataset(folder, files, file_labels, class_names, decoding, shape, what=None):
    """Decode (or find cached) ``files`` and wrap them: an ``InMemoryDataset`` (in RAM or memory-mapped),
    or, with no cache and too little RAM, the DataLoader path's ``ImageFiles``."""
    import sys

    import torch

    from ganframe import InMemoryDataset, UsageError
    from ganframe_builtins import image_files

    decoded = image_files.load_images(folder, files, decoding, shape, what or str(folder))
    image_files.warn_skipped(decoded.skipped, folder, len(files))
    if not decoded.kept:
        named = ", ".join(str(p.relative_to(folder)) for p in files[: image_files.NAMED])
        raise UsageError(
            f"None of the {len(files)} image files in {folder} could be read (e.g. {named}); they may be "
            "truncated, corrupt or not images. Check them with an image viewer, or point path= at another folder."
        )
    if decoded.memory_mapped:
        print(
            f"ganframe: the image cache {decoded.cache_file} ({decoded.data.nbytes / 1e9:.1f} GB) is larger than "
            f"the memory limit ({image_files.memory_limit() / 1e9:.1f} GB, {image_files.MEMORY_ENV}); "
            "memory-mapping it",
            file=sys.stderr,
        )
    labels = None
    if file_labels is not None:
        position = {path: i for i, path in enumerate(files)}
        labels = torch.tensor([file_labels[position[path]] for path in decoded.kept], dtype=torch.long)
    if decoded.data is None:
        return image_files.ImageFiles(decoded.kept, decoding, shape, labels, class_names)
    num_classes = len(class_names) if class_names else 0
    return InMemoryDataset(decoded.data, labels, num_classes=num_classes, class_names=class_names)


def parse_size(value) -> int | None:
    from ganframe import UsageError

    text = str(value).strip().lower()
    if text == "none":
        return None
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise UsageError(
            f"size={value} is not an image size; use a number of pixels such as size=64 (short side resized, "
            "centre cropped square) or size=none (each image's own size; all must then match)."
        )
    return size


def check_options(path: str, channels: int, labels: str) -> None:
    from pathlib import Path

    from ganframe import UsageError, did_you_mean, quoted_list

    if not path:
        raise UsageError(
            "Dataset 'image-folder' needs the folder of images: add --dataset-option path=DIR (PNG, JPEG or WebP "
            "files, in DIR or its subfolders)."
        )
    folder = Path(path).expanduser()
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise UsageError(
            f"path={path} {what} ({folder.resolve()}); image-folder needs a folder holding PNG, JPEG or WebP "
            "files (subfolders are searched too)."
        )
    if channels not in (1, 3):
        raise UsageError(f"channels={channels} is not supported; use channels=3 (RGB) or channels=1 (greyscale).")
    if labels not in LABELS:
        raise UsageError(
            f"labels={labels} is not a labelling.{did_you_mean(labels, LABELS)} Use {quoted_list(LABELS)}: "
            "'subfolders' makes each first-level subfolder of path a class, 'auto' does so when every image is in one "
            "of at least two subfolders."
        )


def has_class_folders(folder, files) -> bool:
    """Every file inside a first-level subfolder, and at least two such subfolders."""
    parts = [path.relative_to(folder).parts for path in files]
    return all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) >= 2


def subfolder_labels(folder, files):
    """(sorted class names, one class index per file) from each file's first-level subfolder."""
    from ganframe import UsageError

    top = [path for path in files if len(path.relative_to(folder).parts) == 1]
    if top:
        raise UsageError(
            f"labels=subfolders makes each subfolder of {folder} a class, but {len(top)} image(s) lie directly in it "
            f"(e.g. {top[0].name}); move them into a class subfolder, or use labels=none."
        )
    names = sorted({path.relative_to(folder).parts[0] for path in files})
    index = {name: i for i, name in enumerate(names)}
    return names, [index[path.relative_to(folder).parts[0]] for path in files]
