"""The errors zoo raises on purpose.

Every one is a ``ZooError``; the CLI prints its message as one line and exits 1. Several
also subclass a builtin so that ordinary ``except`` clauses keep working:

- ZooError
  - UnknownModelError (also KeyError): no registry entry of that name.
  - UnknownArchitectureError (also KeyError): no loaded plugin provides the architecture.
  - ModelUnavailableError: the entry exists but its plugin is missing or broken.
  - RegistryError (also ValueError): a registry file or entry is malformed.
  - ConfigError (also ValueError): a model config does not validate.
  - PluginError: a plugin failed to load or broke the plugin contract.
  - WeightsError
    - WeightsNotFoundError (also FileNotFoundError): no weights where they should be.
    - IntegrityError: size or sha256 do not match the registry.
    - UnsafeWeightsError: a pickle-based format was offered; zoo loads safetensors only.
    - WeightsFormatError (also ValueError): a malformed or hostile safetensors file.
    - StateDictMismatchError: the file's keys or shapes do not fit the architecture.
  - HubError: the Hugging Face Hub refused or failed a download.
  - InputError (also ValueError): a bad argument or input file given by the user.
    - OutputError (also OSError): an output could not be written (a full disk, a read-only
      folder); names the file and keeps ``errno``.
"""

from __future__ import annotations

__all__ = [
    "ZooError",
    "UnknownModelError",
    "UnknownArchitectureError",
    "ModelUnavailableError",
    "RegistryError",
    "ConfigError",
    "PluginError",
    "WeightsError",
    "WeightsNotFoundError",
    "IntegrityError",
    "UnsafeWeightsError",
    "WeightsFormatError",
    "StateDictMismatchError",
    "HubError",
    "InputError",
    "OutputError",
]


class ZooError(Exception):
    """Base class of every error zoo raises on purpose; its message is one line for users."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class UnknownModelError(ZooError, KeyError):
    """No registry entry has this name."""


class UnknownArchitectureError(ZooError, KeyError):
    """No loaded plugin registers this architecture."""


class ModelUnavailableError(ZooError):
    """The entry exists but the plugin providing its architecture is not installed or broke."""


class RegistryError(ZooError, ValueError):
    """A registry file or entry is malformed; the message names file, entry and field."""


class ConfigError(ZooError, ValueError):
    """A model config does not validate against its architecture's config class."""


class PluginError(ZooError):
    """A plugin failed to import, its hook raised, or it targets another plugin API."""


class WeightsError(ZooError):
    """Base class for problems with weights files."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """The weights are not where they should be (missing path, not cached while offline)."""


class IntegrityError(WeightsError):
    """A weights file's size or sha256 differs from the registry's."""


class UnsafeWeightsError(WeightsError):
    """A pickle-based weights format was offered; zoo loads safetensors only."""


class WeightsFormatError(WeightsError, ValueError):
    """The file is not a well-formed safetensors file."""


class StateDictMismatchError(WeightsError):
    """The weights' keys or shapes do not match the architecture (strict loading)."""


class HubError(ZooError):
    """The Hugging Face Hub refused or failed a request."""


class InputError(ZooError, ValueError):
    """A bad argument or input file given by the user."""


class OutputError(InputError, OSError):
    """An output file could not be written; the message names it, ``errno`` says why."""

    _HINTS = {28: "free some space or write elsewhere", 122: "free some space or write elsewhere",
              30: "the file system is read-only: write elsewhere", 13: "no permission: write elsewhere",
              1: "not permitted: write elsewhere", 27: "the file is too large for this file system"}

    def __init__(self, message: str, errno: int | None = None, strerror: str | None = None) -> None:
        super().__init__(message)
        self.errno, self.strerror = errno, strerror

    @classmethod
    def writing(cls, path: object, exc: OSError) -> OutputError:
        """The error for ``exc`` while writing ``path``: one line naming the path and what to do."""
        reason = exc.strerror or str(exc) or type(exc).__name__
        hint = cls._HINTS.get(exc.errno or 0)
        return cls(f"{path}: cannot write it ({reason})" + (f"; {hint}" if hint else ""), exc.errno, reason)
