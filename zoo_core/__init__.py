"""zoo: a plugin-based model zoo for generative image models and causal inference.

The one obvious entry points are ``zoo_core.load(name)`` and ``zoo_core.list_models()``.
Importing ``zoo_core`` is cheap: names are imported from their modules on first access,
and nothing here imports torch until a generative model is used.
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__
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

if _typing.TYPE_CHECKING:
    from .api import get_entry, list_models, load
    from .architectures import TASKS, Architecture, Option
    from .causal import AnalysisResult, CausalAnalyzer
    from .hookspecs import hookimpl
    from .interfaces import Autoencoder, Encoder, Generator, Model
    from .plugins import PLUGIN_API
    from .registry import Metric, ModelEntry, Weights

_LAZY = {
    "load": "api", "list_models": "api", "get_entry": "api",
    "Architecture": "architectures", "Option": "architectures", "TASKS": "architectures",
    "AnalysisResult": "causal", "CausalAnalyzer": "causal",
    "hookimpl": "hookspecs",
    "Model": "interfaces", "Generator": "interfaces", "Encoder": "interfaces", "Autoencoder": "interfaces",
    "PLUGIN_API": "plugins",
    "Metric": "registry", "ModelEntry": "registry", "Weights": "registry",
}
#: Names whose module imports torch.
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


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo_core' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
