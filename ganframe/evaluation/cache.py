"""Where the evaluation classifier is cached, and under which key.

The classifier is trained once per data set and reused: it is stored as
``<folder>/ganframe-classifiers/<dataset>-<checksum>-v<version>.pt`` where the
checksum is a hash of the training split's tensors (pixels, labels, shapes,
dtypes), so a changed data set trains a new classifier instead of silently
reusing a stale one, and ``version`` changes with the network or its recipe.

``<folder>`` is the data root when it is writable, so the classifier travels
with its data. Shared or CI data roots are often read-only (a folder marked
``r-x`` is treated as read-only even for root, who could write there anyway);
then the per-user cache (:func:`ganframe.run.data_root.user_cache_dir`) is used
and the caller is told so. Both places are searched when loading.

Files are written atomically and loaded with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from pathlib import Path
from typing import Any

import torch

from ganframe.files import atomic_write
from ganframe.run.checkpoint import read_verified
from ganframe.run.data_root import user_cache_dir

FOLDER = "ganframe-classifiers"
#: bump when the network or its training recipe changes; older files are then ignored
CLASSIFIER_VERSION = 1
FORMAT = "ganframe-classifier"


def tensor_checksum(*tensors: torch.Tensor | None) -> str:
    """A short hex digest of the tensors' bytes, shapes and dtypes (one pass, no copies for CPU
    tensors: MNIST's 47 MB hash in about a tenth of a second)."""
    digest = hashlib.blake2b(digest_size=10)
    for tensor in tensors:
        if tensor is None:
            digest.update(b"none")
            continue
        flat = tensor.detach().cpu().contiguous()
        digest.update(f"{flat.dtype}:{tuple(flat.shape)};".encode())
        digest.update(memoryview(flat.reshape(-1).view(torch.uint8).numpy()))
    return digest.hexdigest()


def is_writable(folder: Path) -> bool:
    """Whether ganframe may write in ``folder`` (or create it inside its nearest existing parent).

    Besides ``os.access`` the permission bits must grant writing to someone: a folder marked
    read-only (``r-x``) stays untouched even when running as root, who bypasses them.
    """
    folder = Path(folder)
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return False
    return bool(folder.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def file_name(dataset: str, checksum: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset)
    return f"{safe}-{checksum}-v{CLASSIFIER_VERSION}.pt"


def candidate_folders(data_root: Path) -> list[Path]:
    """Where to look, in order: next to the data, then the per-user cache."""
    folders = [Path(data_root) / FOLDER, user_cache_dir() / FOLDER]
    return list(dict.fromkeys(folders))


def load_cached(data_root: Path, dataset: str, checksum: str) -> tuple[Path | None, dict[str, Any] | None]:
    """``(path, payload)`` of the first cached classifier for this training split that loads, in
    :func:`candidate_folders` order; ``(the first unusable file, None)`` when every file found is
    unreadable or outdated (so a bad read-only copy does not hide a good per-user one), or
    ``(None, None)`` when there is none."""
    unusable = None
    for folder in candidate_folders(data_root):
        path = folder / file_name(dataset, checksum)
        if not path.is_file():
            continue
        payload = load_classifier_file(path)
        if payload is not None and payload.get("checksum") == checksum:
            return path, payload
        unusable = unusable or path
    return unusable, None


def save_folder(data_root: Path) -> Path:
    """The data root's cache folder when writable, else the per-user one."""
    preferred = Path(data_root) / FOLDER
    return preferred if is_writable(preferred) else user_cache_dir() / FOLDER


def save_classifier(path: Path, payload: dict[str, Any]) -> None:
    document = {"format": FORMAT, "version": CLASSIFIER_VERSION, **payload}
    atomic_write(path, lambda handle: torch.save(document, handle))


def load_classifier_file(path: Path) -> dict[str, Any] | None:
    """The stored payload, or None when the file is unreadable or not a classifier of this version
    (the caller then retrains and overwrites it)."""
    try:  # the zip container's checksums first: flipped bytes would load as wrong weights
        payload = torch.load(io.BytesIO(read_verified(path)), map_location="cpu", weights_only=True)
    except Exception:
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("version") != CLASSIFIER_VERSION:
        return None
    return payload
