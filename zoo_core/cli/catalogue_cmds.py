"""``zoo list``, ``zoo info`` and ``zoo plugins``: read the catalogue, never import torch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..api import model_status
from ..registry import NON_COMMERCIAL_NOTE, non_commercial
from ..plugins import PluginInfo, get_catalogue
from ..task import merged_options
from .output import emit_json, human_size, table

__all__ = ["list_command", "info_command", "plugins_command"]


@click.command("list")
@click.argument("pattern", required=False)
@click.option("--task", help="only models of this task (see 'zoo plugins' for the registered tasks)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def list_command(pattern: str | None, task: str | None, as_json: bool) -> None:
    """List models; PATTERN is a glob (dcgan-*) or a substring of name or description."""
    catalogue = get_catalogue()
    if task is not None and task not in catalogue.tasks:
        raise click.UsageError(f"--task {task!r}: registered tasks are {', '.join(catalogue.tasks)}")
    entries = catalogue.registry.search(pattern, task)
    rows = [model_status(entry, catalogue) for entry in entries]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no models match" if (pattern or task) else "no models registered", err=True)
        return
    table(["NAME", "TASK", "WEIGHTS", "SIZE", "LICENSE", "PLUGIN", "DESCRIPTION"],
          [[r["name"], r["task"], r["weights"], human_size(r["size_bytes"]), r["license"] or "-", r["plugin"] or "-",
            r["description"]] for r in rows])
    missing = catalogue.missing_plugins(entries)
    if missing:
        click.echo(f"\nunavailable models need: pip install {' '.join(missing)}", err=True)
    broken = sorted({r["name"] for r in rows if not r["available"]} - {e.name for e in entries if e.plugin in missing})
    if broken:
        click.echo(f"unavailable here: {', '.join(broken)} ('zoo info NAME' says why)", err=True)


@click.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def info_command(name: str, as_json: bool) -> None:
    """Show a model's registry entry, weights state and run options."""
    catalogue = get_catalogue()
    entry = catalogue.entry(name)
    status = model_status(entry, catalogue)
    arch = catalogue.architectures.get(entry.architecture)
    task = catalogue.tasks.get(arch.task if arch else entry.task)
    options = [{"name": f"--{o.name}", "type": o.type, "default": o.default, "help": o.help,
                "choices": list(o.choices), "required": o.required, "multiple": o.multiple}
               for o in (merged_options(task, arch, entry) if task else [])]
    arguments: list[dict[str, Any]] = [{"name": a.name, "type": a.type, "help": a.help, "multiple": a.multiple}
                                       for a in (task.arguments if task else ())]
    example = _example_command(entry.name, arch.example) if arch and arch.example else None
    facts: dict[str, str] = {}
    if task is not None and task.extras.info is not None:  # the task's own facts, e.g. a causal model's graph
        from ..task import resolve

        facts = {str(k): str(v) for k, v in resolve(task.extras.info, what=f"task {task.name!r} info")(entry).items()}
    document = {**entry.to_dict(), "status": status, "run_arguments": arguments, "run_options": options,
                "example": example, "task_info": facts}
    if as_json:
        emit_json(document)
        return
    lines = [
        ("name", entry.name), ("task", entry.task), ("architecture", entry.architecture),
        ("plugin", status["plugin"] or "-"), ("description", entry.description),
        ("available", "yes" if status["available"] else f"no: {status['unavailable_reason']}"),
        ("weights", status["weights"]), ("license", entry.license or "-"), ("dataset", entry.dataset or "-"),
        ("source", entry.source),
    ]
    if entry.weights:
        w = entry.weights
        lines += [("file", f"{w.filename} ({human_size(w.size)}, {w.size} bytes)"), ("sha256", w.sha256)]
        if w.repo_id:
            lines.append(("hub", f"{w.repo_id} @ {w.revision}"))
        if w.bundled:
            lines.append(("bundled", str(w.bundled)))
    if entry.classes:
        lines.append(("classes", ", ".join(f"{i}={c}" for i, c in enumerate(entry.classes))))
    lines += list(facts.items())
    if entry.license and non_commercial(entry.license):
        lines.insert(lines.index(("license", entry.license)) + 1, ("note", NON_COMMERCIAL_NOTE))
    for key, value in lines:
        click.echo(f"{key + ':':14}{value}")
    if entry.config:
        click.echo("config:")
        for key, value in entry.config.items():
            click.echo(f"  {key} = {value!r}")
    if entry.metrics:
        click.echo("metrics:")
        for key, metric in entry.metrics.items():
            click.echo(f"  {key} = {metric.value:g}{' ' + metric.unit if metric.unit else ''}  ({metric.how})")
    if entry.recipe:
        click.echo(f"recipe:       {entry.recipe}")
    if example:
        click.echo(f"example:      {example}")
    usage = " ".join(a["name"].upper() + ("..." if a["multiple"] else "") for a in arguments)
    click.echo(f"run options (zoo run {entry.name}{' ' + usage if usage else ''} ...):")
    width = max([len(a["name"]) for a in arguments] + [len(o["name"]) for o in options] + [12]) + 2
    for argument in arguments:
        click.echo(f"  {argument['name'].upper():{width}}{argument['help']}")
    for option in options:
        default = "" if option["default"] in (None, False) else f" [default: {option['default']}]"
        click.echo(f"  {option['name']:{width}}{option['help']}{default}")


def _example_command(name: str, example: Mapping[str, Any]) -> str:
    """``zoo run NAME --opt value ...`` for an architecture's declared example, shell-quoted."""
    import shlex

    words = ["zoo", "run", name]
    for key, value in example.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            words.append(flag)
        elif value not in (False, None):
            words += [flag, str(value)]
    return shlex.join(words)


#: A plugin whose entry point takes longer than this to import and register is reported as slow.
SLOW_LOAD_SECONDS = 0.5


@click.command("plugins")
@click.argument("name", required=False)
@click.option("--check", is_flag=True,
              help="run the conformance checks that need no download (imports torch); exit 1 if any fails")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def plugins_command(name: str | None, check: bool, as_json: bool) -> None:
    """Show installed plugins (or plugin NAME), what they provide, and any that failed or load slowly."""
    catalogue = get_catalogue()
    plugins = catalogue.plugins
    if name is not None:
        plugins = [p for p in plugins if name in (p.name, p.distribution)]
        if not plugins:
            raise click.UsageError(f"no installed plugin is called {name!r}; 'zoo plugins' lists them")
    if check:
        _check_plugins(plugins, as_json)
        return
    # the models each plugin runs: those it registers, and registry entries built on its architectures
    runs = {p.distribution: list(dict.fromkeys(p.models + [e.name for e in catalogue.registry.search(None, None)
                                                            if e.architecture in p.architectures]))
            for p in plugins}
    if as_json:
        emit_json([{**p.to_dict(), "runs_models": runs[p.distribution], "slow": p.load_seconds > SLOW_LOAD_SECONDS}
                   for p in plugins])
        return
    if not plugins:
        click.echo("no plugins installed (entry-point group 'zoo'); see README.md to install or write one")
        return
    table(["PLUGIN", "DISTRIBUTION", "VERSION", "API", "STATUS", "LOAD", "HOOKS", "TASKS", "ARCHITECTURES",
           "COMMANDS", "MODELS"],
          [[p.name, p.distribution, p.version, str(p.api if p.api is not None else "-"), p.status,
            f"{p.load_seconds * 1000:.0f} ms", ",".join(h.removeprefix("register_") for h in p.hooks) or "-",
            ", ".join(p.tasks) or "-", ", ".join(p.architectures) or "-",
            ", ".join(f"zoo {c}" for c in p.commands) or "-", ", ".join(runs[p.distribution]) or "-"]
           for p in plugins])
    for p in plugins:
        if p.failed:
            click.echo(f"{p.name}: {p.status}: {p.error}")
        for problem in p.problems:
            click.echo(f"{p.name}: {p.status}: {problem}")
        if p.load_seconds > SLOW_LOAD_SECONDS:
            click.echo(f"{p.name}: slow to load: {p.load_seconds:.2f} s (over {SLOW_LOAD_SECONDS} s; a plugin "
                       "should register descriptors and import its model code on first use)")


def _check_plugins(plugins: list[PluginInfo], as_json: bool) -> None:
    """Run the conformance kit on each plugin: one line per failure, exit 1 if any."""
    from ..testing.conformance import check_plugin

    documents, failed = [], 0
    for info in plugins:
        report = check_plugin(info.distribution)
        failed += len(report.failures)
        documents.append({
            "distribution": info.distribution, "version": info.version, "ok": report.ok,
            "passed": len(report.passed),
            "failures": [{"subject": s, "check": c, "message": m} for s, c, m in report.failures],
            "notes": [{"subject": s, "check": c, "message": m} for s, c, m in report.notes],
        })
        if as_json:
            continue
        for line in report.lines():
            click.echo(line)
        for subject, check_name, message in report.notes:
            click.echo(f"note: {subject}: {check_name}: {message}", err=True)
        click.echo(f"{info.label}: {len(report.passed)} checks passed, {len(report.failures)} failed, "
                   f"{len(report.notes)} skipped", err=True)
    if as_json:
        emit_json(documents)
    if failed:
        raise click.exceptions.Exit(1)
