"""zoo: a plugin-based model zoo for generative image models and causal inference.

The one obvious entry points are ``zoo_core.load(name)`` and ``zoo_core.list_models()``.
Importing ``zoo_core`` does not import torch: the generative interfaces
(``Generator``, ``Encoder``, ``Autoencoder``, ``Model``) are imported on first access.
"""

import typing as _typing

from ._version import __version__
from .api import get_entry, list_models, load
from .architectures import TASKS, Architecture, Option
from .causal import AnalysisResult, CausalAnalyzer
from .errors import (
    ConfigError,
    HubError,
    InputError,
    IntegrityError,
    ModelUnavailableError,
    PluginError,
    RegistryError,
    StateDictMismatchError,
    UnknownArchitectureError,
    UnknownModelError,
    UnsafeWeightsError,
    WeightsError,
    WeightsFormatError,
    WeightsNotFoundError,
    ZooError,
)
from .hookspecs import hookimpl
from .plugins import PLUGIN_API
from .registry import Metric, ModelEntry, Weights

if _typing.TYPE_CHECKING:
    from .interfaces import Autoencoder, Encoder, Generator, Model

_TORCH_EXPORTS = {"Model", "Generator", "Encoder", "Autoencoder"}

__all__ = [
    "PLUGIN_API",
    "TASKS",
    "AnalysisResult",
    "Architecture",
    "Autoencoder",
    "CausalAnalyzer",
    "ConfigError",
    "Encoder",
    "Generator",
    "HubError",
    "InputError",
    "IntegrityError",
    "Metric",
    "Model",
    "ModelEntry",
    "ModelUnavailableError",
    "Option",
    "PluginError",
    "RegistryError",
    "StateDictMismatchError",
    "UnknownArchitectureError",
    "UnknownModelError",
    "UnsafeWeightsError",
    "Weights",
    "WeightsError",
    "WeightsFormatError",
    "WeightsNotFoundError",
    "ZooError",
    "__version__",
    "get_entry",
    "hookimpl",
    "list_models",
    "load",
]


def __getattr__(name: str) -> type:
    if name in _TORCH_EXPORTS:
        from . import interfaces

        return getattr(interfaces, name)
    raise AttributeError(f"module 'zoo_core' has no attribute {name!r}")
