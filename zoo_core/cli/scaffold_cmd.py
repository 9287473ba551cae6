"""``zoo new-plugin NAME``: write a complete plugin distribution, ready for ``pip install -e``."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["new_plugin_command"]

@click.command("new-plugin")
@click.argument("name")
@click.option("--kind", default="generator", show_default=True,
              help="the task of the plugin's first architecture: generator, encoder, autoencoder, image-to-image, "
                   "causal-analyzer, or any registered task that ships a scaffold")
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="folder to write the plugin into (default: ./zoo-NAME); must be new or empty")
def new_plugin_command(name: str, kind: str, directory: Path | None) -> None:
    """Write plugin zoo-NAME: pyproject, hooks, a small working model, its registry entry, tests, README."""
    from ..scaffold import kinds, write_plugin

    if kind not in kinds():
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(kinds())}", param_hint="'--kind'")
    s, target = write_plugin(name, kind, directory)
    click.echo(f"wrote {s.dist} to {target}")
    click.echo(f"  architecture {s.arch} ({s.kind}), model {s.model}")
    click.echo("next:")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  zoo list {s.name}")
    click.echo(f"  python -m pytest -q {target / 'tests'}")
