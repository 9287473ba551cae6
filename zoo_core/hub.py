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
from typing import Any

from .errors import HubError, WeightsNotFoundError

__all__ = ["hub_cache_dir", "is_offline", "cached_path", "download", "remove_cached", "fetch_command",
           "remove_orphans", "hub_timeout", "HUB_TIMEOUT", "HUB_TRIES", "REACH_TIMEOUT", "unreachable_reason",
           "not_cached_error"]

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
    """How to bring ``name``'s weights to a machine without them: the three ways, in one clause."""
    return (f"to bring the file: run 'zoo pull {name}' on a machine with network and copy its Hugging Face cache "
            f"here (or point HF_HUB_CACHE at the copy), or pass --weights PATH to the .safetensors file, or pin a "
            f"local file with 'zoo registry add {name} --file DIR/model.safetensors --registry DIR/my.toml' and "
            "set ZOO_REGISTRY=DIR/my.toml")


def not_cached_error(name: str, where: str, reason: str) -> WeightsNotFoundError:
    """The one error for weights that are neither cached nor reachable, whatever the cause
    (``reason``: HF_HUB_OFFLINE, no DNS, no route, refused): what is missing and how to bring it."""
    return WeightsNotFoundError(f"{name}: {where} is not in the cache ({hub_cache_dir()}) and the Hub is out of "
                                f"reach ({reason}); {fetch_command(name)}")


#: Seconds the reachability check waits for DNS and a TCP connection to the Hub (or the proxy
#: in front of it) before calling it unreachable; ``ZOO_HUB_TIMEOUT``, when set, replaces it.
REACH_TIMEOUT = 1.0


def _connect_target(endpoint: str | None) -> tuple[str, int, str]:
    """``(host, port, what)`` a download opens its first connection to: the endpoint's host, or
    the proxy the environment names for it (HTTPS_PROXY, ALL_PROXY; NO_PROXY respected)."""
    import urllib.parse
    import urllib.request

    url = urllib.parse.urlsplit(endpoint or "https://huggingface.co")
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):  # NO_PROXY, read from the environment
        parsed = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if parsed.hostname:
            return parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80), f"the proxy {proxy}"
    return host, port, f"{url.scheme}://{url.netloc}"


def unreachable_reason(endpoint: str | None = None) -> str | None:
    """Why the Hub at ``endpoint`` cannot be reached (a name that does not resolve, no route, a
    refused or unanswered connection), or None when a TCP connection to it opens in time.

    It costs at most ``REACH_TIMEOUT`` seconds, so that no network fails in about a second
    rather than after the download's retries (``HUB_TRIES`` time-outs of ``hub_timeout()``
    each); a Hub that connects but answers slowly is left to the download's own time-outs.
    Nothing is remembered: a download is rare, one connection costs milliseconds, and a
    remembered answer would outlive a network that came back (or went).
    """
    import socket
    import threading

    host, port, what = _connect_target(endpoint)
    wait = hub_timeout() if os.environ.get("ZOO_HUB_TIMEOUT", "").strip() else REACH_TIMEOUT
    outcome: list[str | None] = []

    def attempt() -> None:  # in a thread: name resolution itself has no time-out
        try:
            socket.create_connection((host, port), timeout=wait).close()
            outcome.append(None)
        except socket.gaierror as exc:
            outcome.append(f"{host} does not resolve: {exc.strerror or exc}")
        except ConnectionRefusedError:
            outcome.append(f"{what} refused the connection")
        except TimeoutError:
            outcome.append(f"{what} did not answer within {wait:g} s")
        except OSError as exc:
            outcome.append(f"no route to {what}: {exc.strerror or exc}")

    worker = threading.Thread(target=attempt, name="zoo-hub-reach", daemon=True)
    worker.start()
    worker.join(wait + 0.05)
    return outcome[0] if outcome else f"{what} did not answer within {wait:g} s"


#: Seconds zoo waits for the Hub to connect or to send the next bytes (``ZOO_HUB_TIMEOUT`` overrides).
HUB_TIMEOUT = 10.0
#: Tries of the first request (the HEAD that says size and commit) before zoo gives up, and the waits between.
HUB_TRIES = 3
_BACKOFF = (1.0, 2.0)


def hub_timeout() -> float:
    """The time-out for one Hub request, in seconds (``ZOO_HUB_TIMEOUT``, else ``HUB_TIMEOUT``)."""
    text = os.environ.get("ZOO_HUB_TIMEOUT", "").strip()
    if not text:
        return HUB_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e6:
        raise HubError(f"ZOO_HUB_TIMEOUT={text!r}: give the seconds to wait for the Hub, e.g. 30")
    return value


def _token_is_set() -> bool:
    """Whether huggingface_hub will send a token (HF_TOKEN or a saved login); the token itself is never read out."""
    from huggingface_hub import get_token

    return get_token() is not None


def _no_access(name: str, repo_id: str, what: str) -> str:
    if _token_is_set():
        return (f"{name}: {repo_id} {what}, and the Hub refused the token zoo sent (HF_TOKEN or 'hf auth login'): "
                "check that it is valid and has access to the repo ('hf auth whoami')")
    return f"{name}: {repo_id} {what}; set HF_TOKEN to a token with access to it"


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _probe(repo_id: str, filename: str, revision: str, *, name: str, size: int | None, endpoint: str | None) -> None:
    """HEAD the file with zoo's time-out and a bounded retry, before any byte is downloaded.

    A server that accepts and never answers, one that redirects in a loop, or one that is not a
    Hub (no ``X-Repo-Commit``/``ETag``) is a one-line ``HubError``; a size that differs from the
    pin is an ``IntegrityError`` (the HEAD says the size: nothing is downloaded). Other answers
    (404, 401, ...) are left to ``hf_hub_download``, whose typed errors ``download`` words.
    """
    import httpx2
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub import errors as hf_errors

    from .errors import IntegrityError

    where = f"{repo_id}@{revision[:12]}/{filename}"
    host = endpoint or "https://huggingface.co"
    timeout = hub_timeout()
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
    for attempt in range(HUB_TRIES):
        try:
            metadata = get_hf_file_metadata(url, timeout=timeout, endpoint=endpoint, library_name="zoo")
            break
        except httpx2.TooManyRedirects as exc:
            raise HubError(f"{name}: {host} redirects {where} in a loop; HF_ENDPOINT (or a proxy) is misconfigured: "
                           "retrying will not help") from exc
        except (httpx2.TimeoutException, httpx2.NetworkError) as exc:
            failure: BaseException = exc
        except hf_errors.HfHubHTTPError as exc:
            if (_http_status(exc) or 0) < 500 and _http_status(exc) != 429:
                return  # a definite answer (not found, no access): hf_hub_download words it
            failure = exc
        if attempt + 1 < HUB_TRIES:
            _sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
    else:  # zoo looks in the cache before it downloads: none of these has a copy to fall back on
        if isinstance(failure, httpx2.TimeoutException):
            raise HubError(f"{name}: {host} did not answer within {timeout:g} s for {where} ({HUB_TRIES} tries); check "
                           "the network (and HF_ENDPOINT), then run the command again; ZOO_HUB_TIMEOUT sets the "
                           "wait") from failure
        status = _http_status(failure)
        if status is not None:
            raise HubError(f"{name}: the Hub answered HTTP {status} for {where}, also after retrying, and the file is "
                           "not in the cache; try again later") from failure
        raise not_cached_error(name, where, f"{host} could not be reached: {type(failure).__name__}") from failure
    if metadata.commit_hash is None or metadata.etag is None:
        missing = " and ".join(h for h, v in (("X-Repo-Commit", metadata.commit_hash), ("ETag", metadata.etag))
                               if v is None)
        raise HubError(f"{name}: {host} answered for {where} without the {missing} header a Hugging Face Hub sends; "
                       "HF_ENDPOINT (or a proxy) points at something that is not a Hub")
    if size is not None and metadata.size is not None and metadata.size != size:
        raise IntegrityError(f"{name}: the Hub's {where} is {metadata.size} bytes, but the registry pins {size}; "
                             "nothing was downloaded (the registry's revision or filename is wrong, or the pin is)")


def _download_bar() -> type:
    """A tqdm class for huggingface_hub: on a terminal only, shown once a download lasts a second."""
    import sys

    from tqdm import tqdm

    show = sys.stderr.isatty() and not os.environ.get("ZOO_NO_PROGRESS")

    class DownloadBar(tqdm):  # type: ignore[misc,type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs.update(disable=not show, delay=1.0, file=sys.stderr, leave=False, dynamic_ncols=True)
            super().__init__(*args, **kwargs)

    return DownloadBar


def download(repo_id: str, filename: str, revision: str, *, name: str, size: int | None = None) -> Path:
    """Download one file of a pinned commit into the HF cache and return its path.

    Errors become ``HubError`` (the Hub said no, or did not answer in time) or
    ``WeightsNotFoundError`` (offline or unreachable, and not cached), each naming the model and
    what to do; with ``size``, a file whose HEAD says another size is refused before downloading.
    On a terminal a download that lasts over a second shows a progress bar.
    """
    where = f"{repo_id}@{revision[:12]}/{filename}"
    endpoint = os.environ.get("HF_ENDPOINT") or None
    if is_offline():  # the cache was looked at before: nothing to download, nothing to import
        found = cached_path(repo_id, revision, filename)
        if found is not None:
            return found
        raise not_cached_error(name, where, "HF_HUB_OFFLINE is set")
    reason = unreachable_reason(endpoint)
    if reason is not None:
        raise not_cached_error(name, where, reason)

    import httpx2
    from huggingface_hub import constants as hf_constants
    from huggingface_hub import file_download as hf_file_download
    from huggingface_hub import hf_hub_download
    from huggingface_hub import errors as hf_errors

    from .errors import ZooError

    # RemoteEntryNotFoundError arrived in huggingface_hub 1.0; before, EntryNotFoundError was raised
    remote_missing = getattr(hf_errors, "RemoteEntryNotFoundError", hf_errors.EntryNotFoundError)
    timeout = hub_timeout()
    try:
        with _quiet_hub(), _hub_timeouts(hf_constants, hf_file_download, timeout):
            _probe(repo_id, filename, revision, name=name, size=size, endpoint=endpoint)
            path = hf_hub_download(
                repo_id, filename, revision=revision, cache_dir=hub_cache_dir(),
                endpoint=endpoint, library_name="zoo", etag_timeout=timeout, tqdm_class=_download_bar(),
            )
    except ZooError:  # already worded (some are OSErrors too, which the clause below would re-wrap)
        raise
    except hf_errors.GatedRepoError as exc:
        raise HubError(_no_access(name, repo_id, "is gated (accept its terms on the Hub)")) from exc
    except hf_errors.RepositoryNotFoundError as exc:
        if _token_is_set() and _http_status(exc) in (401, 403):
            raise HubError(_no_access(name, repo_id, "was not found or is private")) from exc
        raise HubError(f"{name}: repository {repo_id} not found on the Hub "
                       "(if it is private, set HF_TOKEN)") from exc
    except hf_errors.RevisionNotFoundError as exc:
        raise HubError(f"{name}: revision {revision} not found in {repo_id}") from exc
    except hf_errors.LocalEntryNotFoundError as exc:
        status = _http_status(exc)
        if status is not None:
            raise HubError(f"{name}: the Hub answered HTTP {status} for {where}, also after retrying, and the file is "
                           f"not in the cache; try again later") from exc
        raise not_cached_error(name, where, f"{endpoint or 'https://huggingface.co'} could not be reached") from exc
    except remote_missing as exc:
        raise HubError(f"{name}: file {filename} not found in {repo_id} at {revision[:12]}") from exc
    except hf_errors.HfHubHTTPError as exc:
        status = _http_status(exc)
        if status in (401, 403):
            raise HubError(_no_access(name, repo_id, f"refused {where} (HTTP {status})")) from exc
        raise HubError(f"{name}: the Hub answered HTTP {status or '?'} for {where}; try again later") from exc
    except httpx2.TooManyRedirects as exc:
        raise HubError(f"{name}: the Hub redirects {where} in a loop; HF_ENDPOINT (or a proxy) is misconfigured: "
                       "retrying will not help") from exc
    except httpx2.TimeoutException as exc:
        raise HubError(f"{name}: the download of {where} stalled (no data for {timeout:g} s, also after retrying); "
                       "check the network and run the command again; ZOO_HUB_TIMEOUT sets the wait") from exc
    except OSError as exc:
        raise HubError(f"{name}: download of {where} failed: {exc}") from exc
    except Exception as exc:
        # huggingface_hub lets transport errors (a connection cut mid-body) escape raw
        if type(exc).__module__.split(".")[0].startswith("httpx"):
            raise HubError(f"{name}: download of {where} broke off ({type(exc).__name__}: {exc}); "
                           "run the command again to retry") from exc
        raise
    return Path(path)


@contextlib.contextmanager
def _hub_timeouts(constants: object, file_download: object, timeout: float) -> Iterator[None]:
    """huggingface_hub's read time-out for download bodies and its second-chance HEAD time-out
    (60 s, retried 5 times: 394 s of silence against a server that never answers) set to zoo's."""
    saved = {(constants, "HF_HUB_DOWNLOAD_TIMEOUT"): getattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", None),
             (file_download, "_ETAG_RETRY_TIMEOUT"): getattr(file_download, "_ETAG_RETRY_TIMEOUT", None)}
    for (owner, attribute), value in saved.items():
        if value is not None:
            setattr(owner, attribute, timeout)
    try:
        yield
    finally:
        for (owner, attribute), value in saved.items():
            if value is not None:
                setattr(owner, attribute, value)
