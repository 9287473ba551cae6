"""zoo's pytest plugin: fixtures for testing a zoo plugin, loaded by pytest when zoo-core is installed.

zoo-core registers this module under the ``pytest11`` entry point, so a plugin's test suite
gets these fixtures with nothing to import. None is autouse and all start with ``zoo_``:

``zoo_hf_cache``
    A temporary Hugging Face cache (``HF_HOME``, ``HF_HUB_CACHE``), returned as its path.
``zoo_fake_hub``
    A running :class:`zoo_core.testing.FakeHub` with ``HF_ENDPOINT`` pointing at it and a
    temporary HF cache: ``sha = zoo_fake_hub.publish("me/tiny", {"model.safetensors": data})``.
``zoo_tiny_weights``
    A factory: ``zoo_tiny_weights("dcgan", config=None)`` writes seeded random weights for an
    installed architecture and returns the safetensors path.

The conformance checks themselves are plain functions (``zoo_core.testing.conformance``)::

    def test_my_plugin_conforms():
        check_plugin("zoo-mine").assert_ok()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .fakehub import FakeHub

__all__ = ["zoo_hf_cache", "zoo_fake_hub", "zoo_tiny_weights"]


@pytest.fixture
def zoo_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary, empty Hugging Face cache; offline mode and tokens are cleared."""
    home = tmp_path_factory.mktemp("zoo-hf-home")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    for name in ("HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return home / "hub"


@pytest.fixture
def zoo_fake_hub(zoo_hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A loopback fake Hub with ``HF_ENDPOINT`` pointing at it, over a temporary HF cache."""
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def zoo_tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``zoo_tiny_weights(architecture, config=None) -> Path``: seeded random weights as safetensors."""
    from .conformance import tiny_weights

    folder = tmp_path_factory.mktemp("zoo-tiny-weights")
    made = [0]

    def make(architecture: str, config: Mapping[str, Any] | Any | None = None) -> Path:
        made[0] += 1
        return tiny_weights(architecture, folder / f"{architecture}-{made[0]}.safetensors", config=config)

    return make
