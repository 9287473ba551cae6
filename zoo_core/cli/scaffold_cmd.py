"""``zoo new-plugin NAME``: write a complete plugin distribution, ready for ``pip install -e``."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["new_plugin_command"]

_KINDS = ("generator", "encoder", "autoencoder", "causal-analyzer")  # zoo_core.scaffold.KINDS, without importing it


@click.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(_KINDS), default="generator", show_default=True,
              help="the task of the plugin's first architecture")
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="folder to write the plugin into (default: ./zoo-NAME); must be new or empty")
def new_plugin_command(name: str, kind: str, directory: Path | None) -> None:
    """Write plugin zoo-NAME: pyproject, hooks, a small working model, its registry entry, tests, README."""
    from ..scaffold import write_plugin

    s, target = write_plugin(name, kind, directory)
    click.echo(f"wrote {s.dist} to {target}")
    click.echo(f"  architecture {s.arch} ({s.kind}), model {s.model}")
    click.echo("next:")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  zoo list {s.name}")
    click.echo(f"  python -m pytest -q {target / 'tests'}")
