"""One writer per run directory: an exclusive OS file lock on ``RUN/.lock``.

Two processes writing one run directory (the same ``--out`` twice, or
``--resume`` of a run that is still training) would interleave their
checkpoints and metrics rows. ``ganframe run`` and ``--resume`` therefore take
``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``RUN/.lock`` before they change
anything, and record who holds it (PID, host, start time) in that file, so a
refused second writer can name the first. The kernel drops the lock when the
holder exits, however it exits (``kill -9`` included), so a stale lock never
blocks anyone: a ``.lock`` file nobody holds is simply taken over. Under
torchrun only rank 0 holds it (:mod:`ganframe.run.runner` shares the verdict
with the other ranks).

On systems without ``fcntl`` (Windows) the lock is a no-op.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from pathlib import Path

from ganframe.errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunDirectoryInUse(UsageError):
    """Another live process holds the run directory's lock."""


class RunLock:
    """A held lock; :meth:`release` (or process exit) lets it go."""

    def __init__(
        self,
        run_dir: Path,
        fd: int | None,
        created_dir: bool = False,
        created_file: bool = False,
        previous: tuple[bytes, int, int] | None = None,
    ):
        self.run_dir = run_dir
        self._fd = fd
        self._created_dir = created_dir
        self._created_file = created_file
        self._previous = previous  # the last writer's record and the file's times, put back on abandon

    def release(self, *, abandon: bool = False) -> None:
        """Unlock. ``abandon``: the run was refused before it wrote anything, so the lock file and
        the directory are removed again if this lock created them (nothing else is left behind, and
        an earlier run's directory is as it was). After a run the file stays, naming its last writer."""
        if self._fd is None:
            return
        try:
            if abandon and self._created_file:
                (self.run_dir / LOCK_NAME).unlink(missing_ok=True)
                if self._created_dir and not any(self.run_dir.iterdir()):
                    self.run_dir.rmdir()
            elif abandon and self._previous is not None:
                record, atime, mtime = self._previous
                os.pwrite(self._fd, record, 0)
                os.ftruncate(self._fd, len(record))
                os.utime(self._fd, ns=(atime, mtime))
        except OSError:
            pass
        finally:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def owner_record() -> dict:
    """What a refused writer is told about the holder."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
    }


def describe_owner(path: Path) -> str:
    """``PID 123 on host h, started ...`` from a lock file (a fallback when it cannot be read)."""
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
        return f"PID {owner['pid']} on host {owner['host']}, started {owner['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process whose details could not be read from " + str(path)


def in_use_message(run_dir: Path, resuming: bool) -> str:
    owner = describe_owner(run_dir / LOCK_NAME)
    then = (
        f"wait for it to finish (or stop it), then run `ganframe run --resume {run_dir}` again"
        if resuming
        else "wait for it to finish (or stop it), or choose another --out"
    )
    return (
        f"Run directory {run_dir} is in use by another ganframe process ({owner}); a run directory has one "
        f"writer at a time, so nothing was changed. To go on, {then}."
    )


def refuse_if_held(run_dir: Path, *, resuming: bool) -> None:
    """Raise :class:`RunDirectoryInUse` when a live process holds ``run_dir``'s lock; creates nothing."""
    if fcntl is None:
        return
    try:
        fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            raise RunDirectoryInUse(in_use_message(Path(run_dir), resuming)) from None
    finally:
        os.close(fd)


def acquire(run_dir: str | os.PathLike[str], *, resuming: bool = False) -> RunLock:
    """Take the run directory's lock, creating the directory if needed; a
    :class:`RunDirectoryInUse` error (exit 2) naming the holder when another process has it."""
    run_dir = Path(run_dir)
    if fcntl is None:
        return RunLock(run_dir, None)
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"Run directory {run_dir} cannot be created ({exc.strerror or exc}); choose an --out in a writable folder."
        ) from None
    path = run_dir / LOCK_NAME
    while True:
        created_file = not path.exists()
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(
                f"Run directory {run_dir} is not writable ({exc.strerror or exc}); choose another --out."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                raise RunDirectoryInUse(in_use_message(run_dir, resuming)) from None
            return RunLock(run_dir, None)  # a file system without flock (some NFS): run unlocked
        try:  # the holder before us may have removed the file between our open and our flock
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    record = (json.dumps(owner_record()) + "\n").encode()
    info = os.fstat(fd)
    previous = (os.pread(fd, max(info.st_size, 0), 0), info.st_atime_ns, info.st_mtime_ns)
    try:
        os.pwrite(fd, record, 0)  # over the last writer's record in place, then cut to length
        os.ftruncate(fd, len(record))
    except OSError:  # a full disk: the lock holds all the same, only its details are missing
        pass
    return RunLock(run_dir, fd, created, created_file, previous)
