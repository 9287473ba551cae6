"""Files appear whole or not at all: write beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_target", "write_atomic"]


@contextlib.contextmanager
def atomic_target(path: Path, *, mode: int = 0o644, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it was. With
    ``overwrite=False`` the file is put in place only if ``path`` does not exist at that very
    moment (a hard link, which fails rather than replace): a file another process wrote since
    the run checked is never clobbered, and ``FileExistsError`` says so. A full disk or a
    read-only folder is an ``OutputError`` naming ``path`` (also an ``OSError``).
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise OutputError.writing(path, exc) from exc
    os.close(fd)
    try:
        try:
            yield Path(tmp)
        except OSError as exc:
            if exc.errno in _FULL_OR_READ_ONLY and not isinstance(exc, OutputError):
                raise OutputError.writing(path, exc) from exc
            raise
        try:
            os.chmod(tmp, mode)
            if overwrite:
                os.replace(tmp, path)
            else:
                _place_new(Path(tmp), path)
        except FileExistsError:
            raise
        except OSError as exc:
            raise OutputError.writing(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Errors that, while writing a temporary file, are about the place written to (not a bug).
_FULL_OR_READ_ONLY = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def _place_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)  # atomic, and fails if path exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: the best that remains is check, then rename
        if path.exists():
            raise FileExistsError(f"{path} exists") from None
        os.replace(tmp, path)
        return
    tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes | str, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (``overwrite=False``: never over a file that exists)."""
    with atomic_target(path, overwrite=overwrite) as tmp:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
