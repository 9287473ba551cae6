"""Find a model's weights file: explicit path → bundled copy → HF cache → download.

Every file that comes from the registry is checked against its size and sha256 before it
is used (remembered afterwards, see ``integrity``). A cached or downloaded file that fails
the check is deleted, so it is never used again; a bundled copy is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import hub
from .errors import IntegrityError, WeightsNotFoundError
from .registry import ModelEntry

__all__ = ["ResolvedWeights", "resolve_weights", "weights_state"]


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file ready to load, with where it came from and what it hashes to."""

    path: Path
    origin: str  # explicit | bundled | cache | download
    sha256: str
    revision: str | None = None


def weights_state(entry: ModelEntry) -> str:
    """``bundled``, ``cached``, ``remote`` or ``none``, without hashing or network access."""
    w = entry.weights
    if w is None:
        return "none"
    if w.bundled is not None and w.bundled.is_file():
        return "bundled"
    if w.repo_id and w.revision and hub.cached_path(w.repo_id, w.revision, w.filename):
        return "cached"
    return "remote" if w.repo_id else "none"


def resolve_weights(entry: ModelEntry, explicit: Path | str | None = None, *,
                    allow_download: bool = True) -> ResolvedWeights | None:
    """The file to load for ``entry``; None for entries that need no weights."""
    from .integrity import check_file, file_sha256
    from .safetensors_header import refuse_unsafe

    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(f"--weights {path}: no such file")
        refuse_unsafe(path)
        return ResolvedWeights(path, "explicit", file_sha256(path))
    w = entry.weights
    if w is None:
        return None
    what = f"weights of {entry.name}"
    if w.bundled is not None and w.bundled.is_file():
        check_file(w.bundled, size=w.size, sha256=w.sha256, what=f"bundled {what}")
        return ResolvedWeights(w.bundled, "bundled", w.sha256, w.revision)
    if not (w.repo_id and w.revision):
        raise WeightsNotFoundError(f"{entry.name}: bundled weights {w.bundled} are missing and the entry names "
                                   f"no Hub repo; reinstall {entry.plugin or 'the plugin'} or pass --weights PATH")
    cached = hub.cached_path(w.repo_id, w.revision, w.filename)
    origin = "cache"
    if cached is None:
        if not allow_download:
            raise WeightsNotFoundError(f"{entry.name}: {w.filename} is not cached; {hub.fetch_command(entry.name)}")
        from .registry import NON_COMMERCIAL_NOTE, non_commercial

        if non_commercial(entry.license):  # said before the download, not after
            from .plugins import warn

            warn(f"{entry.name} is licensed {entry.license}: {NON_COMMERCIAL_NOTE}")
        cached, origin = hub.download(w.repo_id, w.filename, w.revision, name=entry.name, size=w.size), "download"
    hub.remove_orphans(w.repo_id, Path(cached).resolve().name)
    try:
        check_file(cached, size=w.size, sha256=w.sha256, what=what, rehash=origin == "download")
    except IntegrityError as exc:
        hub.remove_cached(cached)
        raise IntegrityError(f"{exc}; the bad file was deleted from the cache, so the next run downloads it "
                             "again (if this repeats, the Hub's file differs from the registry's pin)") from None
    return ResolvedWeights(cached, origin, w.sha256, w.revision)
