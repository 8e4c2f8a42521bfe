"""``--json`` output stays JSON: what plugins print goes to stderr meanwhile.

A plugin that calls ``print()`` while it is imported, registers or builds a
component would otherwise write into the JSON document a ``--json`` command
prints (``ganframe plugins --json``, ``ganframe eval --json``), and a script
reading it would fail on output that still exited 0. While plugins load and
run, ``sys.stdout`` is therefore stderr; the document is printed after, to the
real stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything printed to ``sys.stdout`` to stderr inside the block."""
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = real


def plugin_output(as_json: bool):
    """:func:`stdout_to_stderr` for ``--json`` commands, nothing otherwise."""
    return stdout_to_stderr() if as_json else nullcontext()
