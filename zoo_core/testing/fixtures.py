"""pytest fixtures for zoo and its plugins: an isolated environment, the loopback fake Hub,
and the CLI run in-process. Import them into a ``conftest.py``::

    from zoo_core.testing.fixtures import hub, isolated_env, sleeps, zoo  # noqa: F401
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

import zoo_core.plugins

from .fakehub import FakeHub

__all__ = ["isolated_env", "sleeps", "hub", "zoo"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No user registry, no plugin filter, caches in a temporary folder, never the network."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(home / "zoo"))
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: a test that forgets fails fast
    for name in ("ZOO_REGISTRY", "ZOO_PLUGINS", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HF_TOKEN", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    zoo_core.plugins.reset()
    yield home
    zoo_core.plugins.reset()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record instead of performing huggingface_hub's (and zoo's) retry sleeps.

    It has no public knob for its backoff: a 5xx with nothing cached is retried 5 times
    sleeping 1+2+4+8+8 s (``utils/_http.py``), and a body cut short is re-requested 5 times
    sleeping 1 s each (``file_download.http_get``). Both modules only use ``time.sleep``,
    so swapping their ``time`` for a recorder keeps tests fast and lets them assert it.
    """
    import huggingface_hub.file_download as hf_file_download
    import huggingface_hub.utils._http as hf_http

    import zoo_core.hub

    recorded: list[float] = []
    fake_time = SimpleNamespace(sleep=recorded.append)
    monkeypatch.setattr(hf_http, "time", fake_time, raising=False)
    monkeypatch.setattr(hf_file_download, "time", fake_time, raising=False)
    monkeypatch.setattr(zoo_core.hub, "_sleep", recorded.append)  # zoo's own back-off between tries
    return recorded


@pytest.fixture
def hub(monkeypatch):
    """A loopback fake Hub, with HF_ENDPOINT pointing at it."""
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server
    assert [t for t in threading.enumerate() if t.name.startswith("FakeHub:")] == [], "FakeHub leaked threads"


@pytest.fixture
def zoo(capsys):
    """Run the CLI in-process: ``code, out, err = zoo("list", "--json")``."""
    from zoo_core.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        import sys

        from zoo_core import threads

        capsys.readouterr()
        torch = sys.modules.get("torch")
        before, decided = (torch.get_num_threads() if torch else None), threads._decided
        try:
            code = main(list(args))
        finally:  # each command decides its threads at its start, as a fresh process would
            threads._decided = decided
            torch = sys.modules.get("torch")
            if torch is not None and before is not None and torch.get_num_threads() != before:
                torch.set_num_threads(before)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
