"""A plugin that imports torch when zoo merely lists it (the model should be imported lazily)."""

import torch  # noqa: F401  - the deliberate mistake

import zoo_core

ZOO_PLUGIN_API = 1


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(name="heavy-gen", task="generator", target="zoo_nonconforming.models:Good"))
