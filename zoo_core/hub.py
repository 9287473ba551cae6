"""All Hugging Face Hub I/O: where the cache is, what is cached, and downloads.

zoo stores Hub files in the standard Hugging Face cache (``HF_HUB_CACHE``, else
``HF_HOME/hub``, else ``~/.cache/huggingface/hub``), so ``hf cache`` manages them. The
environment (``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``) is read at
call time, not when huggingface_hub is imported, and huggingface_hub itself is imported
only when a download really happens: it costs ~0.4 s of start-up.
``HF_TOKEN`` is read by huggingface_hub itself; zoo never prints or logs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import HubError, WeightsNotFoundError

__all__ = ["hub_cache_dir", "is_offline", "cached_path", "download", "remove_cached", "fetch_command",
           "remove_orphans"]

_TRUE = {"1", "true", "yes", "on"}


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache directory, honouring HF_HUB_CACHE and HF_HOME."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "huggingface" / "hub"


def is_offline() -> bool:
    """True when HF_HUB_OFFLINE asks for no network access."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def _repo_folder(repo_id: str) -> Path:
    return hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))


def cached_path(repo_id: str, revision: str, filename: str) -> Path | None:
    """The cached file for a pinned commit, or None; makes no request and imports nothing."""
    path = _repo_folder(repo_id) / "snapshots" / revision / filename
    return path if path.is_file() else None


def remove_cached(path: Path) -> None:
    """Delete a cached snapshot file and the blob it points to, so it is not used again."""
    path = Path(path)
    target = path.resolve()
    for victim in (path, target):
        try:
            victim.unlink()
        except FileNotFoundError:
            pass


def remove_orphans(repo_id: str, blob: str) -> list[Path]:
    """Delete a partial download (``blobs/BLOB.incomplete``) left beside the finished blob.

    huggingface_hub does not resume or clean up the ``.incomplete`` file an interrupted
    download leaves: the next download starts afresh and the partial file stays forever.
    Once the blob itself is whole, the partial one is garbage. The download lock is taken,
    so a download of the same blob in another process is never disturbed.
    """
    blobs = _repo_folder(repo_id) / "blobs"
    partial = blobs / f"{blob}.incomplete"
    if not (partial.exists() and (blobs / blob).is_file()):
        return []
    from filelock import FileLock, Timeout

    lock = hub_cache_dir() / ".locks" / ("models--" + repo_id.replace("/", "--")) / f"{blob}.lock"
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock), timeout=0):
            partial.unlink(missing_ok=True)
    except (Timeout, OSError):
        return []
    return [partial]


@contextlib.contextmanager
def _quiet_hub() -> Iterator[None]:
    """Keep huggingface_hub's retry chatter ("Retrying in 1s [Retry 1/5]") off the terminal:
    zoo reports the outcome in one line instead."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of the Hub's last answer behind ``exc`` (huggingface_hub chains them), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(getattr(current, "response", None), "status_code", None)
        if isinstance(status, int):
            return status
        current = current.__cause__ or current.__context__
    return None


def fetch_command(name: str) -> str:
    return f"run 'zoo pull {name}' where the Hub is reachable (with HF_HUB_OFFLINE unset)"


def download(repo_id: str, filename: str, revision: str, *, name: str) -> Path:
    """Download one file of a pinned commit into the HF cache and return its path.

    Errors become ``HubError`` (the Hub said no) or ``WeightsNotFoundError`` (offline or
    unreachable, and not cached), each naming the model and what to do.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub import errors as hf_errors

    # RemoteEntryNotFoundError arrived in huggingface_hub 1.0; before, EntryNotFoundError was raised
    remote_missing = getattr(hf_errors, "RemoteEntryNotFoundError", hf_errors.EntryNotFoundError)
    where = f"{repo_id}@{revision[:12]}/{filename}"
    endpoint = os.environ.get("HF_ENDPOINT") or None
    try:
        with _quiet_hub():
            path = hf_hub_download(
                repo_id, filename, revision=revision, cache_dir=hub_cache_dir(),
                local_files_only=is_offline(), endpoint=endpoint, library_name="zoo",
            )
    except hf_errors.GatedRepoError as exc:
        raise HubError(f"{name}: {repo_id} is gated: accept its terms on the Hub and set HF_TOKEN") from exc
    except hf_errors.RepositoryNotFoundError as exc:
        raise HubError(f"{name}: repository {repo_id} not found on the Hub "
                       "(if it is private, set HF_TOKEN)") from exc
    except hf_errors.RevisionNotFoundError as exc:
        raise HubError(f"{name}: revision {revision} not found in {repo_id}") from exc
    except hf_errors.LocalEntryNotFoundError as exc:
        status = None if is_offline() else _http_status(exc)
        if status is not None:
            raise HubError(f"{name}: the Hub answered HTTP {status} for {where}, also after retrying, and the file is "
                           f"not in the cache; try again later") from exc
        reason = "HF_HUB_OFFLINE is set" if is_offline() else "the Hub could not be reached"
        raise WeightsNotFoundError(f"{name}: {where} is not in the cache ({hub_cache_dir()}) and {reason}; "
                                   f"{fetch_command(name)}, or pass --weights PATH") from exc
    except remote_missing as exc:
        raise HubError(f"{name}: file {filename} not found in {repo_id} at {revision[:12]}") from exc
    except hf_errors.HfHubHTTPError as exc:
        status = _http_status(exc)
        raise HubError(f"{name}: the Hub answered HTTP {status or '?'} for {where}; try again later") from exc
    except OSError as exc:
        raise HubError(f"{name}: download of {where} failed: {exc}") from exc
    except Exception as exc:
        # huggingface_hub lets transport errors (a connection cut mid-body) escape raw
        if type(exc).__module__.split(".")[0].startswith("httpx"):
            raise HubError(f"{name}: download of {where} broke off ({type(exc).__name__}: {exc}); "
                           "run the command again to retry") from exc
        raise
    return Path(path)
