"""``zoo registry add``: pin a weights file (size, sha256, and its Hub repo and commit or its bundled
place beside the registry file) in a registry file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import click

from ..errors import InputError, RegistryError

__all__ = ["registry_group", "add_command", "add_entry"]

_COMMIT = re.compile(r"[0-9a-f]{40}")
_HEADER = "# zoo user registry (ZOO_REGISTRY): [models.NAME] tables, schema in zoo's docs/plugins.md\n"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def _without_entry(text: str, name: str) -> tuple[str, bool]:
    """``text`` with the ``[models.NAME]`` table and its sub-tables removed; whether it had them."""
    heads = {f"models.{name}", f'models."{name}"'}
    kept, dropping, found = [], False, False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            header = stripped.strip("[]").split("#")[0].strip().rstrip("]").strip()
            dropping = any(header == h or header.startswith(h + ".") for h in heads)
            found = found or dropping
        if not dropping:
            kept.append(line)
    return "".join(kept), found


def _validate(text: str, path: Path) -> None:
    """Parse ``text`` as ``path``'s new content exactly as zoo will read it."""
    from ..registry import parse_entry, tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: the new registry would not be valid TOML ({exc}); the file is unchanged") \
            from None
    unknown = set(document) - {"models"}
    if unknown:
        raise RegistryError(f"{path}: unknown top-level key {sorted(unknown)[0]!r}; entries go under [models.NAME]")
    for entry_name, table in document.get("models", {}).items():
        parse_entry(entry_name, table, source=str(path), base_dir=path.resolve().parent)


def add_entry(registry: Path, name: str, table: dict[str, Any], *, replace: bool = False) -> bool:
    """Append ``[models.NAME]`` to ``registry`` (created if missing), validated, written atomically.

    Returns whether an entry of that name was replaced. Comments and other entries are kept.
    """
    from ..atomic import write_atomic
    from ..scaffold.toml_text import entry_toml

    registry = Path(os.path.realpath(registry)) if registry.is_symlink() else registry  # write the link's target
    text = registry.read_text() if registry.exists() else _HEADER
    text, had = _without_entry(text, name)
    if had and not replace:
        raise InputError(f"--registry {registry}: already has models.{name}; pass --force to overwrite it")
    if text and not text.endswith("\n"):
        text += "\n"
    new = text + ("\n" if text.strip() else "") + entry_toml(name, table)
    _validate(new, registry)
    registry.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(registry, new)
    return had


def _entry_in(registry: Path, name: str) -> Any:
    """The entry ``name`` in the registry file ``registry`` (None if absent or the file is unreadable)."""
    from ..errors import ZooError
    from ..registry import parse_registry_file

    if not registry.is_file():
        return None
    try:
        return next((e for e in parse_registry_file(registry) if e.name == name), None)
    except ZooError:
        return None


def _bundled_path(file: Path, registry: Path) -> str:
    """FILE's path relative to the registry file's folder, as a ``bundled`` entry records it."""
    folder = registry.expanduser().absolute().resolve().parent  # as the reader resolves it (through a link)
    try:
        relative = file.expanduser().absolute().resolve().relative_to(folder.resolve())
    except ValueError:
        raise click.UsageError(f"--file {file}: a bundled file must lie in the registry file's folder ({folder}) or "
                               "below it; copy it there, or pin it on the Hub with --repo-id and --revision") from None
    return relative.as_posix()


@click.group("registry")
def registry_group() -> None:
    """Edit a user registry file (the one ZOO_REGISTRY names)."""


@registry_group.command("add")
@click.argument("name")
@click.option("--repo-id", help="the Hub model repo, owner/name (leave out to pin a bundled file)")
@click.option("--revision", help="the full 40-hex commit that holds FILE (hf upload prints it)")
@click.option("--file", "file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="the .safetensors file: the local copy of what you uploaded, or the file a plugin bundles "
                   "(inside the registry file's folder)")
@click.option("--bundled", is_flag=True,
              help="also record FILE as bundled (relative to the registry file); implied without --repo-id")
@click.option("--filename", help="FILE's path inside the repo (default: FILE's name)")
@click.option("--registry", "registry", type=click.Path(path_type=Path, dir_okay=False),
              help="the registry TOML to edit (default: $ZOO_REGISTRY)")
@click.option("--architecture", help="the architecture that loads FILE (default: the existing entry NAME's)")
@click.option("--description", help="one line for zoo list (default: the existing entry's)")
@click.option("--license", help="licence id (default: the existing entry's)")
@click.option("--force", "--replace", "replace", is_flag=True,
              help="overwrite an entry NAME already in the registry file (--replace is an alias)")
def add_command(name: str, repo_id: str | None, revision: str | None, file: Path, bundled: bool,
                filename: str | None, registry: Path | None, architecture: str | None, description: str | None,
                license: str | None, replace: bool) -> None:
    """Pin NAME's weights by size and sha256: FILE as published at REPO_ID@REVISION, or bundled.

    The entry's architecture, task, description and the rest come from an entry NAME zoo
    already knows (e.g. one a plugin bundles); config comes from a config.json beside FILE.
    Without --repo-id and --revision, FILE is pinned as a bundled copy: it must lie in the
    registry file's folder (a plugin's models.toml and its weights/ folder).

    \b
    zoo registry add sneakers-v1 --repo-id you/sneakers --revision 3f2a…(40 hex) \\
        --file hub/sneakers/model.safetensors --registry my-registry.toml
    zoo registry add sneakers-demo --file zoo_sneakers/weights/demo.safetensors \\
        --registry zoo_sneakers/models.toml
    """
    from ..integrity import sha256_file
    from ..plugins import creating_user_registry, get_catalogue
    from ..registry import user_registry_path
    from ..safetensors_header import read_header, refuse_unsafe

    target = registry or user_registry_path()
    if target is None:
        raise click.UsageError("no registry file: pass --registry PATH or set ZOO_REGISTRY")
    target = Path(target).expanduser()
    if (repo_id is None) != (revision is None):
        raise click.UsageError("--repo-id and --revision go together: give both (a Hub pin) or neither (a bundled "
                               "file)")
    if repo_id is not None and not _REPO_ID.fullmatch(repo_id):
        raise click.UsageError(f"--repo-id {repo_id!r}: expected 'owner/name'")
    if revision is not None and not _COMMIT.fullmatch(revision):
        raise click.UsageError(f"--revision {revision!r}: give the full 40-hex commit sha (a branch or tag can "
                               "move); 'hf upload' prints it, and the repo's commit history shows it")
    if not file.is_file():
        raise click.UsageError(f"--file {file}: no such file; give the local copy of what you uploaded")
    bundled_path = _bundled_path(file, target) if bundled or repo_id is None else None
    repo_name = filename or file.name
    if not repo_name.endswith(".safetensors"):
        raise click.UsageError(f"--file {file}: zoo loads .safetensors files only")
    refuse_unsafe(file)
    read_header(file)  # a truncated or hostile file fails here, not on a user's machine

    creating_user_registry()  # this command may be what creates the file ZOO_REGISTRY names
    catalogue = get_catalogue()
    known = _entry_in(target, name) if replace else None  # --force keeps what the replaced entry said
    if known is None or (architecture is not None and known.architecture != architecture):
        known = catalogue.registry.get(name) if name in catalogue.registry else None
    arch_name = architecture or (known.architecture if known else None)
    if arch_name is None:
        raise click.UsageError(f"--architecture: zoo knows no model {name!r} to copy it from; name the "
                               "architecture that loads FILE ('zoo plugins' lists them)")
    arch = catalogue.architectures.get(arch_name)
    task = arch.task if arch else (known.task if known and known.architecture == arch_name else None)
    if task is None:
        raise click.UsageError(f"--architecture {arch_name!r}: no installed plugin provides it; install the "
                               "plugin first so zoo knows its task")
    registered = catalogue.tasks.get(task)
    if registered is not None and not registered.loads_weights():
        raise click.UsageError(f"--architecture {arch_name!r} is a {task}: it takes no weights")
    config: dict[str, Any] = dict(known.config) if known and known.architecture == arch_name else {}
    config_file = file.parent / "config.json"
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text())
        except ValueError as exc:
            raise InputError(f"--file {file}: config.json beside it is not JSON: {exc}") from None
        if not isinstance(config, dict):
            raise InputError(f"--file {file}: config.json beside it is not a JSON object")

    if arch is not None:  # the entry must run: FILE loads strictly into the architecture with this config
        from .export_cmd import _check_loads

        _check_loads(arch_name, config, file)

    table: dict[str, Any] = {
        "architecture": arch_name, "task": task,
        "description": description or (known.description if known else f"{arch_name} weights from {repo_id}"),
    }
    plugin = arch.plugin if arch else (known.plugin if known else "")
    if plugin:
        table["plugin"] = plugin
    if license or (known and known.license):
        table["license"] = license or known.license  # type: ignore[union-attr]
    if known:
        for key in ("dataset", "recipe"):
            if getattr(known, key):
                table[key] = getattr(known, key)
        for key in ("classes", "tags"):
            if getattr(known, key):
                table[key] = list(getattr(known, key))
    if config:
        table["config"] = config
    weights: dict[str, Any] = {"filename": repo_name, "size": file.stat().st_size, "sha256": sha256_file(file)}
    if bundled_path is not None:
        weights["bundled"] = bundled_path
    if repo_id is not None:
        weights.update(repo_id=repo_id, revision=revision)
    table["weights"] = weights
    if known and known.metrics:
        table["metrics"] = {k: {"value": m.value, "how": m.how, **({"unit": m.unit} if m.unit else {})}
                            for k, m in known.metrics.items()}
    replaced = add_entry(target, name, table, replace=replace)
    w = table["weights"]
    where = f"{repo_id}@{revision[:12]} {repo_name}" if repo_id and revision else f"bundled {bundled_path}"
    click.echo(f"{'replaced' if replaced else 'added'} models.{name} in {target}: {where} "
               f"({w['size']} bytes, sha256 {w['sha256'][:12]}…)")
    env = os.environ.get("ZOO_REGISTRY", "")
    if not env or Path(env).expanduser().resolve() != target.resolve():
        click.echo(f"use it: ZOO_REGISTRY={target} zoo pull {name}")
