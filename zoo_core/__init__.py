"""zoo: a plugin-based model zoo for generative image models and causal inference.

The one obvious entry points are ``zoo_core.load(name)``, ``zoo_core.run(name, ...)`` (what
``zoo run`` does) and ``zoo_core.list_models()``. Importing ``zoo_core`` is cheap: names are
imported from their modules on first access, and nothing here imports torch until a model
with weights is used.
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
    OutputError,
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
    from .architectures import Architecture, Option
    from .causal import AnalysisResult, CausalAnalyzer
    from .folders import check_folder_target, staged_folder
    from .hookspecs import hookimpl
    from .interfaces import Autoencoder, Encoder, Generator, ImageToImage, Model
    from .loading import build, load_weights
    from .outputs import OutputPlan, Outputs
    from .plugins import PLUGIN_API, warn
    from .registry import Metric, ModelEntry, Weights
    from .running import RunContext, RunResult, clear_model_cache, run
    from .task import TASKS, Argument, Task, TaskExtras, Verb
    from .threads import default_threads

_LAZY = {
    "load": "api", "list_models": "api", "get_entry": "api",
    "Architecture": "architectures", "Option": "architectures",
    "AnalysisResult": "causal", "CausalAnalyzer": "causal",
    "hookimpl": "hookspecs",
    "staged_folder": "folders", "check_folder_target": "folders",
    "Model": "interfaces", "Generator": "interfaces", "Encoder": "interfaces", "Autoencoder": "interfaces",
    "ImageToImage": "interfaces",
    "build": "loading", "load_weights": "loading",
    "Outputs": "outputs", "OutputPlan": "outputs",
    "PLUGIN_API": "plugins", "warn": "plugins",
    "Metric": "registry", "ModelEntry": "registry", "Weights": "registry",
    "run": "running", "RunContext": "running", "RunResult": "running", "clear_model_cache": "running",
    "Task": "task", "TaskExtras": "task", "Argument": "task", "Verb": "task", "TASKS": "task",
    "default_threads": "threads",
}
#: Names whose module imports torch.
_TORCH_EXPORTS = {"Model", "Generator", "Encoder", "Autoencoder", "ImageToImage", "build", "load_weights"}

__all__ = [
    "PLUGIN_API",
    "TASKS",
    "AnalysisResult",
    "Architecture",
    "Argument",
    "Autoencoder",
    "CausalAnalyzer",
    "ConfigError",
    "Encoder",
    "Generator",
    "HubError",
    "ImageToImage",
    "InputError",
    "IntegrityError",
    "Metric",
    "Model",
    "ModelEntry",
    "ModelUnavailableError",
    "Option",
    "OutputError",
    "OutputPlan",
    "Outputs",
    "PluginError",
    "RegistryError",
    "RunContext",
    "RunResult",
    "StateDictMismatchError",
    "Task",
    "TaskExtras",
    "UnknownArchitectureError",
    "UnknownModelError",
    "UnsafeWeightsError",
    "Verb",
    "Weights",
    "WeightsError",
    "WeightsFormatError",
    "WeightsNotFoundError",
    "ZooError",
    "__version__",
    "build",
    "check_folder_target",
    "clear_model_cache",
    "default_threads",
    "get_entry",
    "hookimpl",
    "list_models",
    "load",
    "load_weights",
    "run",
    "staged_folder",
    "warn",
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
