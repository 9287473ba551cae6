"""The scenes: data generators with a known structural causal model and an exact renderer."""

from __future__ import annotations

import importlib
from typing import Any

SCENES = ("pendulum", "fashion")


def scene_scm(scene: str, sigma: float) -> Any:
    """The SCM of scene ``scene`` at noise scale ``sigma`` (numpy only: no torch)."""
    from zoo_core import ConfigError

    if scene not in SCENES:
        raise ConfigError(f"scene {scene!r}: known scenes are {', '.join(SCENES)}")
    return importlib.import_module(f"zoo_causalgen.scenes.{scene}").scm(sigma)
