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
from contextlib import nullcontext, redirect_stdout


def plugin_output(as_json: bool):
    """For ``--json`` commands, ``sys.stdout`` sent to stderr inside the block; nothing otherwise."""
    return redirect_stdout(sys.stderr) if as_json else nullcontext()
