"""Where data sets live: ``--data-root`` > ``GANFRAME_DATA`` > a per-user cache.

Kept free of torch so the CLI can resolve and report paths cheaply.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_ENV = "GANFRAME_DATA"


def user_cache_dir() -> Path:
    """The per-user data folder: ``$XDG_CACHE_HOME/ganframe/data`` (``~/.cache`` by default),
    ``%LOCALAPPDATA%\\ganframe\\data`` on Windows, ``~/Library/Caches/ganframe/data`` on macOS."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ganframe" / "data"


def resolve_data_root(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The data root to use, by precedence: the CLI option, ``GANFRAME_DATA``, the user cache."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return user_cache_dir()
