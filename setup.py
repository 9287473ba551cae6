"""Copy the top-level registry.toml into the built package.

The product keeps zoo's first-party registry at the top of the repository, where people
read and review it; an installed (non-editable) zoo-core still needs it, so the build puts
a copy at ``zoo_core/registry.toml``. Editable installs read the top-level file directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithRegistry(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "zoo_core" / "registry.toml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).parent / "registry.toml", target)


setup(cmdclass={"build_py": BuildWithRegistry})
