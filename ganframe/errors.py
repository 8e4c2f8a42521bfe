"""Errors a user can cause, and how they are worded.

Every mistake a user can make (a misspelled plugin name, a bad option, a
missing file) raises a :class:`GanframeError` subclass carrying one clear
paragraph and an exit code. The CLI prints the paragraph and exits with that
code; no traceback reaches the user. Programming errors stay ordinary
exceptions so that bugs still show their traceback.
"""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable
from pathlib import Path


class GanframeError(Exception):
    """Base for errors shown to users as a message, not a traceback."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(GanframeError):
    """The user asked for something invalid (exit code 2, like a CLI usage error)."""

    exit_code = 2


class MetricDeclined(UsageError):
    """A metric cannot score this data set (raised by a metric factory, with the reason).

    A metric the user named makes this an error (exit 2); a default metric that
    declines is skipped, so ``--metrics``' default is every default metric that
    accepts the data set."""


class PluginError(GanframeError):
    """A plugin failed to load or register and strict mode makes that fatal."""

    exit_code = 1


class PluginContractError(GanframeError):
    """A component built by a plugin does not meet ganframe's contract (a plugin bug, named as such)."""

    exit_code = 1


class TrainingError(GanframeError):
    """Training cannot go on (e.g. a non-finite loss); the last good checkpoint is kept."""

    exit_code = 1


def closest(value: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to ``value``, best first (for "did you mean")."""
    choices = list(choices)
    matches = difflib.get_close_matches(value, choices, n=n, cutoff=0.5)
    lowered = value.lower()
    for choice in choices:  # substring hits that difflib's ratio misses ("smooth" -> "bce-smooth")
        if choice not in matches and (lowered in choice.lower() or choice.lower() in lowered):
            matches.append(choice)
    return matches[:n]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x' or 'y'?`` or an empty string when nothing is close."""
    matches = closest(value, choices)
    if not matches:
        return ""
    quoted = [f"'{m}'" for m in matches]
    joined = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" Did you mean {joined}?"


def quoted_list(values: Iterable[str]) -> str:
    """``'a', 'b', 'c'`` for error messages; ``(none)`` when empty."""
    values = list(values)
    return ", ".join(f"'{v}'" for v in values) if values else "(none)"


def exception_gist(exc: BaseException, *, lines: int = 1, limit: int | None = None) -> str:
    """The first ``lines`` non-empty lines of an exception's message, joined, for a one-paragraph
    error (the type name when the message is empty). torch's load_state_dict errors need two: the
    first names the module, the second what is missing. ``limit`` shortens it, ending in "..."."""
    kept = [line.strip() for line in str(exc).strip().splitlines() if line.strip()][:lines]
    text = " ".join(kept) or type(exc).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(exc: BaseException, *, skip: Iterable[str] = ()) -> str:
    """``Type: first line of the message (at file.py:LINE)`` for one-line reports.

    The location is the innermost traceback frame outside ``skip`` (folders
    whose frames are machinery, such as ganframe's own package or pluggy's),
    so a plugin's error names the plugin's line, not the loader's.
    """
    text = f"{type(exc).__name__}: {exception_gist(exc)}" if str(exc).strip() else type(exc).__name__
    skip = tuple(str(s) for s in skip)
    location = None
    if isinstance(exc, SyntaxError) and exc.filename:
        location = (exc.filename, exc.lineno)
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.startswith("<") or frame.filename.startswith(skip):
                continue
            location = (frame.filename, frame.lineno)
            break
    if location is None:
        return text
    path = Path(location[0])
    return f"{text} (at {'/'.join(path.parts[-2:])}:{location[1]})"
