"""``zoo pull`` and ``zoo verify``: fetch weights into the HF cache and re-hash them."""

from __future__ import annotations

from pathlib import Path

import click

from .. import hub
from ..errors import IntegrityError, ZooError
from ..integrity import check_file
from ..plugins import get_catalogue
from ..registry import ModelEntry
from ..weights import resolve_weights
from .output import emit_json

__all__ = ["pull_command", "verify_command"]


def _entries(names: tuple[str, ...], every: bool) -> list[ModelEntry]:
    registry = get_catalogue().registry
    if every:
        return [e for e in registry if e.weights is not None]
    if not names:
        raise click.UsageError("name at least one model, or use --all")
    return [registry.get(name) for name in names]


@click.command("pull")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every registry entry that has weights")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def pull_command(names: tuple[str, ...], every: bool, as_json: bool) -> None:
    """Download (and verify) models' weights into the Hugging Face cache."""
    results, failed = [], 0
    for entry in _entries(names, every):
        row = {"name": entry.name, "status": "ok", "origin": None, "path": None, "error": None}
        try:
            resolved = resolve_weights(entry)
            if resolved is None:
                row["status"] = "no weights"
            else:
                row["origin"], row["path"] = resolved.origin, str(resolved.path)
        except ZooError as exc:
            row["status"], row["error"] = "failed", str(exc)
            failed += 1
        results.append(row)
        if not as_json:
            if row["error"]:
                click.echo(f"zoo: error: {row['error']}", err=True)
            else:
                where = {"download": "downloaded", "cache": "already cached", "bundled": "bundled"}.get(
                    row["origin"] or "", row["status"])
                click.echo(f"{entry.name}: {where}" + (f" ({row['path']})" if row["path"] else ""))
    if as_json:
        emit_json(results)
    if failed:
        raise SystemExit(1)


def _check_location(entry: ModelEntry, kind: str, path: Path) -> dict[str, str]:
    w = entry.weights
    assert w is not None
    try:
        check_file(path, size=w.size, sha256=w.sha256, what=f"{kind} weights of {entry.name}", rehash=True)
    except IntegrityError as exc:
        if kind == "cached":
            hub.remove_cached(path)
            return {"location": kind, "path": str(path), "status": "mismatch", "error": f"{exc}; deleted"}
        return {"location": kind, "path": str(path), "status": "mismatch", "error": str(exc)}
    return {"location": kind, "path": str(path), "status": "ok", "error": ""}


@click.command("verify")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def verify_command(names: tuple[str, ...], as_json: bool) -> None:
    """Re-hash the bundled and cached weights of models (all by default); bad cached files are deleted."""
    registry = get_catalogue().registry
    entries = [registry.get(n) for n in names] if names else [e for e in registry if e.weights]
    results, bad = [], 0
    for entry in entries:
        w = entry.weights
        checks = []
        if w is not None:
            if w.bundled is not None and w.bundled.is_file():
                checks.append(_check_location(entry, "bundled", w.bundled))
            cached = hub.cached_path(w.repo_id, w.revision, w.filename) if w.repo_id and w.revision else None
            if cached is not None:
                checks.append(_check_location(entry, "cached", cached))
        bad += sum(c["status"] != "ok" for c in checks)
        results.append({"name": entry.name, "checks": checks})
        if not as_json:
            if w is None:
                click.echo(f"{entry.name}: no weights to verify")
            elif not checks:
                click.echo(f"{entry.name}: not downloaded (zoo pull {entry.name})")
            for check in checks:
                if check["status"] == "ok" and w is not None:
                    click.echo(f"{entry.name}: {check['location']} ok (sha256 {w.sha256[:12]}…)")
                else:
                    click.echo(f"zoo: error: {check['error']}", err=True)
    if as_json:
        emit_json(results)
    if bad:
        raise SystemExit(1)
