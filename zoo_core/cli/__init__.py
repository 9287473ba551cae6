"""The ``zoo`` command line. Commands are small; the work happens in the library."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from .._version import __version__
from ..errors import ZooError

__all__ = ["cli", "main"]

_CORE_COMMANDS = {
    "list": ("catalogue_cmds", "list_command"),
    "info": ("catalogue_cmds", "info_command"),
    "plugins": ("catalogue_cmds", "plugins_command"),
    "pull": ("weights_cmds", "pull_command"),
    "verify": ("weights_cmds", "verify_command"),
    "run": ("run_cmd", "run_command"),
    "train": ("verbs", "train_command"),
    "eval": ("verbs", "eval_command"),
    "new-plugin": ("scaffold_cmd", "new_plugin_command"),
    "export": ("export_cmd", "export_command"),
    "registry": ("registry_cmds", "registry_group"),
}


class ZooGroup(click.Group):
    """Core commands imported on use, plus the commands plugins register."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ..plugins import get_catalogue
        from .verbs import task_verbs

        return sorted(set(_CORE_COMMANDS) | set(task_verbs()) | set(get_catalogue().commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _CORE_COMMANDS:
            import importlib

            module_name, attr = _CORE_COMMANDS[name]
            return getattr(importlib.import_module(f"{__name__}.{module_name}"), attr)
        from ..plugins import get_catalogue
        from .verbs import task_verbs, verb_command

        if name in task_verbs():
            return verb_command(name)
        commands = get_catalogue().commands
        if name in commands:
            return commands[name]
        return None

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[no-untyped-def]
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "; run 'zoo --help' for the commands"
            raise click.UsageError(f"no such command {name!r}{hint}", ctx)
        found = super().resolve_command(ctx, args)
        _check_repeats(ctx, found[1], found[2])
        return found


def _check_repeats(ctx: click.Context, command: click.Command | None, args: list[str]) -> None:
    """Refuse a single-valued option given twice, in a command or a group's subcommand."""
    from .repeats import refuse_repeated_options

    if command is None:
        return
    refuse_repeated_options(command, args, ctx)
    if isinstance(command, click.Group) and args and not args[0].startswith("-"):
        refuse_repeated_options(command.get_command(ctx, args[0]) or command, args[1:], ctx)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="zoo", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="show tracebacks for errors")
def cli(debug: bool) -> None:
    """zoo: a model zoo for generative image models and causal inference.

    \b
    zoo list                 models, their weights and plugins
    zoo info NAME            one model's entry and run options
    zoo run NAME --help      what a model takes
    zoo plugins              installed plugins and their status
    """


def _plugin_commands_collide() -> None:
    """Plugin commands may not shadow core ones or a task's verbs; drop those that try, with a warning."""
    from ..plugins import get_catalogue, warn
    from .verbs import task_verbs

    catalogue = get_catalogue()
    verbs = task_verbs()
    for name in list(catalogue.commands):
        if name in _CORE_COMMANDS or name in verbs:
            owner = next((p for p in catalogue.plugins if name in p.commands), None)
            what = "a core command" if name in _CORE_COMMANDS else "a task's verb"
            warn(f"command {name!r} from {owner.label if owner else 'a plugin'} shadows {what}; "
                 "ignoring the plugin's")
            del catalogue.commands[name]
            if owner is not None:
                owner.commands.remove(name)
    for name, verb in verbs.items():
        if name in _CORE_COMMANDS:
            warn(f"verb {name!r} of a registered task shadows a core command; 'zoo {name}' stays the core's")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; ``ZooError`` and usage errors become one ``zoo: error:`` line."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args[: next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))]
    try:
        if next((a for a in args if not a.startswith("-")), None) == "registry":
            from ..plugins import creating_user_registry

            creating_user_registry()  # 'zoo registry add' creates the file ZOO_REGISTRY names
        if not any(a in ("--version",) for a in args[:1]):
            _plugin_commands_collide()
        result = cli.main(args=args, prog_name="zoo", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        if debug:
            traceback.print_exc()
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"zoo: error: {exc.format_message()}{where}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"zoo: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("zoo: aborted", err=True)
        return 130
    except ZooError as exc:
        if debug:
            traceback.print_exc()
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())  # one line, always
        click.echo(f"zoo: error: {message}", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        click.echo("zoo: interrupted", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug somewhere: say so briefly
        if debug:
            traceback.print_exc()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(f"zoo: error: unexpected {type(exc).__name__}: {message} (rerun with --debug for the traceback)",
                   err=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
