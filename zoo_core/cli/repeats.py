"""An option that takes one value, given twice, is refused: click would silently keep the last.

``zoo run causal-pendulum --do a=1 --do b=2`` once dropped the first ``--do`` and exited 0.
Options declared ``multiple`` merge their values (the task reads them all); flags given twice
mean the same as once; any other option given more than once is a usage error naming it and
the values given.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

__all__ = ["refuse_repeated_options"]


def _single_valued(command: click.Command) -> dict[str, click.Option]:
    options: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.multiple and not param.is_flag and not param.count:
            for opt in param.opts:
                options[opt] = param
    return options


def refuse_repeated_options(command: click.Command, args: Sequence[str], ctx: click.Context | None = None) -> None:
    """A ``click.UsageError`` if ``args`` give one of ``command``'s single-valued options twice."""
    single = _single_valued(command)
    if not single:
        return
    given: dict[str, list[str]] = {}
    flag_of: dict[str, str] = {}
    tokens = list(args)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            break
        name, equals, value = token.partition("=")
        if token.startswith("--") and equals and name in single:
            param = single[name]
        elif token in single:
            param, name = single[token], token
            value = tokens[i + 1] if i + 1 < len(tokens) else ""
            i += 1
        else:
            i += 1
            continue
        key = param.name or name
        given.setdefault(key, []).append(value)
        flag_of.setdefault(key, name)
        i += 1
    for key, values in given.items():
        if len(values) > 1:
            shown = ", ".join(repr(v) for v in values)
            raise click.UsageError(f"{flag_of[key]} given {len(values)} times ({shown}); it takes one value: "
                                   "give it once", ctx)
