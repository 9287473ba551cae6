"""Light descriptors that plugins register: an architecture and the run options it takes.

Registering an ``Architecture`` imports nothing: the model class is named by import path
and imported on first use, so ``zoo list`` stays fast however many plugins are installed.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import PluginError

__all__ = ["Architecture", "Option", "TASKS", "import_object"]

#: The tasks an architecture (and a registry entry) can declare.
TASKS = ("generator", "encoder", "autoencoder", "causal-analyzer")

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_OPTION_TYPES = ("str", "int", "float", "bool", "path", "choice")


@dataclass(frozen=True)
class Option:
    """One extra ``zoo run`` option an architecture accepts (``--name VALUE``).

    ``type`` is one of str, int, float, bool (a flag), path, choice (with ``choices``).
    The value reaches the model's ``run_options`` as a keyword named like the option with
    dashes turned into underscores.
    """

    name: str
    type: str = "str"
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    multiple: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise PluginError(f"option name {self.name!r} must be lower-case letters, digits and dashes")
        if self.type not in _OPTION_TYPES:
            raise PluginError(f"option {self.name!r}: type must be one of {', '.join(_OPTION_TYPES)}")
        if self.type == "choice" and not self.choices:
            raise PluginError(f"option {self.name!r}: type 'choice' needs choices")


@dataclass(frozen=True)
class Architecture:
    """A model family a plugin provides, registered without importing it.

    Args:
        name: registry-facing name, e.g. ``"dcgan"``.
        task: one of ``TASKS``; the model class must implement the matching interface.
        target: ``"package.module:Class"``, the model class (imported on first use).
        description: one line for ``zoo plugins`` and ``zoo info``.
        options: extra ``zoo run`` options beyond the ones the task gives every model.
        conditional: a generator that takes class labels (adds ``zoo run --label``).
        train: ``"package.module:command"``, a click command run by ``zoo train NAME``.
        evaluate: ``"package.module:command"``, a click command run by ``zoo eval NAME``.
    """

    name: str
    task: str
    target: str
    description: str = ""
    options: tuple[Option, ...] = ()
    conditional: bool = False
    train: str | None = None
    evaluate: str | None = None
    plugin: str = field(default="", compare=False)  # distribution name, set by the core

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise PluginError(
                f"architecture name {self.name!r} must match [a-z0-9][a-z0-9._-]* (lower case)"
            )
        if self.task not in TASKS:
            raise PluginError(f"architecture {self.name!r}: task must be one of {', '.join(TASKS)}")
        for what, value in (("target", self.target), ("train", self.train), ("evaluate", self.evaluate)):
            if value is not None and not _TARGET.match(value):
                raise PluginError(
                    f"architecture {self.name!r}: {what} {value!r} must look like 'package.module:Name'"
                )
        object.__setattr__(self, "options", tuple(self.options))
        for option in self.options:
            if not isinstance(option, Option):
                raise PluginError(f"architecture {self.name!r}: options must be zoo_core.Option, "
                                  f"got {type(option).__name__} {option!r}")

    def load_class(self) -> type:
        """Import and return the model class (this may import torch)."""
        return import_object(self.target, what=f"architecture {self.name!r}")


def import_object(target: str, *, what: str) -> Any:
    """Import ``"module:attr.path"``; failures become a ``PluginError`` naming ``what``."""
    module_name, _, attr_path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's fault
        raise PluginError(f"{what}: cannot import {target}: {type(exc).__name__}: {exc}") from exc
    return obj
