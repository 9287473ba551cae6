"""sha256 checks for weights files, remembered so a verified file is not hashed again.

hf_hub_download does not hash what it downloads, and a bundled copy can be damaged on disk,
so zoo checks size and sha256 when a file first enters use. The result is remembered by
path, size and modification time in ``$ZOO_CACHE_DIR/verified.json``; touching or
replacing the file makes zoo hash it again. ``zoo verify`` always re-hashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .atomic import write_atomic
from .errors import IntegrityError
from .paths import zoo_cache_dir

__all__ = ["sha256_file", "check_file", "file_sha256", "zoo_cache_dir", "forget"]

_CHUNK = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _memo_path() -> Path:
    return zoo_cache_dir() / "verified.json"


def _read_memo() -> dict[str, list]:
    try:
        data = json.loads(_memo_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_memo(memo: dict[str, list]) -> None:
    path = _memo_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(memo, indent=0, sort_keys=True))
    except OSError:
        pass  # a read-only cache only costs a re-hash next time


def _key(path: Path) -> tuple[str, int, int]:
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


def file_sha256(path: Path, *, rehash: bool = False) -> str:
    """sha256 of ``path``, from the memo when the file is unchanged since it was hashed."""
    key, size, mtime = _key(path)
    memo = _read_memo()
    known = memo.get(key)
    if not rehash and isinstance(known, list) and known[:2] == [size, mtime]:
        return str(known[2])
    digest = sha256_file(Path(key))
    memo[key] = [size, mtime, digest]
    _write_memo(memo)
    return digest


def check_file(path: Path, *, size: int, sha256: str, what: str, rehash: bool = False) -> None:
    """Raise ``IntegrityError`` unless ``path`` has exactly ``size`` bytes and ``sha256``."""
    actual_size = Path(path).stat().st_size
    if actual_size != size:
        raise IntegrityError(f"{what}: {path} has {actual_size} bytes, expected {size}")
    actual = file_sha256(path, rehash=rehash)
    if actual != sha256:
        forget(path)
        raise IntegrityError(f"{what}: {path} has sha256 {actual}, expected {sha256}")


def forget(path: Path) -> None:
    """Drop ``path`` from the memo (after deleting or distrusting it)."""
    memo = _read_memo()
    if memo.pop(str(Path(path).resolve()), None) is not None:
        _write_memo(memo)
