"""Running ``ganframe`` by name, as a user would, in a subprocess.

A subprocess finds plugins exactly as the installed command does (entry
points, environment variables) and cannot be affected by what the test
process imported or cached. No torch import here.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_ganframe(
    *args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``python -m ganframe ARGS`` with this interpreter; ``env`` entries are added to the current
    environment. Returns the completed process (``returncode``, ``stdout``, ``stderr``)."""
    return subprocess.run(
        [sys.executable, "-m", "ganframe", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of ``RUN_DIR/metrics.jsonl``, one dict per logged window."""
    text = (Path(run_dir) / "metrics.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_training(
    *args: str, out: str | Path, env: Mapping[str, str] | None = None, timeout: float = 600
) -> list[dict]:
    """Run ``ganframe run ARGS --out OUT`` and check it trained: exit status 0, no traceback,
    finite losses in ``metrics.jsonl``, a checkpoint and sample grids. Returns the metrics rows.

    Example: ``check_training("--model", "dcgan", "--loss", "hinge", "--max-steps", "5", out=tmp_path / "run")``.
    """
    out = Path(out)
    result = run_ganframe("run", *args, "--out", str(out), env=env, timeout=timeout)
    where = f"`ganframe run {' '.join(map(str, args))}`"
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise AssertionError(f"{where} exited with {result.returncode}:\n{result.stderr[-3000:]}")
    metrics_file = out / "metrics.jsonl"
    if not metrics_file.is_file():
        raise AssertionError(f"{where} wrote no {metrics_file}.\n{result.stdout[-2000:]}")
    rows = read_metrics(out)
    if not rows:
        raise AssertionError(f"{where} logged no metrics.")
    for row in rows:
        for key in ("d_loss", "g_loss"):
            if not isinstance(row.get(key), (int, float)) or not math.isfinite(row[key]):
                raise AssertionError(
                    f"{where} logged {key}={row.get(key)!r} at step {row.get('step')}; expected a finite number."
                )
    if not list((out / "checkpoints").glob("*.pt")):
        raise AssertionError(f"{where} wrote no checkpoint in {out / 'checkpoints'}.")
    if not list((out / "samples").glob("*")):
        raise AssertionError(f"{where} wrote no sample grid in {out / 'samples'}.")
    return rows
