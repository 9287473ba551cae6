"""``zoo train``, ``zoo eval`` and the verbs tasks declare: shared verbs that dispatch to a plugin.

Plugins do not add their own ``train`` commands (they would collide); an architecture
names a click command as ``Architecture(train="pkg.module:command")`` and the core runs it
with the remaining arguments. A task may declare more verbs (``Task(verbs=(Verb("data"),))``);
``zoo data NAME ...`` then runs the command the architecture names in
``Architecture(verbs={"data": "pkg.module:command"})``. The command line as typed is in
``click_context.obj["zoo_argv"]`` (for recording the recipe in a model card).
"""

from __future__ import annotations

from typing import Any

import click

from ..architectures import import_object
from ..errors import InputError, PluginError
from ..plugins import get_catalogue

__all__ = ["train_command", "eval_command", "task_verbs", "verb_command"]

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def _plugin_command(target: str, what: str) -> click.Command:
    command = import_object(target, what=what)
    if not isinstance(command, click.Command):
        raise PluginError(f"{what}: {target} is not a click command")
    return command


def _with_threads(args: tuple[str, ...]) -> tuple[str, ...]:
    """Decide the threads of a command that runs torch (``--threads N``, else ``ZOO_THREADS``,
    else one per core not busy) and hand the rest of its arguments on."""
    from ..threads import take_threads_option, use_threads

    threads, rest = take_threads_option(list(args))
    if "--help" not in rest and "-h" not in rest:
        use_threads(threads, torch_now=True)
    return tuple(rest)


@click.command("train", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("architecture", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train_command(architecture: str | None, args: tuple[str, ...]) -> None:
    """Train an architecture: zoo train ARCH [OPTIONS]; 'zoo train ARCH --help' for its options."""
    catalogue = get_catalogue()
    trainable = sorted(name for name, a in catalogue.architectures.items() if a.train)
    if architecture is None or architecture in ("--help", "-h"):
        click.echo("Usage: zoo train ARCHITECTURE [OPTIONS]\n\n  Trainable architectures: "
                   + (", ".join(trainable) or "none (install a plugin that provides one)"))
        return
    arch = catalogue.architecture(architecture)
    if not arch.train:
        raise InputError(f"architecture {architecture!r} ({arch.plugin}) cannot be trained with zoo train; "
                         f"trainable: {', '.join(trainable) or 'none'}")
    command = _plugin_command(arch.train, f"zoo train {architecture}")
    args = _with_threads(args)
    command.main(args=list(args), prog_name=f"zoo train {architecture}", standalone_mode=False,
                 obj={"zoo_argv": ["zoo", "train", architecture, *args], "zoo_architecture": (arch.name, arch.task)})


@click.command("eval", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("name", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def eval_command(name: str | None, args: tuple[str, ...]) -> None:
    """Evaluate a model and reproduce its registry metrics: zoo eval NAME [OPTIONS]."""
    from ..api import get_entry, runnable_architecture

    if name is None or name in ("--help", "-h"):
        click.echo("Usage: zoo eval NAME [OPTIONS]\n\n  Recompute a model's metrics; "
                   "'zoo eval NAME --help' lists the options its plugin takes.")
        return
    entry = get_entry(name)
    arch = runnable_architecture(entry)
    if not arch.evaluate:
        raise InputError(f"{name}: architecture {arch.name!r} ({arch.plugin}) provides no evaluation")
    command = _plugin_command(arch.evaluate, f"zoo eval {name}")
    args = _with_threads(args)
    command.main(args=[name, *args], prog_name=f"zoo eval {name}", standalone_mode=False,
                 obj={"zoo_argv": ["zoo", "eval", name, *args]})


def task_verbs() -> dict[str, Any]:
    """Every verb the registered tasks declare, by name (the first task to declare a name wins)."""
    verbs: dict[str, Any] = {}
    for task in get_catalogue().tasks.values():
        for verb in task.verbs:
            verbs.setdefault(verb.name, verb)
    return verbs


def _verb_kind(name: str, architecture: Any, catalogue: Any) -> str:
    """How ``zoo NAME TARGET`` names an architecture that provides verb ``name``: by one of its
    models or by the architecture itself, as the architecture's own task declares the verb
    (two tasks may declare the same verb differently)."""
    task = catalogue.tasks.get(architecture.task)
    for verb in getattr(task, "verbs", ()):
        if verb.name == name:
            return str(verb.by)
    return str(task_verbs()[name].by)


def verb_command(name: str) -> click.Command:
    """The dispatcher for ``zoo NAME MODEL|ARCHITECTURE [OPTIONS]``, a verb some task declares."""
    verb = task_verbs()[name]

    @click.command(name, context_settings=_PASS_THROUGH, add_help_option=False, help=verb.help)
    @click.argument("target", required=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(target: str | None, args: tuple[str, ...]) -> None:
        from ..api import get_entry, runnable_architecture

        catalogue = get_catalogue()
        kinds = {a.name: _verb_kind(name, a, catalogue) for a in catalogue.architectures.values() if name in a.verbs}
        by_model = [e.name for e in catalogue.registry.search(None, None) if kinds.get(e.architecture) == "model"]
        by_architecture = sorted(a for a, kind in kinds.items() if kind == "architecture")
        providers = by_model + by_architecture
        if target is None or target in ("--help", "-h"):
            what = " | ".join(w for w, names in (("MODEL", by_model), ("ARCHITECTURE", by_architecture)) if names)
            click.echo(f"Usage: zoo {name} {what or 'NAME'} [OPTIONS]\n\n  {verb.help}\n\n  Models and "
                       f"architectures that provide it: {', '.join(providers) or 'none installed'}")
            return
        if target in by_architecture:
            arch, what = catalogue.architecture(target), "architecture"
        elif target in catalogue.architectures and target not in by_model:
            arch, what = catalogue.architecture(target), "architecture"
        else:
            arch, what = runnable_architecture(get_entry(target)), "model"
        if kinds.get(arch.name) != what:
            raise InputError(f"{what} {target!r} ({arch.plugin}) provides no 'zoo {name}'; "
                             f"those that do: {', '.join(providers) or 'none installed'}")
        plugin_command = _plugin_command(arch.verbs[name], f"zoo {name} {target}")
        args = _with_threads(args)
        passed = [target, *args] if what == "model" else list(args)
        plugin_command.main(args=passed, prog_name=f"zoo {name} {target}", standalone_mode=False,
                            obj={"zoo_argv": ["zoo", name, target, *args]})

    return command
