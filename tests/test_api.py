"""The public Python API: exported names, the error hierarchy, torch-free import."""

from __future__ import annotations

import subprocess
import sys

import zoo_core
from zoo_core import errors


def test_all_lists_exactly_the_public_names():
    import types

    public = {name for name in dir(zoo_core)
              if not name.startswith("_") and not isinstance(getattr(zoo_core, name), types.ModuleType)}
    assert sorted(zoo_core.__all__) == sorted(public | {"__version__"})
    for name in zoo_core.__all__:
        assert getattr(zoo_core, name) is not None


def test_every_error_is_a_zoo_error_and_some_are_builtins_too():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ZooError)
    assert issubclass(errors.UnknownModelError, KeyError)
    assert issubclass(errors.WeightsNotFoundError, FileNotFoundError)
    assert issubclass(errors.RegistryError, ValueError)
    assert str(errors.UnknownModelError("unknown model 'x'")) == "unknown model 'x'"  # not KeyError's repr


def test_importing_zoo_core_does_not_import_torch():
    code = "import sys, zoo_core; zoo_core.list_models(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_interfaces_are_available_lazily():
    assert issubclass(zoo_core.Autoencoder, zoo_core.Generator)
    assert issubclass(zoo_core.Autoencoder, zoo_core.Encoder)
