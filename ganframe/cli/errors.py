"""Turning user mistakes into one clear message and an exit code."""

from __future__ import annotations

import functools
import sys
import textwrap
import traceback
from collections.abc import Callable
from typing import Any

import typer

from ganframe.errors import GanframeError
from ganframe.plugin.failures import debugging


def report(message: str, *, prefix: str = "Error") -> None:
    """Print one paragraph to stderr, wrapped for the terminal."""
    width = 100
    text = textwrap.fill(f"{prefix}: {message}", width=width, break_on_hyphens=False, break_long_words=False)
    sys.stderr.write(text + "\n")


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: a GanframeError becomes a message on stderr and its exit code (with
    ``GANFRAME_DEBUG=1``, after the full traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GanframeError as exc:
            if debugging():  # GANFRAME_DEBUG=1: the traceback behind the message (and its causes) as well
                traceback.print_exception(exc, file=sys.stderr)
            report(exc.message)
            raise typer.Exit(exc.exit_code) from None

    return wrapper
