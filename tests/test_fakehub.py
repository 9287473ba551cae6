"""Tests for zoo_core.testing.FakeHub, driven by the real huggingface_hub client.

These tests double as documentation of how ``hf_hub_download`` (huggingface_hub
2.4.0) behaves against each server answer, which the zoo core relies on when it
translates client errors into its own.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import huggingface_hub.constants as hf_constants
import pytest

try:  # huggingface_hub 2.x ships its HTTP stack as httpx2, 1.x uses httpx
    import httpx2
except ImportError:  # pragma: no cover - depends on the installed huggingface_hub
    import httpx as httpx2
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from zoo_core.testing import FakeHub

REPO = "acme/tiny"
WEIGHTS = bytes(range(256)) * 4  # 1 KiB, every byte value present
CONFIG = b'{"hidden": 8}\n'


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fakehub_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("FakeHub:")]


@pytest.fixture(autouse=True)
def _hf_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads most env vars at import time; endpoint and cache_dir are
    # therefore passed per call. These are set for good measure (and for subprocesses).
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _download(hub: FakeHub, cache: Path, filename: str, **kwargs: Any) -> Path:
    kwargs.setdefault("token", False)  # never send a token found on the machine
    path = hf_hub_download(REPO, filename, endpoint=hub.url, cache_dir=cache, **kwargs)
    return Path(path)


def _file_url(hub: FakeHub, revision: str, filename: str) -> str:
    return f"/{REPO}/resolve/{revision}/{filename}"


# --------------------------------------------------------------------------- happy path


def test_download_returns_exact_bytes_and_cache_layout(hub: FakeHub, cache: Path) -> None:
    commit = hub.publish(REPO, {"weights.bin": WEIGHTS, "sub/config.json": CONFIG})

    path = _download(hub, cache, "weights.bin")
    sub = _download(hub, cache, "sub/config.json")

    repo_dir = cache / "models--acme--tiny"
    assert path.read_bytes() == WEIGHTS
    assert path == repo_dir / "snapshots" / commit / "weights.bin"
    assert path.resolve() == (repo_dir / "blobs" / _sha256(WEIGHTS)).resolve()
    assert sub == repo_dir / "snapshots" / commit / "sub" / "config.json"
    assert sub.read_bytes() == CONFIG
    assert sub.resolve() == (repo_dir / "blobs" / _sha256(CONFIG)).resolve()
    assert (repo_dir / "refs" / "main").read_text() == commit
    assert not list(repo_dir.rglob("*.incomplete"))
    assert hub.requests == [
        ("HEAD", _file_url(hub, "main", "weights.bin")),
        ("GET", _file_url(hub, "main", "weights.bin")),
        ("HEAD", _file_url(hub, "main", "sub/config.json")),
        ("GET", _file_url(hub, "main", "sub/config.json")),
    ]


def test_head_and_get_headers(hub: FakeHub) -> None:
    commit = hub.publish(REPO, {"weights.bin": WEIGHTS})
    conn = http.client.HTTPConnection(hub.url.removeprefix("http://"), timeout=5)
    try:
        conn.request("HEAD", _file_url(hub, "main", "weights.bin"))
        head = conn.getresponse()
        assert head.read() == b""  # headers only
        assert head.status == 200
        assert head.headers["X-Repo-Commit"] == commit
        assert head.headers["X-Linked-Etag"] == head.headers["ETag"] == f'"{_sha256(WEIGHTS)}"'
        assert head.headers["X-Linked-Size"] == head.headers["Content-Length"] == str(len(WEIGHTS))
        assert "X-Xet-Hash" not in head.headers and "X-Xet-Refresh-Route" not in head.headers

        # Same keep-alive connection: a ranged GET.
        conn.request("GET", _file_url(hub, commit, "weights.bin"), headers={"Range": "bytes=1000-"})
        part = conn.getresponse()
        assert part.status == 206
        assert part.headers["Content-Range"] == f"bytes 1000-{len(WEIGHTS) - 1}/{len(WEIGHTS)}"
        assert part.read() == WEIGHTS[1000:]

        conn.request("GET", _file_url(hub, commit, "weights.bin"), headers={"Range": "bytes=5000-"})
        unsatisfiable = conn.getresponse()
        assert unsatisfiable.status == 416
        assert unsatisfiable.headers["Content-Range"] == f"bytes */{len(WEIGHTS)}"
        unsatisfiable.read()
    finally:
        conn.close()


def test_pinned_commit_second_call_makes_no_request(hub: FakeHub, cache: Path) -> None:
    commit = hub.publish(REPO, {"weights.bin": WEIGHTS})
    first = _download(hub, cache, "weights.bin", revision=commit)
    assert [m for m, _ in hub.requests] == ["HEAD", "GET"]
    assert hub.requests[0] == ("HEAD", _file_url(hub, commit, "weights.bin"))

    hub.clear_requests()
    second = _download(hub, cache, "weights.bin", revision=commit)
    assert second == first
    assert second.read_bytes() == WEIGHTS
    assert hub.requests == []


def test_pinned_by_commit_and_by_branch(hub: FakeHub, cache: Path) -> None:
    old = hub.publish(REPO, {"weights.bin": b"old weights"})
    new = hub.publish(REPO, {"weights.bin": b"new weights", "extra.txt": b"x"})
    dev = hub.publish(REPO, {"weights.bin": b"dev weights"}, branch="dev")
    assert len({old, new, dev}) == 3
    assert hub.resolve(REPO, "main") == new and hub.resolve(REPO, "dev") == dev

    assert _download(hub, cache, "weights.bin", revision=old).read_bytes() == b"old weights"
    assert _download(hub, cache, "weights.bin", revision="main").read_bytes() == b"new weights"
    assert _download(hub, cache, "weights.bin", revision="dev").read_bytes() == b"dev weights"
    assert _download(hub, cache, "weights.bin", revision=dev).read_bytes() == b"dev weights"
    # The old commit holds exactly its own files.
    with pytest.raises(RemoteEntryNotFoundError):
        _download(hub, cache, "extra.txt", revision=old)

    # A branch is re-resolved on every call: one HEAD, no GET once cached.
    hub.clear_requests()
    assert _download(hub, cache, "weights.bin", revision="main").read_bytes() == b"new weights"
    assert hub.requests == [("HEAD", _file_url(hub, "main", "weights.bin"))]


def test_explicit_commit_sha(hub: FakeHub, cache: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert hub.publish(REPO, {"weights.bin": WEIGHTS}, commit=sha) == sha
    path = _download(hub, cache, "weights.bin", revision=sha)
    assert path.parent.name == sha
    with pytest.raises(ValueError):
        hub.publish(REPO, {"weights.bin": WEIGHTS}, commit="not-a-sha")
    with pytest.raises(ValueError):
        hub.publish("no-owner", {"weights.bin": WEIGHTS})


def test_api_endpoints(hub: FakeHub) -> None:
    first = hub.publish(REPO, {"weights.bin": WEIGHTS, "sub/config.json": CONFIG})
    second = hub.publish(REPO, {"weights.bin": WEIGHTS})
    api = HfApi(endpoint=hub.url, token=False)

    info = api.model_info(REPO)
    assert (info.id, info.sha) == (REPO, second)
    assert [s.rfilename for s in info.siblings or []] == ["weights.bin"]

    pinned = api.model_info(REPO, revision=first)
    assert pinned.sha == first
    assert sorted(s.rfilename for s in pinned.siblings or []) == ["sub/config.json", "weights.bin"]
    assert hub.requests == [
        ("GET", f"/api/models/{REPO}"),
        ("GET", f"/api/models/{REPO}/revision/{first}"),
    ]
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="nope")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/missing")


# --------------------------------------------------------------------------- offline / errors


def test_local_files_only_with_empty_cache(hub: FakeHub, cache: Path) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    with pytest.raises(LocalEntryNotFoundError):
        _download(hub, cache, "weights.bin", local_files_only=True)
    assert hub.requests == []

    # Once cached, local_files_only resolves the branch through refs/ without the network.
    path = _download(hub, cache, "weights.bin")
    hub.clear_requests()
    assert _download(hub, cache, "weights.bin", local_files_only=True) == path
    assert hub.requests == []


@pytest.mark.parametrize(
    ("repo_id", "filename", "revision", "error", "code"),
    [
        ("acme/missing", "weights.bin", "main", RepositoryNotFoundError, "RepoNotFound"),
        (REPO, "missing.bin", "main", RemoteEntryNotFoundError, "EntryNotFound"),
        (REPO, "weights.bin", "no-such-branch", RevisionNotFoundError, "RevisionNotFound"),
        (REPO, "weights.bin", "f" * 40, RevisionNotFoundError, "RevisionNotFound"),
    ],
)
def test_not_found_errors(
    hub: FakeHub,
    cache: Path,
    repo_id: str,
    filename: str,
    revision: str,
    error: type[HfHubHTTPError],
    code: str,
) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    with pytest.raises(error) as info:
        hf_hub_download(repo_id, filename, revision=revision, endpoint=hub.url, cache_dir=cache, token=False)
    assert type(info.value) is error  # e.g. not the GatedRepoError subclass
    response = info.value.response
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == code
    assert response.headers["X-Error-Message"]  # a HEAD carries no body; GETs also get {"error": ...}
    # Raised straight from the HEAD: no retry, no GET.
    assert [m for m, _ in hub.requests] == ["HEAD"]


def test_entry_not_found_is_also_the_generic_entry_error(hub: FakeHub, cache: Path) -> None:
    commit = hub.publish(REPO, {"weights.bin": WEIGHTS})
    with pytest.raises(EntryNotFoundError):  # base class shared with LocalEntryNotFoundError
        _download(hub, cache, "missing.bin")
    # The 404 carried X-Repo-Commit, so the client cached the absence.
    assert (cache / "models--acme--tiny" / ".no_exist" / commit / "missing.bin").is_file()


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/definitely/not/a/hub/path", 404, "RepoNotFound"),
        ("/", 404, "RepoNotFound"),
        (f"/{REPO}/resolve/main/missing.bin", 404, "EntryNotFound"),
        (f"/{REPO}/resolve/nope/weights.bin", 404, "RevisionNotFound"),
        (f"/{REPO}/resolve/evil%0D%0AX-Injected:%201/weights.bin", 404, "RevisionNotFound"),
    ],
)
def test_error_answers_carry_json_body(hub: FakeHub, path: str, status: int, code: str) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    conn = http.client.HTTPConnection(hub.url.removeprefix("http://"), timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == status
    assert resp.headers["X-Error-Code"] == code
    assert resp.headers["Content-Type"] == "application/json"
    assert isinstance(body["error"], str) and body["error"]
    assert "X-Injected" not in resp.headers
    assert hub.requests == [("GET", path)]


def test_non_download_methods_are_refused(hub: FakeHub) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    conn = http.client.HTTPConnection(hub.url.removeprefix("http://"), timeout=5)
    try:
        conn.request("POST", f"/api/models/{REPO}/commit/main", body=b"{}")
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 405
    assert hub.request_log[0].method == "POST" and hub.request_log[0].status == 405


def test_gated_repo(hub: FakeHub, cache: Path) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.gate(REPO, "hf_secret")

    with pytest.raises(GatedRepoError) as no_token:
        _download(hub, cache, "weights.bin", token=False)
    assert no_token.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as bad_token:
        _download(hub, cache, "weights.bin", token="hf_wrong")
    assert bad_token.value.response.status_code == 403
    assert isinstance(bad_token.value, RepositoryNotFoundError)  # GatedRepoError subclasses it

    assert _download(hub, cache, "weights.bin", token="hf_secret").read_bytes() == WEIGHTS
    assert hub.request_log[-1].headers["authorization"] == "Bearer hf_secret"


def test_500_with_empty_cache_retries_then_local_entry_not_found(
    hub: FakeHub, cache: Path, sleeps: list[float]
) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.set_fault(REPO, "weights.bin", "500")

    with pytest.raises(LocalEntryNotFoundError) as info:
        _download(hub, cache, "weights.bin")
    cause = info.value.__cause__
    assert isinstance(cause, HfHubHTTPError) and cause.response.status_code == 500
    assert "X-Repo-Commit" not in cause.response.headers
    # One fast HEAD (retries off, to try the cache), then - nothing cached - a second
    # round with backoff: 6 more HEADs sleeping 1, 2, 4, 8, 8 s (23 s unpatched).
    assert hub.requests == [("HEAD", _file_url(hub, "main", "weights.bin"))] * 7
    assert sleeps == [1, 2, 4, 8, 8]


def test_500_with_cached_file_falls_back_to_cache(hub: FakeHub, cache: Path, sleeps: list[float]) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    path = _download(hub, cache, "weights.bin")
    hub.set_fault(REPO, "weights.bin", "500")
    hub.clear_requests()

    assert _download(hub, cache, "weights.bin") == path
    assert hub.requests == [("HEAD", _file_url(hub, "main", "weights.bin"))]
    assert sleeps == []

    hub.set_fault(REPO, "weights.bin", None)  # cleared: served normally again
    hub.clear_requests()
    assert _download(hub, cache, "weights.bin", force_download=True).read_bytes() == WEIGHTS
    assert [r.status for r in hub.request_log] == [200, 200]


# --------------------------------------------------------------------------- transfer faults


def test_corrupt_download_succeeds_with_wrong_bytes(hub: FakeHub, cache: Path) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.set_fault(REPO, "weights.bin", "corrupt")

    path = _download(hub, cache, "weights.bin")
    data = path.read_bytes()
    # hf_hub_download only checks the size, never the hash: the cache now holds
    # wrong bytes under the *true* sha256 blob name. The zoo core must verify sha256.
    assert len(data) == len(WEIGHTS)
    assert data != WEIGHTS
    assert path.resolve().name == _sha256(WEIGHTS)
    assert _sha256(data) != _sha256(WEIGHTS)


def test_persistent_truncate_raises_raw_httpx_error(hub: FakeHub, cache: Path, sleeps: list[float]) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.set_fault(REPO, "weights.bin", "truncate")

    # The client retries a short body 5 times (sleeping 1 s each), then lets the
    # transport error escape *unwrapped*: httpx2.RemoteProtocolError, which is neither
    # an HfHubHTTPError nor an OSError. Partial data in a chunk smaller than
    # constants.DOWNLOAD_CHUNK_SIZE (10 MiB) is discarded, so every retry starts from
    # byte 0 without a Range header.
    with pytest.raises(httpx2.RemoteProtocolError):
        _download(hub, cache, "weights.bin")
    assert [(r.method, r.status, r.headers.get("range")) for r in hub.request_log] == [
        ("HEAD", 200, None)
    ] + [("GET", 200, None)] * 6
    assert sleeps == [1] * 5
    repo_dir = cache / "models--acme--tiny"
    assert not list((repo_dir / "blobs").iterdir())
    assert not (repo_dir / "snapshots").exists() or not list((repo_dir / "snapshots").rglob("weights.bin"))


def test_transient_truncate_is_retried_from_scratch(hub: FakeHub, cache: Path, sleeps: list[float]) -> None:
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.set_fault(REPO, "weights.bin", "truncate_once")

    assert _download(hub, cache, "weights.bin").read_bytes() == WEIGHTS
    assert [(r.method, r.headers.get("range")) for r in hub.request_log] == [
        ("HEAD", None),
        ("GET", None),
        ("GET", None),
    ]
    assert sleeps == [1]


def test_transient_truncate_resumes_with_range(
    hub: FakeHub, cache: Path, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With chunks smaller than what arrived, the partial body is kept and resumed.
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 64)
    hub.publish(REPO, {"weights.bin": WEIGHTS})
    hub.set_fault(REPO, "weights.bin", "truncate_once")

    assert _download(hub, cache, "weights.bin").read_bytes() == WEIGHTS
    half = len(WEIGHTS) // 2
    assert [(r.method, r.status, r.headers.get("range")) for r in hub.request_log] == [
        ("HEAD", 200, None),
        ("GET", 200, None),
        ("GET", 206, f"bytes={half}-"),
    ]
    assert sleeps == [1]


def test_set_fault_rejects_unknown(hub: FakeHub) -> None:
    with pytest.raises(ValueError):
        hub.set_fault(REPO, "weights.bin", "explode")


# --------------------------------------------------------------------------- lifecycle / packaging


def test_lifecycle_is_idempotent_and_joins_threads(cache: Path) -> None:
    server = FakeHub()
    with pytest.raises(RuntimeError):
        _ = server.url
    assert server.start() is server
    url = server.url
    assert server.start() is server and server.url == url
    server.publish(REPO, {"weights.bin": WEIGHTS})
    # Leaves a keep-alive connection open in huggingface_hub's shared client.
    hf_hub_download(REPO, "weights.bin", endpoint=url, cache_dir=cache, token=False)
    assert _fakehub_threads()
    server.stop()
    assert _fakehub_threads() == []
    server.stop()
    with pytest.raises(RuntimeError):
        _ = server.url


def test_module_imports_nothing_heavy() -> None:
    # Load the file directly so the test is independent of zoo_core/__init__.py.
    path = Path(__file__).resolve().parents[1] / "zoo_core" / "testing" / "fakehub.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('fakehub', {str(path)!r})\n"
        "mod = importlib.util.module_from_spec(spec); sys.modules['fakehub'] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "heavy = {'torch', 'huggingface_hub', 'httpx', 'httpx2', 'requests', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert mod.FakeHub\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": ""})
