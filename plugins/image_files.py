"""Image files decoded once into a uint8 cache (a helper for ``image-folder`` and ``celeba``).

Decoding JPEGs costs far more than a training step, so a folder is decoded
**once** into one ``(N, C, H, W)`` uint8 array, the layout the engine's
device-resident fast path (:class:`ganframe.train.data.InMemoryDataset`) batches
from. The array is written to ``<cache folder>/<key>.u8`` with a small JSON
header beside it (``<key>.json``, written last, so a half-written cache is
never trusted). The key hashes the file list with sizes and modification
times and the decoding settings: adding, removing or editing an image makes a
new cache; an unchanged folder is never decoded again.

Loading the cache: when it fits in memory (half the available RAM, or
``GANFRAME_IMAGE_MEMORY_LIMIT`` bytes) it is read into RAM; otherwise it is
memory-mapped, so a folder larger than RAM still trains from the same fast
path with the operating system paging pixels in. When no cache folder is
writable (read-only data and no writable per-user cache), the images are
decoded into RAM when they fit, and otherwise served by a ``DataLoader`` with
workers that decodes every batch (:class:`ImageFiles`), the slow path.

Unreadable files are skipped and counted; a warning on stderr names the first
few. Decoding uses worker processes and shows a progress bar on a terminal.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CACHE_FOLDER = ".ganframe-cache"
MEMORY_ENV = "GANFRAME_IMAGE_MEMORY_LIMIT"
FORMAT = "ganframe-image-cache"
#: bump when decoding changes (resampling, cropping): older caches are then ignored
VERSION = 1
#: how many unreadable files a warning names
NAMED = 5


@dataclass(frozen=True)
class Decoding:
    """How a file becomes a ``channels x H x W`` array: optional centre ``crop`` (square, before
    resizing), then the short side resized to ``size`` and the centre cropped square (``None``:
    native size)."""

    channels: int = 3
    size: int | None = 64
    crop: int | None = None

    def key(self) -> str:
        return f"v{VERSION}-c{self.channels}-s{self.size}-crop{self.crop}"


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, sorted by relative path; hidden folders
    (such as the cache itself) are left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / name for name in filenames if name.lower().endswith(SUFFIXES))
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def decode(path: Path, decoding: Decoding):
    """The image as a ``(C, H, W)`` uint8 numpy array, or ``None`` when it cannot be read."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as image:
            if decoding.crop is None and decoding.size is not None and image.format == "JPEG":
                # let the JPEG decoder shrink by 1/2, 1/4, 1/8 when the image is much larger: far
                # cheaper, and still at least the target size before the final resize
                scale = decoding.size / min(image.size)
                image.draft(
                    "RGB" if decoding.channels == 3 else "L",
                    (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale))),
                )
            image = image.convert("RGB" if decoding.channels == 3 else "L")
            if decoding.crop is not None:
                image = centre_crop(image, decoding.crop)
            if decoding.size is not None:
                image = resize_short_side(image, decoding.size)
                image = centre_crop(image, decoding.size)
            array = np.asarray(image, dtype=np.uint8)
    except Exception:  # truncated, corrupt, not an image, unsupported: the caller counts and names it
        return None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return np.ascontiguousarray(array)


def resize_short_side(image, size: int):
    from PIL import Image

    width, height = image.size
    scale = size / min(width, height)
    target = (max(size, round(width * scale)), max(size, round(height * scale)))
    return image if target == image.size else image.resize(target, Image.Resampling.BICUBIC)


def centre_crop(image, size: int):
    width, height = image.size
    left, top = (width - min(size, width)) // 2, (height - min(size, height)) // 2
    return image.crop((left, top, left + min(size, width), top + min(size, height)))


def native_shape(files: list[Path], folder: Path, channels: int) -> tuple[tuple[int, int, int], list[Path]]:
    """The one ``(C, H, W)`` all files share (read from headers only) and the files that could not
    be opened; different sizes are a UsageError naming two of them."""
    from PIL import Image

    from ganframe import UsageError

    sizes: dict[tuple[int, int], Path] = {}
    broken = []
    for path in files:
        try:
            with Image.open(path) as image:
                sizes.setdefault(image.size, path)
        except Exception:
            broken.append(path)
    if len(sizes) > 1:
        (size_a, a), (size_b, b) = list(sizes.items())[:2]
        raise UsageError(
            f"The images in {folder} have different sizes ({len(sizes)} sizes, e.g. {a.relative_to(folder)} is "
            f"{size_a[0]}x{size_a[1]} and {b.relative_to(folder)} is {size_b[0]}x{size_b[1]}), and size=none keeps "
            "each image's own size, which a batch cannot mix. Give a size (e.g. --dataset-option size=64: short "
            "side resized, centre cropped square), or make all images the same size."
        )
    if not sizes:
        return (channels, 0, 0), broken
    width, height = next(iter(sizes))
    return (channels, height, width), broken


def cache_key(folder: Path, files: list[Path], decoding: Decoding) -> str:
    """A hash of the file list (relative paths, sizes, modification times) and the decoding."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(decoding.key().encode())
    for path in files:
        stat = path.stat()
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def memory_limit() -> int:
    """Bytes of pixels kept in RAM: ``GANFRAME_IMAGE_MEMORY_LIMIT``, else half the available memory."""
    from ganframe import UsageError

    value = os.environ.get(MEMORY_ENV)
    if value:
        try:
            return int(float(value))
        except ValueError:
            raise UsageError(f"{MEMORY_ENV}={value!r} must be a number of bytes, e.g. 8e9.") from None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def cache_folders(folder: Path) -> list[Path]:
    """Where a folder's cache may live, in order: beside the data, then the per-user cache."""
    from ganframe import user_cache_dir

    return [Path(folder) / CACHE_FOLDER, user_cache_dir() / "image-cache"]


@dataclass
class Decoded:
    """Pixels (a uint8 tensor, in RAM or memory-mapped), or ``None`` with the files kept for lazy
    decoding; which files were skipped as unreadable; where the cache is (``None``: not cached)."""

    data: object
    kept: list[Path]
    skipped: list[Path]
    cache_file: Path | None
    memory_mapped: bool = False
    decoded_now: bool = False


def load_images(folder: Path, files: list[Path], decoding: Decoding, shape: tuple[int, int, int], what: str) -> Decoded:
    """Pixels of ``files`` (all of shape ``shape``), from the cache when there is one, else decoded
    (and cached where a cache folder is writable). The caller has checked that ``files`` is not empty."""
    from ganframe import is_writable

    key = cache_key(folder, files, decoding)
    limit = memory_limit()
    for place in cache_folders(folder):
        found = _read_cache(place, key, files, folder, shape, limit)
        if found is not None:
            return found
    for place in cache_folders(folder):
        if is_writable(place):
            try:
                _write_cache(place, key, files, folder, decoding, shape, what)
            except OSError as exc:  # full disk, permissions the check could not see: try the next place
                print(
                    f"ganframe: could not write the image cache in {place} ({exc}); trying elsewhere", file=sys.stderr
                )
                continue
            found = _read_cache(place, key, files, folder, shape, limit)
            found.decoded_now = True
            return found
    return _uncached(files, decoding, shape, limit, what)


def _paths(place: Path, key: str) -> tuple[Path, Path]:
    return place / f"{key}.u8", place / f"{key}.json"


def _read_cache(place, key, files, folder, shape, limit) -> Decoded | None:
    import numpy as np
    import torch

    data_path, header_path = _paths(place, key)
    try:
        header = json.loads(header_path.read_text())
        count = int(header["count"])
        if header.get("format") != FORMAT or tuple(header["shape"]) != tuple(shape):
            return None
        if data_path.stat().st_size != count * int(np.prod(shape)):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    skipped_names = set(header.get("skipped", []))
    kept = [p for p in files if p.relative_to(folder).as_posix() not in skipped_names]
    skipped = [p for p in files if p.relative_to(folder).as_posix() in skipped_names]
    if len(kept) != count:
        return None
    nbytes = count * int(np.prod(shape))
    if count == 0:
        data = torch.empty((0, *shape), dtype=torch.uint8)
    elif nbytes <= limit:
        data = torch.from_numpy(np.fromfile(data_path, dtype=np.uint8).reshape(count, *shape))
    else:  # copy-on-write mapping: writable for torch, never written back to the file
        data = torch.from_numpy(np.memmap(data_path, dtype=np.uint8, mode="c", shape=(count, *shape)))
    return Decoded(data, kept, skipped, data_path, memory_mapped=count > 0 and nbytes > limit)


def _write_cache(place, key, files, folder, decoding, shape, what) -> None:
    from ganframe import atomic_write

    data_path, header_path = _paths(place, key)
    skipped: list[str] = []

    def write(handle):
        for index, array in _decode_all(files, decoding, what, f"caching in {place}"):
            if array is None or array.shape != tuple(shape):
                skipped.append(files[index].relative_to(folder).as_posix())
            else:
                handle.write(array.tobytes())

    atomic_write(data_path, write)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "count": len(files) - len(skipped),
        "shape": list(shape),
        "decoding": decoding.key(),
        "skipped": skipped,
    }
    atomic_write(header_path, lambda handle: handle.write(json.dumps(header).encode()))


def _uncached(files, decoding, shape, limit, what) -> Decoded:
    """No writable cache folder: decode into RAM when it fits, else keep the file list for the
    DataLoader path (the decode here only finds the unreadable files)."""
    import numpy as np
    import torch

    fits = len(files) * int(np.prod(shape)) <= limit
    pixels = np.empty((len(files), *shape), dtype=np.uint8) if fits else None
    good = []
    for index, array in _decode_all(files, decoding, what, "no writable cache folder, not cached"):
        if array is not None and array.shape == tuple(shape):
            if pixels is not None:
                pixels[len(good)] = array
            good.append(index)
    kept = [files[i] for i in good]
    good_set = set(good)
    skipped = [f for i, f in enumerate(files) if i not in good_set]
    data = torch.from_numpy(pixels[: len(good)]) if pixels is not None else None
    return Decoded(data, kept, skipped, None, decoded_now=True)


def workers_for(count: int) -> int:
    """Decoding processes: none for a few hundred files (starting them costs more), else one per
    CPU, up to 8."""
    if count < 512:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(8, cpus))


def _decode_all(files, decoding, what, where):
    """``(index, array or None)`` for every file, in order, decoded by worker processes, with a
    progress bar on a terminal (a start and an end line elsewhere)."""
    import time

    from torch.utils.data import DataLoader

    workers = workers_for(len(files))
    loader = DataLoader(
        _Decoder(files, decoding),
        batch_size=None,
        collate_fn=_as_is,
        num_workers=workers,
        prefetch_factor=32 if workers else None,
    )
    message = f"Decoding {len(files)} images of {what} ({where})"
    start = time.perf_counter()
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task(message, total=len(files))
            for index, item in enumerate(loader):
                progress.advance(task)
                yield index, item
    else:
        print(f"ganframe: {message} ...", file=sys.stderr, flush=True)
        for index, item in enumerate(loader):
            yield index, item
    print(f"ganframe: decoded {len(files)} images in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def _as_is(item):
    """Keep numpy arrays (and ``None``) as they are; the default would make tensors."""
    return item


class _Decoder:
    """``files[i]`` decoded (``None`` when unreadable): a map-style data set for the decode workers."""

    def __init__(self, files, decoding):
        self.files, self.decoding = files, decoding

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        return decode(self.files[index], self.decoding)


_warned: set[tuple[str, ...]] = set()


def warn_skipped(skipped: list[Path], folder: Path, total: int) -> None:
    """One warning on stderr counting the unreadable files and naming the first few (once per process:
    ``ganframe eval`` loads a folder twice, as training and held-out split)."""
    seen = (str(folder), str(total), *map(str, skipped))
    if not skipped or seen in _warned:
        return
    _warned.add(seen)
    named = ", ".join(str(p.relative_to(folder)) for p in skipped[:NAMED])
    more = f" and {len(skipped) - NAMED} more" if len(skipped) > NAMED else ""
    print(
        f"ganframe: warning: skipped {len(skipped)} of {total} image files in {folder} that could not be read: "
        f"{named}{more}.",
        file=sys.stderr,
        flush=True,
    )


class ImageFiles:
    """The slow path: a map-style data set decoding ``files[i]`` on every access (for a ``DataLoader``
    with workers), for folders that neither fit in RAM nor have a writable cache folder."""

    def __init__(self, files, decoding, shape, labels=None, class_names=None):
        self.files, self.decoding, self.sample_shape = list(files), decoding, tuple(shape)
        self.labels = labels
        self.class_names = list(class_names or [])
        self.num_classes = len(self.class_names) if labels is not None else 0
        self.loader_workers = workers_for(max(len(self.files), 512))

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        import torch

        from ganframe import scale_to_unit_range

        array = decode(self.files[index], self.decoding)
        if array is None:  # readable when checked, not now: a changing folder
            raise RuntimeError(f"{self.files[index]} could not be read (it was readable when the data set was opened)")
        label = self.labels[index] if self.labels is not None else torch.tensor(-1)
        return scale_to_unit_range(torch.from_numpy(array)), label
