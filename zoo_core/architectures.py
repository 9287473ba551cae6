"""Light descriptors that plugins register: an architecture and the run options it takes.

Registering an ``Architecture`` imports nothing: the model class is named by import path
and imported on first use, so ``zoo list`` stays fast however many plugins are installed.
An architecture's ``task`` names a task some plugin registers (``zoo_core.task``); the core
checks that once every plugin has registered, so the order plugins load in does not matter.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import PluginError

__all__ = ["Architecture", "Option", "import_object", "NAME"]

#: Architecture and model names: lower case, digits, '.', '_' and '-', matched in full.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TASK = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_OPTION_TYPES = ("str", "int", "float", "bool", "path", "data", "choice")


@dataclass(frozen=True)
class Option:
    """One extra ``zoo run`` option an architecture accepts (``--name VALUE``).

    ``type`` is one of str, int, float, bool (a flag), path, data, choice (with ``choices``).
    ``data`` is a path on the command line; from Python it also takes an in-memory value
    (a pandas DataFrame, a mapping of arrays), passed to the model as it is.
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
        if not isinstance(self.name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
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
        task: the name of a registered task (``zoo_core.TASKS``); the model class must
            subclass that task's interface.
        target: ``"package.module:Class"``, the model class (imported on first use).
        description: one line for ``zoo plugins`` and ``zoo info``.
        options: extra ``zoo run`` options beyond the ones the task gives every model.
        conditional: a generator that takes class labels (adds ``zoo run --label``).
        train: the same as ``verbs={"train": ...}`` (plugin API 2 spelling, still accepted).
        evaluate: the same as ``verbs={"eval": ...}`` (plugin API 2 spelling, still accepted).
        tiling: the model is fully convolutional, so the core may run it tile by tile
            (``--tile``/``--tile-overlap`` for autoencoders and image-to-image models).
        fixed_tile: for an image-to-image model that only takes inputs of one size and so always
            runs on tiles of it (``ImageToImage.fixed_input_size``): that size in pixels, or the
            name of the config key that holds it (read from the registry entry, without torch).
            ``--tile`` then defaults to it, accepts nothing else, and ``--help`` says so.
        example: ``zoo run`` options that make a meaningful run without weights or files the
            user must supply (a causal analyzer's ``{"graph": "X -> Y", ...}``): the
            conformance kit and ``zoo plugins --check`` run it, ``zoo info`` shows it.
        verbs: the click commands (``"package.module:command"``) that run ``zoo VERB``: ``"train"``
            (``zoo train ARCHITECTURE``), ``"eval"`` (``zoo eval MODEL``) and the verbs its task
            declares beyond ``run``, e.g. ``{"train": "pkg.train:command", "data": "pkg.scene:write_data"}``.
    """

    name: str
    task: str
    target: str
    description: str = ""
    options: tuple[Option, ...] = ()
    conditional: bool = False
    train: str | None = None
    evaluate: str | None = None
    tiling: bool = False
    fixed_tile: int | str | None = None
    example: Mapping[str, Any] = field(default_factory=dict, hash=False)
    verbs: Mapping[str, str] = field(default_factory=dict, hash=False)
    plugin: str = field(default="", compare=False)  # distribution name, set by the core

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME.fullmatch(self.name):
            raise PluginError(
                f"architecture name {self.name!r} must match [a-z0-9][a-z0-9._-]* (lower case)"
            )
        if not isinstance(self.task, str) or not _TASK.fullmatch(self.task):
            raise PluginError(f"architecture {self.name!r}: task {self.task!r} is not a task name "
                              "(lower-case words joined by dashes, e.g. 'generator')")
        targets = [("target", self.target), ("train", self.train), ("evaluate", self.evaluate)]
        if not isinstance(self.verbs, Mapping) or not isinstance(self.example, Mapping):
            raise PluginError(f"architecture {self.name!r}: verbs and example must be mappings")
        targets += [(f"verbs[{verb!r}]", command) for verb, command in self.verbs.items()]
        for what, value in targets:
            if value is not None and not (isinstance(value, str) and _TARGET.fullmatch(value)):
                raise PluginError(
                    f"architecture {self.name!r}: {what} {value!r} must look like 'package.module:Name'"
                )
        if self.fixed_tile is not None and not (
                isinstance(self.fixed_tile, str) and self.fixed_tile.isidentifier()
                or isinstance(self.fixed_tile, int) and not isinstance(self.fixed_tile, bool) and self.fixed_tile > 0):
            raise PluginError(f"architecture {self.name!r}: fixed_tile must be a positive number of pixels or the "
                              f"name of a config key, got {self.fixed_tile!r}")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "example", dict(self.example))
        verbs = dict(self.verbs)
        for verb, alias in (("train", "train"), ("eval", "evaluate")):  # one place for every verb's command
            given = getattr(self, alias)
            if given is not None and verbs.setdefault(verb, given) != given:
                raise PluginError(f"architecture {self.name!r}: {alias}= and verbs[{verb!r}] name different commands")
            object.__setattr__(self, alias, verbs.get(verb))
        object.__setattr__(self, "verbs", verbs)
        for option in self.options:
            if not isinstance(option, Option):
                raise PluginError(f"architecture {self.name!r}: options must be zoo_core.Option, "
                                  f"got {type(option).__name__} {option!r}")

    def tile_for(self, config: Mapping[str, Any] | None) -> int | None:
        """The fixed tile side of a model of this architecture with ``config`` (None: not fixed, or
        a config key the config does not set)."""
        if isinstance(self.fixed_tile, int):
            return self.fixed_tile
        if self.fixed_tile is None or config is None:
            return None
        value = config.get(self.fixed_tile)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

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
