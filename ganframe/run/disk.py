"""The disk a run writes to: refused early when it cannot be written, explained when it fills up.

Before anything is created, :func:`check_output_folder` makes sure the run
directory can be made and written (a parent that is a file, a read-only file
system, a folder without write permission), by creating and deleting a hidden
probe file where the run directory will be: permission bits alone do not tell
(root may write a 0555 folder, nobody may write a read-only mount).

During a run, a full disk or a file system remounted read-only surfaces as an
``OSError`` from whichever file was being written (a checkpoint, a sample
grid, ``metrics.jsonl``), sometimes wrapped in torch's own zip-writer error.
:func:`disk_failure` finds it in the exception chain, and
:func:`disk_failure_message` says what happened, which checkpoint is the last
complete one (checkpoints are replaced atomically, so a failed write never
damages the previous one) and how to resume once there is space.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ganframe.errors import UsageError

#: errno values that mean "this disk cannot take more writes", in words
DISK_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EDQUOT: "the disk quota is exceeded",
}


def _reason(exc: OSError) -> str:
    if exc.errno in DISK_ERRORS:
        return DISK_ERRORS[exc.errno]
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def check_output_folder(run_dir: Path, option: str = "--out", shown: Path | None = None) -> None:
    """A UsageError unless ``run_dir`` (existing or not) can be created and written; messages show
    ``option shown`` (default: ``run_dir``; a file's path when ``run_dir`` is the folder it goes in)."""
    run_dir = Path(run_dir)
    if shown is not None and Path(shown).is_dir():
        raise UsageError(
            f"{option} {shown} is a folder; give a file name inside it, e.g. {Path(shown) / 'samples.png'}."
        )
    existing = Path(os.path.abspath(run_dir))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(
            f"{option} {shown or run_dir} cannot be created: {existing} is a file, not a folder. Choose an {option} "
            "whose parent folders are folders (nothing was written)."
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".ganframe-write-test-", dir=existing)
    except OSError as exc:
        where = "in it" if existing == Path(os.path.abspath(run_dir)) else f"in {existing}, where it would be created"
        raise UsageError(
            f"{option} {shown or run_dir} cannot be written: creating a file {where} failed ({_reason(exc)}, "
            f"errno {exc.errno}). Choose an {option} on a writable disk, in a folder you may write to "
            "(nothing was written)."
        ) from None
    os.close(fd)
    os.unlink(probe)


def disk_failure(exc: BaseException) -> OSError | None:
    """The full-disk or read-only ``OSError`` behind ``exc`` (itself, its cause or its context), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_ERRORS:
            return current
        current = current.__cause__ or current.__context__
    return None


def disk_failure_message(error: OSError, state) -> str:
    """One paragraph: what the disk said, where the run stopped, its last complete checkpoint and the
    command that resumes it."""
    from ganframe.run.resume import resume_command

    what = f" while writing {error.filename}" if error.filename else ""
    if state.last_checkpoint is not None:
        kept = (
            f"The last complete checkpoint, {state.last_checkpoint} (step {state.checkpoint_step}), is intact "
            "(checkpoints are replaced atomically)."
        )
        then = f"Free some space (or make the disk writable), then resume with: {resume_command(state.run_dir, state.world_size)}"
    elif (Path(state.run_dir) / "config.json").is_file():
        kept = "No checkpoint had been written yet."
        then = (
            f"Free some space, then start it again from step 0 with: {resume_command(state.run_dir, state.world_size)}"
        )
    else:
        kept = "Nothing of the run had been written yet."
        then = "Free some space (or choose another --out), then run the command again."
    return (
        f"Training stopped at step {state.step} (epoch {state.current_epoch}) because {_reason(error)}{what} "
        f"(OSError {error.errno}: {error.strerror}). {kept} {then}"
    )
