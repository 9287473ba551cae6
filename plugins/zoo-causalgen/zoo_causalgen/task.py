"""The ``causal-generator`` task: what ``zoo run`` does with a causal generator.

Three things, chosen by what is given:

- ``zoo run NAME --graph``: the SCM's graph in the do-calculus plugin's syntax (no model load);
- ``zoo run NAME --do "x=v" --given "y=w" --num N --seed S --out grid.png``: images from
  P(images | do(x=v), y=w) (either or both of --do and --given, or neither);
- ``zoo run NAME a.png b.png --do "x=v" --out-dir D``: the counterfactual of each image under
  do(x=v), written under the input's base name.

``--json`` prints ``samples``: one object per image with ``file``, ``factors``, ``source``
("do", "given", "sampled" or "abducted" per factor) and ``noise`` (the exogenous values:
sampled, or abducted from the input image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import zoo_core
from zoo_core import InputError

from .scm import parse_assignments

__all__ = ["run", "checks", "graph_of", "info"]

def graph_of(entry: Any) -> str:
    """The SCM's graph from the entry's config, without loading the model (or torch)."""
    from .scenes import scene_scm

    config = dict(entry.config or {})
    if "attributes" in config:  # a deep SCM learned from data: its graph is in its config
        from .user_graph import config_graph_text

        return config_graph_text(config)
    return scene_scm(config.get("scene", "pendulum"), float(config.get("sigma", 1.0))).graph()


def info(entry: Any) -> dict[str, str]:
    """What ``zoo info`` adds for a causal generator: its causal graph (torch-free)."""
    return {"graph": graph_of(entry)}


def run(context: Any) -> zoo_core.RunResult:
    options, given_options = context.options, context.given
    inputs = tuple(context.arguments.get("inputs") or ())
    if options["graph"]:
        extra = sorted(given_options - {"graph", "json"})
        if extra or inputs:
            raise InputError("--graph prints the model's graph and takes no other option or input")
        text = graph_of(context.entry)
        return zoo_core.RunResult(data={"graph": text}, lines=[text], value=text)
    do = parse_assignments(options.get("do"), "--do")
    given = parse_assignments(options.get("given"), "--given")
    if inputs:
        return _counterfactual_run(context, inputs, do, given)
    return _generate_run(context, do, given)


def _metadata(context: Any, seed: int | None, do: Mapping[str, float], given: Mapping[str, float]) -> dict[str, str]:
    """What made an image: the model's provenance and the query (empty do/given when none, so that
    ``--skip-existing`` never keeps an image drawn under another query)."""
    meta = context.provenance(seed)
    meta["do"] = ", ".join(f"{k}={v:g}" for k, v in do.items())
    meta["given"] = ", ".join(f"{k}={v:g}" for k, v in given.items())
    return meta


#: The metadata a kept file (``--skip-existing``) must share with the run that continues it.
_SAME_RUN = ("model", "sha256", "seed", "do", "given")


def _generate_run(context: Any, do: dict[str, float], given: dict[str, float]) -> zoo_core.RunResult:
    from zoo_core.images import make_grid

    options = context.options
    num, seed = options["num"], options["seed"]
    if num <= 0:
        raise InputError(f"--num must be positive, got {num}")
    if seed < 0:
        raise InputError(f"--seed {seed}: must be 0 or more")
    plan = context.plan_outputs(count=num)
    out = plan.out
    model = context.load()
    from .plan import check_generation

    check_generation(tuple(model.image_shape), num, grid=out is not None)  # before anything is drawn
    meta = _metadata(context, seed, do, given)
    plan.check_kept(meta, keys=_SAME_RUN)
    samples = model.generate(num, seed, do=do, given=given)
    rows = samples.rows()
    files: list[Path] = []
    data: dict[str, Any] = {"samples": rows}
    if plan.folder is not None:
        written = plan.write_batches(((i, samples.images[i:i + 64]) for i in range(0, num, 64)),
                                     metadata=lambda index, path: dict(meta, index=str(index)))
        written.describe(data, plan.out_dir, "images")
        files += written.listed
        for index in range(num):
            rows[index]["file"] = str(plan.folder.directory / plan.folder.names[index])
    if out is not None:
        files.append(plan.save_image(make_grid(samples.images), out, meta))
    if out is not None:
        data["grid"] = str(out)
    what = _describe(do, given)
    lines = [f"{num} images from {context.entry.name}{what}" +
             (f": {', '.join(str(f) for f in files[:1])}{' ...' if len(files) > 1 else ''}" if files else "")]
    return zoo_core.RunResult(data=data, lines=lines, files=files, value=samples, seed=seed)


def _describe(do: Mapping[str, float], given: Mapping[str, float]) -> str:
    parts = []
    if do:
        parts.append("do(" + ", ".join(f"{k}={v:g}" for k, v in do.items()) + ")")
    if given:
        parts.append("given " + ", ".join(f"{k}={v:g}" for k, v in given.items()))
    return " under " + " and ".join(parts) if parts else ""


def _counterfactual_run(context: Any, inputs: tuple[Path, ...], do: dict[str, float],
                        given: dict[str, float]) -> zoo_core.RunResult:
    import torch

    from zoo_core.images import image_files, read_image

    options, given_options = context.options, context.given
    if given:
        raise InputError("--given: a counterfactual conditions on the input image itself; use --do only")
    if not do:
        raise InputError("--do: a counterfactual needs an intervention, e.g. --do 'light_angle=1.2'")
    for name in ("num", "seed"):
        if name in given_options:
            raise InputError(f"--{name}: a counterfactual draws nothing at random; it takes one output per input")
    files = image_files([Path(p) for p in inputs])
    if options.get("out") is None and options.get("out_dir") is None:
        raise InputError(f"say where to write: --out-dir DIR (one counterfactual per input, same base name), "
                         f"e.g. zoo run {context.entry.name} photo.png --do 'light_angle=1.2' --out-dir out")
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        twice = sorted({s for s in stems if stems.count(s) > 1})[0]
        raise InputError(f"two inputs are named {twice}.*; their counterfactuals would share {twice}.png in --out-dir")
    plan = context.plan_outputs(inputs=files, single=True)
    model = context.load()
    channels, height, width = model.image_shape
    images = []
    for path in files:
        image = read_image(path, channels)
        if tuple(image.shape[-2:]) != (height, width):
            raise InputError(f"{path}: is {image.shape[-1]}x{image.shape[-2]} pixels; {context.entry.name} reads "
                             f"{width}x{height} images")
        images.append(image)
    meta = _metadata(context, None, do, {})
    plan.check_kept(meta, keys=_SAME_RUN)
    samples = model.counterfactual(torch.cat(images), do)
    rows = samples.rows()
    data: dict[str, Any] = {"samples": rows}
    if plan.folder is not None:
        targets = [plan.folder.directory / name for name in plan.folder.names]
        written = plan.write_batches(((i, samples.images[i:i + 64]) for i in range(0, len(files), 64)),
                                     metadata=lambda index, path: dict(meta, input=files[index].name))
        written.describe(data, plan.out_dir, "images")
        files_written = written.listed
    else:
        targets = [plan.save_image(samples.images[0:1], plan.out, dict(meta, input=files[0].name))]
        files_written = list(targets)
    for index, target in enumerate(targets):
        rows[index]["file"] = str(target)
        rows[index]["input"] = str(files[index])
    lines = [f"{f} -> {t}" for f, t in zip(files, targets)]
    from .ood import warning_line

    warning = warning_line(context.entry.name, [str(f) for f in files], samples.typicality or [])
    if warning:
        zoo_core.warn(warning)
    return zoo_core.RunResult(data=data, lines=lines, files=files_written, value=samples)




def checks(checks: Any) -> None:
    """Image shape and range, determinism, do() honoured in the factors, a counterfactual per input."""
    import torch

    from zoo_core.testing.task_checks import require

    model = checks.model
    scm = model.scm

    def shapes_and_range() -> None:
        samples = model.generate(3, seed=0)
        require(tuple(samples.images.shape) == (3, *model.image_shape),
                f"generate(3) gave images of shape {tuple(samples.images.shape)}, expected (3, {model.image_shape})")
        with torch.inference_mode():
            factors = {k: torch.as_tensor(v, dtype=model.dtype) for k, v in samples.factors.items()}
            raw = model.render(factors, samples.image_noise)
        require(bool(torch.isfinite(raw).all()) and float(raw.abs().max()) <= 1.0 + 1e-4,
                "render() must return finite images in [-1, 1] (end in a tanh)")

    def determinism() -> None:
        a, b = model.generate(2, seed=5), model.generate(2, seed=5)
        require(torch.equal(a.images, b.images), "generate() with the same seed gave different images")

    def knob() -> Any:
        """The first factor the model lets one intervene on (a root if it can be)."""
        free = [m for m in scm.mechanisms if m.name not in model.not_intervenable]
        require(bool(free), "the model lets no factor be intervened on")
        return next((m for m in free if m.is_root), free[0])

    def intervention() -> None:
        root = knob()
        low, high = root.support
        value = (low + high) / 2 if abs(high - low) < 1e6 else 0.0
        samples = model.generate(4, seed=1, do={root.name: value})
        require(all(abs(float(v) - value) < 1e-9 for v in samples.factors[root.name]),
                f"do({root.name}={value:g}) did not hold {root.name} at {value:g}")
        require(samples.sources[root.name] == "do", "an intervened factor must be reported as source 'do'")

    def counterfactual() -> None:
        images = model.generate(2, seed=2).images
        root = knob()
        low, high = root.support
        value = (low + high) / 2 if abs(high - low) < 1e6 else 0.0
        result = model.counterfactual(images, {root.name: value})
        require(tuple(result.images.shape) == tuple(images.shape), "counterfactual() must give one image per input")
        require(all(result.sources[n] in ("do", "abducted") for n in scm.factors),
                "counterfactual factors must be 'do' or 'abducted'")

    checks.run("image shape and range", shapes_and_range)
    checks.run("determinism", determinism)
    checks.run("do() holds the factor", intervention)
    checks.run("counterfactual", counterfactual)
