"""An in-process fake of the Hugging Face Hub *download* protocol, for tests.

`FakeHub` is a real HTTP server on 127.0.0.1 that answers the requests
`huggingface_hub.hf_hub_download` makes (``HEAD``/``GET`` on
``/{repo_id}/resolve/{revision}/{filename}``) plus the two small model-info
endpoints.  Point ``endpoint=hub.url`` (or ``HF_ENDPOINT``) at it to test
download code without network access, and use :meth:`FakeHub.set_fault` to
simulate corrupted, truncated or failing transfers.

Only the standard library is used, so importing this module is cheap.

Example::

    with FakeHub() as hub:
        sha = hub.publish("owner/name", {"weights.bin": b"..."})
        path = hf_hub_download("owner/name", "weights.bin", revision=sha,
                               endpoint=hub.url, cache_dir=tmp_path)
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["FakeHub", "Fault", "RecordedRequest", "FAULTS"]

Fault = Literal["corrupt", "truncate", "truncate_once", "500", "hang", "redirect_loop", "not_a_hub", "slow"]
"""Kinds of fault :meth:`FakeHub.set_fault` can inject."""

FAULTS: Final[frozenset[str]] = frozenset({"corrupt", "truncate", "truncate_once", "500", "hang", "redirect_loop",
                                           "not_a_hub", "slow"})
#: How long a ``"slow"`` body takes to arrive, in seconds.
SLOW_SECONDS: Final = 1.5

_COMMIT_RE: Final = re.compile(r"[0-9a-f]{40}")


class RecordedRequest(NamedTuple):
    """One request the hub served, with enough detail to assert on."""

    method: str
    path: str  # raw request target, as sent on the wire (still URL-quoted)
    headers: dict[str, str]  # header names lower-cased
    status: int


@dataclass
class _Repo:
    """Server-side state of one repository: commits (file snapshots) and branches."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    token: str | None = None  # set by FakeHub.gate


class _HubError(Exception):
    """Internal: an error answer (status + X-Error-Code)."""

    def __init__(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.commit = commit


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can close idle keep-alive connections on stop."""

    daemon_threads = True

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self._conns: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Handler threads are daemons (so a forgotten stop() cannot hang interpreter
        # exit), which socketserver does not join; track them here instead.
        # Registered in the serving thread, so stop() cannot miss a connection.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"FakeHub:{self.server_address[1]}:conn",
            daemon=True,
        )
        with self._conns_lock:
            self._conns.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Hang up every open connection and join the handler threads."""
        with self._conns_lock:
            conns = list(self._conns)
            threads = list(self._handler_threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked reading the next request
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-transfer is expected (and provoked by faults): stay silent.
        pass


class _Handler(BaseHTTPRequestHandler):
    """Request handler; all logic lives in FakeHub._respond."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        self.server.hub._respond(self, head=True)

    def do_GET(self) -> None:
        self.server.hub._respond(self, head=False)

    def _not_allowed(self) -> None:
        self.close_connection = True  # the request body, if any, is left unread
        self.server.hub._respond(self, head=False, allowed=False)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _not_allowed


class FakeHub:
    """A local HTTP server speaking the Hub download protocol of ``hf_hub_download``.

    Repositories are model repos addressed as ``owner/name``.  Each
    :meth:`publish` creates a commit (a full snapshot of files) and moves a
    branch to it; revisions can then be requested by commit sha or branch name.
    Every request served is recorded in :attr:`requests` so tests can assert
    e.g. that a cached download made no request at all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repos: dict[str, _Repo] = {}
        self._faults: dict[tuple[str, str], str] = {}
        self._counter = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # releases the handlers a "hang" fault holds
        self.requests: list[tuple[str, str]] = []
        """``(method, raw_path)`` of every request served, in arrival order."""
        self.request_log: list[RecordedRequest] = []
        """Like :attr:`requests`, with headers and response status."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeHub:
        """Start serving on an OS-chosen port (no-op if already running); returns self."""
        with self._lock:
            if self._server is not None:
                return self
            server = _Server(self)
            self._stopping.clear()
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeHub:{server.server_address[1]}",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close all connections and join every server thread (idempotent)."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()  # stops accepting; returns once serve_forever has exited
        thread.join()
        server.close_connections()  # hangs up keep-alive connections, joins handler threads
        server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to use as ``endpoint`` / ``HF_ENDPOINT``, e.g. ``http://127.0.0.1:PORT``."""
        server = self._server
        if server is None:
            raise RuntimeError("FakeHub is not running; call start() first")
        return f"http://127.0.0.1:{server.server_address[1]}"

    # ------------------------------------------------------------------ content

    def publish(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        branch: str = "main",
        commit: str | None = None,
    ) -> str:
        """Create a commit holding exactly ``files``, move ``branch`` to it, return its sha.

        Creates the repository if needed.  Without ``commit`` the sha is the
        sha1 of the repo id, the files and a per-hub counter, so it is stable
        across runs.  ``files`` maps repo-relative paths (``/``-separated) to content.
        """
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise ValueError(f"repo_id must look like 'owner/name', got {repo_id!r}")
        snapshot = {}
        for name, data in files.items():
            if not name or name.startswith("/") or ".." in name.split("/"):
                raise ValueError(f"invalid file name {name!r}")
            snapshot[name] = bytes(data)
        with self._lock:
            self._counter += 1
            if commit is None:
                h = hashlib.sha1(f"{repo_id}\0{self._counter}\0".encode())
                for name in sorted(snapshot):
                    h.update(name.encode() + b"\0" + hashlib.sha256(snapshot[name]).digest())
                commit = h.hexdigest()
            elif not _COMMIT_RE.fullmatch(commit):
                raise ValueError(f"commit must be 40 lowercase hex characters, got {commit!r}")
            repo = self._repos.setdefault(repo_id, _Repo())
            repo.commits[commit] = snapshot
            repo.branches[branch] = commit
        return commit

    def resolve(self, repo_id: str, revision: str = "main") -> str:
        """Return the commit sha a revision (branch name or sha) points to; KeyError if none."""
        with self._lock:
            repo = self._repos.get(repo_id)
            if repo is None:
                raise KeyError(repo_id)
            sha = self._resolve_locked(repo, revision)
            if sha is None:
                raise KeyError(revision)
            return sha

    def set_fault(self, repo_id: str, filename: str, fault: Fault | str | None) -> None:
        """Make every request for ``filename`` in ``repo_id`` misbehave; ``None`` clears.

        - ``"corrupt"``: body of the right length but wrong bytes (headers keep
          advertising the true sha256 etag and size);
        - ``"truncate"``: advertise the full length, send half of it, close the
          connection.  Applies to every GET, resumed ``Range`` requests included,
          so the client can never complete the file;
        - ``"truncate_once"``: like ``"truncate"`` for the next GET only, then the
          fault clears itself (a transient network drop the client can recover from);
        - ``"500"``: answer HEAD and GET with 500 and no ``X-Repo-Commit``;
        - ``"hang"``: accept the connection and never answer (until :meth:`stop`);
        - ``"redirect_loop"``: answer every request with a redirect to itself;
        - ``"not_a_hub"``: answer 200 without ``X-Repo-Commit`` or ``ETag`` (a proxy, a web server);
        - ``"slow"``: send the body in pieces over ``SLOW_SECONDS`` (a download long enough for progress).
        """
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULTS)} or None")
        with self._lock:
            if fault is None:
                self._faults.pop((repo_id, filename), None)
            else:
                self._faults[(repo_id, filename)] = fault

    def gate(self, repo_id: str, token: str) -> None:
        """Require ``Authorization: Bearer <token>`` for the repo (401/403 ``GatedRepo`` otherwise)."""
        with self._lock:
            self._repos.setdefault(repo_id, _Repo()).token = token

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()
            self.request_log.clear()

    # ------------------------------------------------------------------ serving

    @staticmethod
    def _resolve_locked(repo: _Repo, revision: str) -> str | None:
        if revision in repo.branches:
            return repo.branches[revision]
        if revision in repo.commits:
            return revision
        return None

    def _respond(self, h: _Handler, *, head: bool, allowed: bool = True) -> None:
        """Answer one request on handler ``h`` (recorded by :meth:`_send`)."""
        try:
            if not allowed:
                raise _HubError(405, "MethodNotAllowed", f"FakeHub only serves downloads, not {h.command}")
            self._dispatch(h, head=head)
        except _HubError as err:
            self._send_error(h, err, head=head)
        except OSError:
            h.close_connection = True  # the client hung up mid-response
        except Exception as exc:  # a FakeHub bug: make it visible to the client
            self._send_error(h, _HubError(500, "InternalError", f"FakeHub error: {exc!r}"), head=head)

    def _dispatch(self, h: _Handler, *, head: bool) -> None:
        raw_path = urlsplit(h.path).path
        parts = raw_path.lstrip("/").split("/")
        if len(parts) >= 3 and parts[:2] == ["api", "models"]:
            self._serve_api(h, [unquote(p) for p in parts[2:]], head=head)
            return
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id = f"{unquote(parts[0])}/{unquote(parts[1])}"
            revision = unquote(parts[3])
            filename = unquote("/".join(parts[4:]))
            self._serve_file(h, repo_id, revision, filename, head=head)
            return
        raise _HubError(404, "RepoNotFound", f"Unknown path {raw_path!r}")

    def _lookup_repo(self, h: _Handler, repo_id: str) -> _Repo:
        """Return the repo or raise RepoNotFound / GatedRepo. Caller holds the lock."""
        repo = self._repos.get(repo_id)
        if repo is None or not repo.commits:
            raise _HubError(404, "RepoNotFound", f"Repository {repo_id!r} not found")
        if repo.token is not None:
            auth = h.headers.get("Authorization")
            if auth is None:
                raise _HubError(401, "GatedRepo", f"Access to {repo_id!r} is restricted; a token is required")
            if auth != f"Bearer {repo.token}":
                raise _HubError(403, "GatedRepo", f"Access to {repo_id!r} is restricted; this token is not allowed")
        return repo

    def _serve_api(self, h: _Handler, parts: list[str], *, head: bool) -> None:
        # /api/models/{owner}/{name}[/revision/{rev}]
        if len(parts) == 2:
            repo_id, revision = "/".join(parts), "main"
        elif len(parts) == 4 and parts[2] == "revision":
            repo_id, revision = "/".join(parts[:2]), parts[3]
        else:
            raise _HubError(404, "RepoNotFound", "Unknown API path")
        with self._lock:
            repo = self._lookup_repo(h, repo_id)
            commit = self._resolve_locked(repo, revision)
            if commit is None:
                raise _HubError(404, "RevisionNotFound", f"Revision {revision!r} not found in {repo_id!r}")
            names = sorted(repo.commits[commit])
        body = json.dumps(
            {"id": repo_id, "modelId": repo_id, "sha": commit, "siblings": [{"rfilename": n} for n in names]}
        ).encode()
        self._send(h, 200, {"Content-Type": "application/json", "X-Repo-Commit": commit}, body, head=head)

    def _serve_file(self, h: _Handler, repo_id: str, revision: str, filename: str, *, head: bool) -> None:
        with self._lock:
            fault = self._faults.get((repo_id, filename))
            if fault == "500":
                raise _HubError(500, "InternalError", "Injected fault: internal server error")
            if fault == "redirect_loop":
                self.requests.append((h.command, h.path))
                self.request_log.append(RecordedRequest(h.command, h.path, dict(h.headers.items()), 302))
            repo = self._lookup_repo(h, repo_id)
            commit = self._resolve_locked(repo, revision)
            if commit is None:
                raise _HubError(404, "RevisionNotFound", f"Revision {revision!r} not found in {repo_id!r}")
            data = repo.commits[commit].get(filename)
            if data is None:
                raise _HubError(404, "EntryNotFound", f"{filename!r} not found in {repo_id}@{commit}", commit)
            if fault == "truncate_once" and not head:
                del self._faults[(repo_id, filename)]  # consumed by this GET

        if fault == "hang":
            self._stopping.wait()  # the client's time-out is what ends this request
            h.close_connection = True
            return
        if fault == "redirect_loop":
            h.send_response(302)
            h.send_header("Location", h.path)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        size = len(data)
        etag = f'"{hashlib.sha256(data).hexdigest()}"'
        headers = {
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "X-Linked-Etag": etag,
            "X-Linked-Size": str(size),
            "X-Repo-Commit": commit,
        }
        if fault == "corrupt":
            data = bytes(b ^ 0xFF for b in data)
        if fault == "not_a_hub":
            for key in ("ETag", "X-Linked-Etag", "X-Repo-Commit"):
                del headers[key]

        status, start, end = 200, 0, size  # serve data[start:end]
        rng = h.headers.get("Range")
        if rng is not None and not head:
            m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
            if m is None or (m.group(1) == "" and m.group(2) == ""):
                pass  # malformed or multi-range: ignore it and send the whole file, as RFC 9110 allows
            else:
                if m.group(1) == "":  # suffix range: last N bytes
                    start, end = max(size - int(m.group(2)), 0), size
                else:
                    start = int(m.group(1))
                    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
                if start >= size or start >= end:
                    err_headers = {"Content-Range": f"bytes */{size}", "X-Repo-Commit": commit}
                    self._send(h, 416, err_headers, b"", head=False)
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"

        body = data[start:end]
        if fault in ("truncate", "truncate_once") and not head:
            # Promise the whole body, deliver half, hang up.
            headers["Content-Length"] = str(len(body))
            self._send(h, status, headers, body[: len(body) // 2], head=False, set_length=False)
            h.close_connection = True
            return
        if fault == "slow" and not head:
            self._send(h, status, {**headers, "Content-Length": str(len(body))}, b"", head=False, set_length=False)
            pieces = 10
            for i in range(pieces):
                if self._stopping.wait(SLOW_SECONDS / pieces):
                    return
                h.wfile.write(body[i * len(body) // pieces:(i + 1) * len(body) // pieces])
                h.wfile.flush()
            return
        self._send(h, status, headers, body, head=head)

    def _send(
        self,
        h: _Handler,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        head: bool,
        set_length: bool = True,
    ) -> None:
        """Write a response; HEAD gets the same headers (incl. Content-Length) and no body."""
        # Record first, so a client that has seen the answer always finds it logged.
        record = RecordedRequest(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, status)
        with self._lock:
            self.requests.append((h.command, h.path))
            self.request_log.append(record)
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        if set_length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head and body:
            h.wfile.write(body)
        h.wfile.flush()

    def _send_error(self, h: _Handler, err: _HubError, *, head: bool) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Error-Code": err.code,
            "X-Error-Message": re.sub(r"[^\x20-\x7e]", "?", err.message),  # header-safe
        }
        if err.commit is not None:
            headers["X-Repo-Commit"] = err.commit
        self._send(h, err.status, headers, json.dumps({"error": err.message}).encode(), head=head)
