"""Refuse a run that cannot fit in memory before it allocates anything.

``--num 100000000`` or an untiled decode of a huge image would otherwise grow until the
operating system kills the process (or the GPU raises an out-of-memory error half way):
``require`` compares an estimate with what the device has free and names the option that
fixes it.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import InputError

__all__ = ["available_bytes", "require", "human_bytes"]


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9,
          "T": 10**12, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str, what: str) -> int:
    """Bytes from ``12e9``, ``8GB``, ``512 MiB``; an ``InputError`` naming ``what`` otherwise."""
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _UNITS:
        raise InputError(f"{what}={text!r}: give a size such as 8GB, 512MiB or 8000000000 (bytes)")
    return int(float(match.group(1)) * _UNITS[unit])


def _cpu_available() -> int | None:
    override = os.environ.get("ZOO_MEMORY_LIMIT", "").strip()  # for users who share a machine, and tests
    if override:
        return parse_size(override, "ZOO_MEMORY_LIMIT")
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes(device: Any = "cpu") -> int | None:
    """Free memory on ``device`` (a torch device or its name), or None when it cannot be told."""
    kind = getattr(device, "type", str(device).split(":")[0])
    if kind == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if kind == "cpu":
        return _cpu_available()
    return None


def require(nbytes: float, *, device: Any, what: str, fix: str) -> None:
    """Raise an ``InputError`` when ``what`` needs more than ``device`` has free, saying how to fix it."""
    free = available_bytes(device)
    if free is not None and nbytes > free:
        where = "this machine" if getattr(device, "type", str(device)) == "cpu" else str(device)
        raise InputError(f"{what} needs about {human_bytes(nbytes)} at once, but {where} has "
                         f"{human_bytes(free)} free; {fix}")
