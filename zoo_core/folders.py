"""Folder outputs that never lose a user's file.

A command that writes a folder of files (``zoo data --out D``, a plugin's verb) writes them
into a staging folder first and only then puts them in place:

* ``D`` absent: the staging folder is renamed to ``D``, so the folder appears whole or not at all;
* ``D`` an existing folder (empty, or holding files and ``force`` given): each staged file is
  moved into ``D``, replacing only a file of the same name; every other file stays, byte for
  byte. A folder that exists is never removed, renamed or replaced, so ``--out .`` is safe;
  a folder above the current one is refused outright (it holds the user's work).

Staging folders carry the host and process id in their name, so the next run on the same
output removes what a killed run left (and only that: a live run's folder is kept).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import InputError

__all__ = ["staged_folder", "check_folder_target", "remove_stale_staging"]

_TAG = "zoo-staging"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _staging_prefix(name: str) -> str:
    return f".{name}.{_TAG}.{_host()}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_staging(directory: Path, name: str) -> list[Path]:
    """Remove the staging folders for output ``name`` in ``directory`` left by killed runs on this host.

    Only folders named by ``staged_folder`` (``.NAME.zoo-staging.HOST.PID.XXXX``) whose process
    is gone are removed; returns them.
    """
    pattern = re.compile(rf"^\.{re.escape(name)}\.{_TAG}\.{re.escape(_host())}\.(\d+)\.[^/]+$")
    removed: list[Path] = []
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))) \
                and entry.is_dir() and not entry.is_symlink():
            from .plugins import warn

            warn(f"removing {entry}: a staging folder a killed run (process {match.group(1)}) left behind")
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _is_staging(entry: Path) -> bool:
    return f".{_TAG}." in entry.name and entry.name.startswith(".")


def check_folder_target(out: Path, *, option: str = "--out", force: bool = False) -> Path:
    """The absolute folder ``out`` names, checked before any work: not a file, not a folder above the
    current one, and (unless ``force``) empty. An ``InputError`` naming ``option`` otherwise."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise InputError(f"{option} {out}: is a file; name a folder")
    if out.is_symlink() and not out.exists():
        raise InputError(f"{option} {out}: is a link to {os.readlink(out)}, which does not exist; "
                         "remove the link or name another folder")
    cwd = Path(os.path.abspath(os.getcwd()))
    if out != cwd and out in cwd.parents:
        raise InputError(f"{option} {out}: is above the current folder; name a folder of its own for the output")
    if out.is_dir() and not force:
        held = [entry.name for entry in out.iterdir() if not _is_staging(entry)]
        if held:
            raise InputError(f"{option} {out}: already holds files ({len(held)}); pass --force to write into it "
                             "(only the files this command writes are replaced), or name an empty folder")
    return out


@contextlib.contextmanager
def staged_folder(out: Path, *, force: bool = False, option: str = "--out", last: Iterable[str] = (),
                  stale: Iterable[str] = ()) -> Iterator[Path]:
    """Yield an empty folder to write into; on success its files land in ``out``, nothing else is lost.

    ``out`` is checked as ``check_folder_target`` does. ``last``: names moved in after every other
    file (an index such as ``factors.csv``, so a reader never sees it before the files it lists).
    ``stale``: names of files an earlier run of the same command wrote in ``out`` that this run
    does not rewrite; they are removed once the new files are in place (nothing else ever is).
    On any exception the staging folder is removed and ``out`` is left as it was.
    """
    out = check_folder_target(out, option=option, force=force)
    home = out if out.is_dir() else out.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(home, out.name)
        staging = Path(tempfile.mkdtemp(dir=home, prefix=_staging_prefix(out.name)))
    except OSError as exc:
        raise InputError(f"{option} {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        yield staging
        staging.chmod(0o755)
        if home is out.parent and _rename_new(staging, out):
            return
        written = {entry.name for entry in staging.iterdir()}
        _move_files(staging, out, list(last))
        for name in set(stale) - written:
            candidate = out / name
            if name == Path(name).name and candidate.is_file() and not candidate.is_symlink():
                candidate.unlink()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _rename_new(staging: Path, out: Path) -> bool:
    """Rename ``staging`` to ``out`` if ``out`` does not exist (True); False if another process made it."""
    if out.exists():
        return False
    try:
        os.rename(staging, out)
    except OSError:
        if not out.is_dir():
            raise
        return False
    return True


def _move_files(staging: Path, out: Path, last: list[str]) -> None:
    out.mkdir(exist_ok=True)
    entries = sorted(staging.iterdir(), key=lambda entry: (entry.name in last, last.index(entry.name)
                                                           if entry.name in last else 0, entry.name))
    for entry in entries:
        target = out / entry.name
        if entry.is_dir() and target.is_dir() and not target.is_symlink():
            _move_files(entry, target, [])
            entry.rmdir()
        else:
            os.replace(entry, target)
