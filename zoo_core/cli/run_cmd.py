"""``zoo run NAME [INPUTS...] [options]``: a thin shell over ``zoo_core.run``.

Each model gets a click command built from the options its task and architecture declare
(``zoo run NAME --help`` lists exactly those) and the positional arguments its task takes.
The command parses, fills in the default output file its task names, calls the library and
prints the result: nothing a Python caller would need lives here.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from ..architectures import Architecture, Option
from ..registry import ModelEntry
from ..task import Argument, Task, merged_options
from .output import emit_json

__all__ = ["run_command", "model_command"]

_CLICK_TYPES = {"str": click.STRING, "int": click.INT, "float": click.FLOAT,
                "path": click.Path(path_type=Path), "data": click.Path(path_type=Path)}


def _click_option(option: Option) -> click.Option:
    flag = f"--{option.name}"
    if option.type == "bool":
        return click.Option([flag], is_flag=True, default=bool(option.default), help=option.help)
    kind = click.Choice(option.choices) if option.type == "choice" else _CLICK_TYPES[option.type]
    extra = {} if option.default is None else {"default": option.default, "show_default": True}
    # click 8.2+ treats an explicit default=None as a value and skips the required check
    return click.Option([flag], type=kind, required=option.required, multiple=option.multiple,
                        help=option.help, **extra)


def _click_argument(argument: Argument) -> click.Argument:
    kind = _CLICK_TYPES.get(argument.type, click.STRING)
    return click.Argument([argument.name], type=kind, nargs=-1 if argument.multiple else 1,
                          required=False)


class _ModelCommand(click.Command):
    """A command whose unknown-option error lists the options the model does take."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from .repeats import refuse_repeated_options

        refuse_repeated_options(self, args, ctx)  # click would keep only the last
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            taken = ", ".join(o.opts[0] for o in self.params if isinstance(o, click.Option) and o.opts[0] != "--help")
            raise click.UsageError(f"{ctx.info_name} takes no option {exc.option_name}; it takes: {taken}",
                                   ctx) from None


def _print(result: Any) -> None:
    for line in result.lines:
        click.echo(line)


def _run(entry: ModelEntry, arch: Architecture, task: Task, values: dict[str, Any]) -> None:
    from ..running import execute, prepare

    as_json = bool(values.pop("json", False))
    positional = [v for a in task.arguments for v in
                  (values.pop(a.name, ()) if a.multiple else [values.pop(a.name, None)]) if v is not None]
    given = {k: v for k, v in values.items() if v not in (None, ())}
    if task.default_outputs is not None:
        given.update(task.default_outputs(entry.name, {**given, "inputs": positional}))
    if task.loads_weights():  # the command runs torch: its threads are decided once, now (zoo_core.threads)
        from ..threads import use_threads

        use_threads(given.get("threads"), torch_now=True)
    # with --json, whatever the model's own code prints goes to stderr: stdout is one JSON document
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with quiet:
        context = prepare((entry, arch, task), positional, given, progress=None)
        result = execute(context)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print(result)
    failure = result.failure_message()
    if failure is not None:  # the rest was done and reported; the exit code says something was not
        from ..errors import InputError

        raise InputError(failure)


def model_command(entry: ModelEntry, arch: Architecture, task: Task) -> click.Command:
    """The click command that ``zoo run NAME`` runs for ``entry``."""
    params: list[click.Parameter] = [_click_argument(a) for a in task.arguments]
    params += [_click_option(o) for o in merged_options(task, arch, entry)]

    def callback(**values: Any) -> None:
        from click.core import ParameterSource

        context = click.get_current_context()
        typed = {k: v for k, v in values.items()  # only what the user typed: defaults are the library's
                 if context.get_parameter_source(k) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
                 or k in {a.name for a in task.arguments} or k == "json"}
        _run(entry, arch, task, typed)

    # click adds the positional arguments to the usage line itself ("[INPUTS]...")
    return _ModelCommand(f"zoo run {entry.name}", params=params, callback=callback, options_metavar="[OPTIONS]",
                         help=f"{entry.description}\n\nTask: {task.name}; architecture: {arch.name} ({arch.plugin}).")


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               add_help_option=False)
@click.argument("name", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx: click.Context, name: str | None, args: tuple[str, ...]) -> None:
    """Run a model: zoo run NAME [OPTIONS]; 'zoo run NAME --help' lists NAME's options."""
    from ..running import resolve_model

    if name is None:
        raise click.UsageError("missing model NAME; 'zoo list' lists the models", ctx)
    if name in ("--help", "-h"):
        click.echo("Usage: zoo run NAME [OPTIONS] [INPUTS]...\n\n  Run a model. 'zoo run NAME --help' lists the "
                   "options NAME takes; 'zoo list' lists the models.")
        return
    entry, arch, task = resolve_model(name)
    model_command(entry, arch, task).main(args=list(args), prog_name=f"zoo run {name}", standalone_mode=False)
