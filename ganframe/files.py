"""Writing files so that a killed process never leaves half of one under its real name.

Every file a run writes (checkpoints, ``config.json``, sample grids, plots,
the classifier cache, ``ganframe sample --out``) goes through
:func:`atomic_write`: the bytes go to a hidden temporary file in the same
folder, are flushed and fsynced, and the file is then renamed over the
target. At worst a killed process leaves a ``.NAME.XXXX.tmp`` file, which
nothing reads and ``ganframe run --resume`` deletes.

It lives here, not with checkpoints, so that writing a picture does not
import checkpointing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], write: Callable[[Any], Any]) -> None:
    """Call ``write(file_object)`` on a temp file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _default_file_mode())  # mkstemp's 0600 would hide run files from other users
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 minus the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
