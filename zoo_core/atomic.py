"""Files appear whole or not at all: written unnamed and linked into place, or written beside
the target under a temporary name and renamed over it."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _rename_noreplace() -> Any:
    """Linux's ``renameat2(..., RENAME_NOREPLACE)`` through libc, or None where there is none."""
    global _RENAMEAT2
    if _RENAMEAT2 is None:
        _RENAMEAT2 = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                function = libc.renameat2
                function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
                function.restype = ctypes.c_int
                _RENAMEAT2 = function
            except (OSError, AttributeError):
                pass
    return _RENAMEAT2 or None


_RENAMEAT2: Any = None
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def _place_new(tmp: str | Path, path: str | Path) -> None:
    renameat2 = _rename_noreplace()
    if renameat2 is not None:  # one atomic step that fails if path exists (a link and an unlink otherwise)
        import ctypes

        if renameat2(_AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(path), _RENAME_NOREPLACE) == 0:
            return
        error = ctypes.get_errno()
        if error == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, os.strerror(error), str(path))
        if error not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # not a file system without it
            raise OSError(error, os.strerror(error), str(path))
    try:
        os.link(tmp, path)  # atomic, and fails if path exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: the best that remains is check, then rename
        if os.path.lexists(path):
            raise FileExistsError(f"{path} exists") from None
        os.replace(tmp, path)
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


def write_atomic(path: Path, data: bytes | str, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (``overwrite=False``: never over a file that exists).

    A folder run writes thousands of small files, and each step is a measurable part of each
    one, so this does the least that keeps the guarantee: one exclusive create of a hidden
    temporary file named after the target, this process and a counter (``mkstemp``'s random
    names only where that name is taken), writes through that descriptor, one rename. The file
    gets the mode a plain ``open`` would give it (0o666 less the umask).

    A new file (``overwrite=False``) on Linux is better still: written unnamed (``O_TMPFILE``)
    and given its name by one ``linkat``, which fails if the name exists. That costs a plain
    script's single create plus a link (a rename cost 1.5-2x that here), and a run killed
    part way leaves nothing at all behind, not even a temporary file."""
    target = os.fspath(path)  # strings from here on: a folder run writes thousands of these
    payload = data.encode() if isinstance(data, str) else data
    head, name = os.path.split(target)
    if not overwrite and _write_unnamed(head or ".", target, payload):
        return
    try:
        fd, tmp = _create_temporary(head or ".", name)
    except (FileNotFoundError, NotADirectoryError):
        raise  # the caller names the missing folder
    except OSError as exc:  # a read-only or full folder: one line naming the file
        raise OutputError.writing(Path(target), exc) from exc
    try:
        try:
            _write_all(fd, payload, target)
        finally:
            os.close(fd)
        try:
            if overwrite:
                os.replace(tmp, target)
            else:
                _place_new(tmp, target)
        except (FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise  # the caller says which (another run's file, a folder in the way)
        except OSError as exc:
            raise OutputError.writing(Path(target), exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_all(fd: int, payload: bytes, target: str) -> None:
    """Write all of ``payload`` to ``fd``; a full disk or read-only folder is an ``OutputError``
    naming ``target``, the file the user asked for (not the temporary one)."""
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        if exc.errno in _FULL_OR_READ_ONLY:
            raise OutputError.writing(Path(target), exc) from exc
        raise


_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_unnamed_works = bool(_O_TMPFILE) and sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd")
_root_fd: int | None = None


def _write_unnamed(directory: str, target: str, payload: bytes) -> bool:
    """Write ``payload`` as a new file ``target`` through an unnamed file linked into place; False
    (nothing done) where the file system or the kernel cannot, so that the caller goes the
    temporary-name way. Errors about ``target`` itself are raised as ``write_atomic``'s are."""
    global _unnamed_works, _root_fd
    if not _unnamed_works:
        return False
    try:
        fd = os.open(directory, _O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
    except (FileNotFoundError, NotADirectoryError):
        raise  # the caller names the missing folder
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS):
            return False  # this file system has no unnamed files: the named way works everywhere
        raise OutputError.writing(Path(target), exc) from exc
    try:
        _write_all(fd, payload, target)
        if _root_fd is None:  # linkat with AT_SYMLINK_FOLLOW needs a directory descriptor in Python
            _root_fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.link(f"/proc/self/fd/{fd}", target, src_dir_fd=_root_fd, follow_symlinks=True)
        except (FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise  # as write_atomic: the caller says which
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP):
                _unnamed_works = False  # /proc hidden, or a kernel that will not link it: never again
                return False
            raise OutputError.writing(Path(target), exc) from exc
    finally:
        os.close(fd)  # an unnamed file that was never linked disappears with its descriptor
    return True


_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_serial = itertools.count()


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """Open a new hidden file beside ``name`` for writing: ``.NAME.PID-N.tmp``, or a random name
    (``mkstemp``) where that one exists (left by a process that crashed and had this PID)."""
    tmp = os.path.join(directory, f".{name}.{os.getpid()}-{next(_serial)}.tmp")
    try:
        return os.open(tmp, _OPEN_NEW, 0o666), tmp
    except FileExistsError:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o644)  # mkstemp's 0o600 is for secrets; these are a user's outputs
        return fd, tmp
