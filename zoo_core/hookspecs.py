"""The hooks a zoo plugin may implement.

A plugin is a module named by an entry point in the ``zoo`` group. It sets
``ZOO_PLUGIN_API`` (the plugin API it was written for: 3; 2 for plugins written before the
output service, 1 for plugins written before ``register_tasks`` existed) and implements any of these hooks with ``@zoo_core.hookimpl``. Each hook receives a ``register`` callback rather than
returning values, so the core can detect duplicates and keep registration lazy: nothing
here may import torch or the plugin's model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    import click

    from .architectures import Architecture
    from .task import Task

__all__ = ["hookspec", "hookimpl", "PROJECT_NAME"]

PROJECT_NAME = "zoo"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_tasks(register: Callable[[Task], None]) -> None:
    """Register new kinds of model with ``register(zoo_core.Task(...))`` (plugin API 2 and later).

    A task names its interface, runner and checks by import path (or as functions that
    import what they need when called), so registering costs nothing. zoo's own tasks are
    registered through this hook by the core's built-in plugin. Called once per plugin;
    architectures may name a task registered by any plugin, in any order.
    """


@hookspec
def register_architectures(register: Callable[[Architecture], None]) -> None:
    """Register architectures with ``register(zoo_core.Architecture(...))``.

    An ``Architecture`` names its model class by import path (``"pkg.module:Class"``), so
    registering costs nothing; the class is imported on first use. Called once per plugin.
    """


@hookspec
def register_models(register: Callable[..., None]) -> None:
    """Register registry entries this plugin ships.

    ``register(path)`` adds every ``[models.*]`` table of a TOML file (bundled weights are
    resolved relative to that file); ``register(mapping)`` adds one entry given as a dict
    with a ``name`` key and an optional ``base_dir`` (relative paths are taken from the
    plugin module's folder). Called once per plugin.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands to the ``zoo`` CLI with ``@cli.command()``.

    Keep imports inside the command functions: the hook runs for every ``zoo`` invocation.
    Shared verbs (``run``, ``train``, ``eval``) belong to the core; provide training and
    evaluation through ``Architecture(train=..., evaluate=...)`` instead.
    """


