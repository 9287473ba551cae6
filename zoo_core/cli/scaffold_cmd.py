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
@click.option("--new-task", "new_task", metavar="TASK",
              help="register a new task TASK (e.g. image-tint): its interface, runner, checks and a model of it")
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="folder to write the plugin into (default: ./zoo-NAME); must be new or empty")
def new_plugin_command(name: str, kind: str, directory: Path | None, new_task: str | None) -> None:
    """Write plugin zoo-NAME: pyproject, hooks, a small working model, its registry entry, tests, README."""
    from ..scaffold import kinds, write_plugin

    context = click.get_current_context()
    if new_task is not None and context.get_parameter_source("kind") != click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--kind scaffolds a model of a registered task and --new-task a new task; pass one")
    if new_task is None and kind not in kinds():
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(kinds())}", param_hint="'--kind'")
    s, target = write_plugin(name, kind, directory, new_task=new_task)
    click.echo(f"wrote {s.dist} to {target}")
    if new_task is not None:
        click.echo(f"  task {s.kind} (zoo_core.Task in {s.package}/__init__.py, runner and checks in "
                   f"{s.package}/task.py)")
    click.echo(f"  architecture {s.arch} ({s.kind}), model {s.model}")
    click.echo("next:")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  zoo list {s.name}")
    click.echo(f"  python -m pytest -q {target / 'tests'}")
