"""A throwaway virtualenv for tests that install a plugin the way a user would (offline)."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path


def make_venv(root: Path) -> dict[str, str]:
    """A virtualenv at ``root`` seeing the system site, with ``zoo``/``pip``/``pytest`` on PATH; its env."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True)
    # --system-site-packages sees the *base* interpreter's packages; when the tests themselves run in
    # a virtualenv (as the README's commands may), zoo-core lives in that one: add its site folders
    # (with their .pth files, which editable installs rely on)
    inner = root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (inner / "zoo-outer-env.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in outer))
    bin_dir = root / "bin"
    # --without-pip (fast) and zoo-core installed outside the venv: the commands run as modules
    for command, module in (("zoo", "zoo_core"), ("pip", "pip"), ("pytest", "pytest")):
        shim = bin_dir / command
        shim.write_text(f'#!/bin/sh\nexec "{bin_dir / "python"}" -m {module} "$@"\n')
        shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("ZOO_REGISTRY", "ZOO_PLUGINS", "PYTHONPATH")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(root),
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",  # pip's inverted spelling: no isolation, offline
               PIP_DISABLE_PIP_VERSION_CHECK="1", HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    return env
