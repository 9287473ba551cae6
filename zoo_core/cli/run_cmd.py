"""``zoo run NAME [options]``: each model gets a click command built from its own options."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..api import get_entry, runnable_architecture
from ..architectures import Architecture, Option
from ..errors import InputError
from ..registry import ModelEntry
from ..run_options import options_for
from .output import emit_json

__all__ = ["run_command"]

_CLICK_TYPES = {"str": click.STRING, "int": click.INT, "float": click.FLOAT,
                "path": click.Path(path_type=Path)}


def _click_option(option: Option) -> click.Option:
    flag = f"--{option.name}"
    if option.type == "bool":
        return click.Option([flag], is_flag=True, default=bool(option.default), help=option.help)
    kind = click.Choice(option.choices) if option.type == "choice" else _CLICK_TYPES[option.type]
    extra = {} if option.default is None else {"default": option.default, "show_default": True}
    # click 8.2+ treats an explicit default=None as a value and skips the required check
    return click.Option([flag], type=kind, required=option.required, multiple=option.multiple,
                        help=option.help, **extra)


class _ModelCommand(click.Command):
    """A command whose unknown-option error lists the options the model does take."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            taken = ", ".join(o.opts[0] for o in self.params if isinstance(o, click.Option) and o.opts[0] != "--help")
            raise click.UsageError(f"{ctx.info_name} takes no option {exc.option_name}; it takes: {taken}",
                                   ctx) from None


def _run_metadata(entry: ModelEntry, model: Any, seed: int | None) -> dict[str, str]:
    resolved = getattr(model, "zoo_weights", None)
    meta = {"model": entry.name, "architecture": entry.architecture}
    if resolved is not None:
        meta["sha256"] = resolved.sha256
        meta["revision"] = resolved.revision or ""
        meta["weights"] = resolved.origin if resolved.origin != "explicit" else str(resolved.path)
    if seed is not None:
        meta["seed"] = str(seed)
    return meta


def _parse_label(value: str | None, entry: ModelEntry, num_classes: int) -> int | None:
    if value is None:
        return None
    if re.fullmatch(r"-?[0-9]+", value):
        index = int(value)
    else:
        lowered = [c.lower() for c in entry.classes]
        if value.lower() not in lowered:
            names = ", ".join(f"{i}={c}" for i, c in enumerate(entry.classes)) or f"0..{num_classes - 1}"
            raise InputError(f"--label {value!r}: unknown class; use one of {names}")
        index = lowered.index(value.lower())
    if not 0 <= index < num_classes:
        raise InputError(f"--label {value}: must be in 0..{num_classes - 1}")
    return index


def _generate(entry: ModelEntry, arch: Architecture, params: dict[str, Any], extra: dict[str, Any]) -> dict:
    from ..api import load
    from ..images import make_grid, save_png, save_pngs

    num, seed = params["num"], params["seed"]
    if num <= 0:
        raise InputError(f"--num must be positive, got {num}")
    if params.get("batch_size") is not None and params["batch_size"] <= 0:
        raise InputError(f"--batch-size must be positive, got {params['batch_size']}")
    to_seed, frames = params.get("interpolate"), params.get("frames", 8)
    if to_seed is not None and frames < 2:
        raise InputError(f"--frames must be at least 2, got {frames}")
    if to_seed is None and frames != 8:
        raise InputError("--frames only applies with --interpolate SEED2")
    model = load(entry.name, device=params["device"], dtype=params["dtype"], weights=params["weights"])
    label = _parse_label(params.get("label"), entry, model.num_classes) if arch.conditional else None
    meta = _run_metadata(entry, model, seed)
    if label is not None:
        meta["label"] = str(label)
    if to_seed is not None:
        meta["interpolate"] = f"{seed}->{to_seed}, {frames} frames"
        images = model.interpolate(seed, to_seed, frames, labels=label)
        num = frames
    else:
        images = model.sample(num, seed=seed, labels=label, batch_size=params["batch_size"], **extra)
    result: dict[str, Any] = {"num": num, "image_shape": list(images.shape[1:])}
    if to_seed is not None:
        result["interpolate"] = {"from_seed": seed, "to_seed": to_seed, "frames": frames}
    if label is not None:
        result["label"] = label
        if entry.classes:
            result["class"] = entry.classes[label]
    if params["out_dir"] is not None:
        result["images"] = [str(p) for p in save_pngs(images, params["out_dir"], meta)]
    if params["out"] is not None or params["out_dir"] is None:
        out = params["out"] or Path(f"{entry.name}.png")
        columns = len(images) if to_seed is not None else None  # an interpolation is one strip
        result["grid"] = str(save_png(make_grid(images, columns=columns), out, meta))
    return result, model


def _psnr(a: Any, b: Any) -> float:
    import math

    mse = float((((a.float() - b.float()) / 2) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def _reconstruct(entry: ModelEntry, params: dict[str, Any], extra: dict[str, Any]) -> dict:
    import torch

    from ..api import load
    from ..images import image_files, make_grid, read_image, save_png, save_pngs

    files = image_files(params["input"])
    stems = [f.stem for f in files]
    if params["out_dir"] is not None and len(set(stems)) != len(stems):
        raise InputError("--input: two images share a base name; --out-dir names outputs after inputs")
    model = load(entry.name, device=params["device"], dtype=params["dtype"], weights=params["weights"])
    meta = _run_metadata(entry, model, None)
    originals, outputs, psnr = [], [], {}
    for path in files:
        image = read_image(path, model.input_channels)
        try:
            model.check_images(image)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        output = model.reconstruct(image.to(model.device, model.dtype), **extra).float().cpu()
        originals.append(image)
        outputs.append(output)
        psnr[str(path)] = round(_psnr(image, output), 3)
    result: dict[str, Any] = {"psnr_db": psnr, "mean_psnr_db": round(sum(psnr.values()) / len(psnr), 3)}
    if params["out_dir"] is not None:
        result["outputs"] = [str(save_pngs(o, params["out_dir"], meta, names=[s])[0]) for o, s in zip(outputs, stems)]
    if params["out"] is not None or params["out_dir"] is None:
        if len({o.shape for o in outputs}) != 1:
            raise InputError("--out: the inputs differ in size, so they cannot share one grid; use --out-dir")
        pairs = torch.cat([torch.cat([o, r]) for o, r in zip(originals, outputs)])
        out = params["out"] or Path(f"{entry.name}-reconstruction.png")
        result["grid"] = str(save_png(make_grid(pairs, columns=2 * min(4, len(files))), out, meta))
    return result, model


def _encode(entry: ModelEntry, params: dict[str, Any], extra: dict[str, Any]) -> dict:
    import torch

    from ..api import load
    from ..images import image_files, read_image
    from ..writing import save_tensors

    files = image_files(params["input"])
    out = params["out"] or Path(f"{entry.name}-latents.safetensors")
    if not out.name.endswith(".safetensors"):  # before loading and encoding anything
        raise InputError(f"--out {out}: latents are saved as .safetensors; name the file accordingly")
    model = load(entry.name, device=params["device"], dtype=params["dtype"], weights=params["weights"])
    images = [read_image(f, model.input_channels) for f in files]
    if len({i.shape for i in images}) != 1:
        raise InputError("--input: images differ in size; encode them in separate runs")
    batch = torch.cat(images).to(model.device, model.dtype)
    model.check_images(batch)
    with torch.inference_mode():
        latents = model.encode(batch, **extra).float().cpu()
    save_tensors({"latents": latents}, out, {"inputs": "\n".join(map(str, files)), **_run_metadata(entry, model, None)})
    return {"latents": str(out), "latent_shape": list(latents.shape)}, model


def _run_model(entry: ModelEntry, arch: Architecture, params: dict[str, Any]) -> None:
    core = {o.name for o in options_for(entry.task, replace(arch, options=()))}
    own = {o.name.replace("-", "_") for o in arch.options if o.name not in core}  # the core's win a name clash
    extra = {k: v for k, v in params.items() if k in own}
    as_json = params.pop("json", False)
    # with --json, whatever the model's own code prints goes to stderr: stdout is one JSON document
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    started = time.perf_counter()
    if entry.task == "causal-analyzer":
        from ..api import load

        with quiet:
            analyzer = load(entry.name)
            answer = analyzer.analyze(**extra)
        run = {"model": entry.name, "seconds": round(time.perf_counter() - started, 4)}
        if as_json:
            emit_json({**answer.data, "run": run})
        else:
            click.echo(answer.text or "\n".join(f"{k}: {v}" for k, v in answer.data.items()))
        return
    sampling = entry.task != "encoder" and not (entry.task == "autoencoder" and params.get("input"))
    with quiet:
        if entry.task == "encoder":
            result, model = _encode(entry, params, extra)
        elif not sampling:
            result, model = _reconstruct(entry, params, extra)
        else:
            result, model = _generate(entry, arch, params, extra)
    seed = params.get("seed") if sampling else None  # reconstruction and encoding draw no noise
    run = {**_run_metadata(entry, model, seed), "device": str(model.device),
           "dtype": str(model.dtype).replace("torch.", ""), "seconds": round(time.perf_counter() - started, 4)}
    if "seed" in run:
        run["seed"] = int(run["seed"])
    if as_json:
        emit_json({**result, "run": run})
        return
    for key in ("grid", "latents"):
        if key in result:
            click.echo(f"wrote {result[key]}")
    if "images" in result or "outputs" in result:
        written = result.get("images") or result.get("outputs")
        click.echo(f"wrote {len(written)} PNGs to {params['out_dir']}")
    if "mean_psnr_db" in result:
        click.echo(f"PSNR {result['mean_psnr_db']:.2f} dB (mean over {len(result['psnr_db'])} images)")


def model_command(entry: ModelEntry, arch: Architecture) -> click.Command:
    """The click command that ``zoo run NAME`` runs for ``entry``."""
    params = [_click_option(o) for o in options_for(entry.task, arch)]

    def callback(**values: Any) -> None:
        _run_model(entry, arch, values)

    return _ModelCommand(f"zoo run {entry.name}", params=params, callback=callback,
                         help=f"{entry.description}\n\nTask: {entry.task}; architecture: {arch.name} ({arch.plugin}).")


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               add_help_option=False)
@click.argument("name", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx: click.Context, name: str | None, args: tuple[str, ...]) -> None:
    """Run a model: zoo run NAME [OPTIONS]; 'zoo run NAME --help' lists NAME's options."""
    if name is None:
        raise click.UsageError("missing model NAME; 'zoo list' lists the models", ctx)
    if name in ("--help", "-h"):
        click.echo("Usage: zoo run NAME [OPTIONS]\n\n  Run a model. 'zoo run NAME --help' lists the "
                   "options NAME takes; 'zoo list' lists the models.")
        return
    entry = get_entry(name)
    arch = runnable_architecture(entry)
    model_command(entry, arch).main(args=list(args), prog_name=f"zoo run {name}", standalone_mode=False)
