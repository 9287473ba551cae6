"""Where zoo keeps its own small cache (verification results, parsed registries)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["zoo_cache_dir"]


def zoo_cache_dir() -> Path:
    """``ZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/zoo``, else ``~/.cache/zoo``."""
    explicit = os.environ.get("ZOO_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "zoo"
