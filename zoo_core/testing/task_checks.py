"""The behavioural conformance checks of zoo's own tasks, found through each ``Task.checks``.

A task's checks get a ``ModelChecks``: the model under test (built with small random
weights, or an analyzer built from its config), the report to fill and the limits. A
plugin that registers a new task writes a function of the same shape and names it in its
``Task(checks="pkg.module:function")``; the kit then runs it for every model of that task.
Outputs are checked as the model returns them, before anything clamps them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..architectures import Architecture
    from ..task import Task
    from .conformance import Report

__all__ = ["ModelChecks", "CheckFailed", "require", "check_generator", "check_encoder", "check_autoencoder",
           "check_image_to_image", "check_analyzer", "same", "max_difference"]

SEED = 0
BATCH = 2


class CheckFailed(Exception):
    """A contract violation found by a check (the message says which)."""


def require(condition: bool, message: str) -> None:
    """Fail the running check with ``message`` unless ``condition``."""
    if not condition:
        raise CheckFailed(message)


@dataclass
class ModelChecks:
    """What a task's checks receive: one model under test and where to report."""

    report: Report
    subject: str
    model: Any
    architecture: Architecture
    task: Task
    max_pixels: int
    example: Mapping[str, Any] = field(default_factory=dict)

    def run(self, check: str, func: Callable[[], str | None]) -> bool:
        """Run one named check: an exception fails it, a returned string notes why it was skipped."""
        return self.report.run(self.subject, check, func)

    def note(self, check: str, message: str) -> None:
        self.report.note(self.subject, check, message)


def same(a: Any, b: Any) -> bool:
    """Equal shapes, dtypes and values (NaN equal to NaN: that is a range problem, not nondeterminism)."""
    import torch

    return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


def max_difference(a: Any, b: Any) -> float:
    """Largest absolute difference between two tensors (as float64 on the CPU)."""
    return float((a.detach().double().cpu() - b.detach().double().cpu()).abs().max()) if a.numel() else 0.0


def _range(tensor: Any, what: str) -> None:
    """Finite and within [-1, 1] (a small float tolerance), as returned: nothing clamps it first."""
    import torch

    require(bool(torch.isfinite(tensor).all()), f"{what} gave non-finite values")
    low, high = float(tensor.min()), float(tensor.max())
    require(low >= -1 - 1e-3 and high <= 1 + 1e-3,
            f"{what} values span [{low:.3g}, {high:.3g}], outside [-1, 1] (end the network in tanh, or an "
            "equivalent bound; zoo does not clamp for you)")


def _moved(model: Any, call: Callable[[Any], Any], reference: Any, dtype: Any, device: str, atol: float,
           what: str) -> str | None:
    """Run ``call`` on a copy moved to ``device``/``dtype`` and compare with ``reference``."""
    import torch

    other = copy.deepcopy(model)
    try:
        other.to(device=device, dtype=dtype)
        with torch.inference_mode():
            out = call(other)
    except (RuntimeError, NotImplementedError) as exc:
        if dtype == torch.bfloat16 and "not implemented" in str(exc).lower():
            return f"{dtype} is not implemented on {device} for this model: {type(exc).__name__}: {exc}"
        raise CheckFailed(f"after .to({device!r}, {dtype}) {what} raised {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    require(out.dtype == dtype, f"after .to({dtype}) {what} gave {out.dtype}")
    require(out.device.type == torch.device(device).type, f"after .to({device!r}) {what} gave a tensor on {out.device}")
    diff = max_difference(out, reference)
    require(diff <= atol, f"after .to({device!r}, {dtype}) the same input gave outputs differing by up to "
                          f"{diff:.3g} (allowed {atol:g})")
    return None


def _moves(checks: ModelChecks, call: Callable[[Any], Any], reference: Any, what: str) -> None:
    """The "dtype move" and "device move" checks of ``call(model)``."""
    import torch

    model = checks.model

    def dtype_move() -> str | None:
        return (_moved(model, call, reference, torch.float64, "cpu", 1e-3, what)
                or _moved(model, call, reference, torch.bfloat16, "cpu", 0.25, what))

    checks.run("dtype move", dtype_move)
    if torch.cuda.is_available():
        checks.run("device move", lambda: _moved(model, call, reference, torch.float32, "cuda", 2e-2, what))
    else:
        checks.note("device move", "skipped: no CUDA device")


def check_generator(checks: ModelChecks) -> None:
    """Shapes, dtype, range (of ``decode`` itself, unclamped), determinism and moves of a generator."""
    import torch

    from ..interfaces import seeded_noise

    model = checks.model
    pixels = model.image_shape[1] * model.image_shape[2]
    if pixels > checks.max_pixels:
        checks.note("behaviour", f"skipped: {model.image_shape[1]}x{model.image_shape[2]} images are over the "
                                 f"{checks.max_pixels}-pixel limit for CPU checks")
        return
    n = BATCH
    expected = (n, *model.image_shape)
    latents = seeded_noise((n, *model.latent_shape), SEED)
    labels = torch.arange(n) % model.num_classes if model.num_classes else None
    outputs: dict[str, Any] = {}

    def decoded(m: Any = model) -> Any:
        with torch.inference_mode():
            return m.decode(model.latents_from_noise(latents).to(m.device, m.dtype),
                            None if labels is None else labels.to(m.device))

    def shape() -> None:
        with torch.inference_mode():
            images = model.sample(n, seed=SEED)
        outputs["sample"] = images
        require(tuple(images.shape) == expected, f"sample({n}) gave shape {tuple(images.shape)}, "
                                                 f"expected {expected} from image_shape")
        first = decoded()
        outputs["decode"] = first
        require(tuple(first.shape) == expected, f"decode() gave shape {tuple(first.shape)}, expected {expected}")

    if not checks.run("output shape", shape):
        return
    images = outputs["sample"]

    def dtype() -> None:
        require(images.dtype == model.dtype, f"sample() gave {images.dtype} from a {model.dtype} model")
        got = outputs["decode"].dtype
        require(got == model.dtype, f"decode() gave {got} from a {model.dtype} model")

    def value_range() -> str | None:
        if model.decode_range is None:
            require(bool(torch.isfinite(outputs["decode"]).all()), "decode() gave non-finite values")
            return "decode() is declared unbounded (decode_range = None): checked finite only; zoo clamps it"
        _range(outputs["decode"], "decode()")
        return None

    def determinism() -> None:
        with torch.inference_mode():
            again = model.sample(n, seed=SEED)
        require(same(again, images), f"sample(seed={SEED}) twice gave different images "
                                     f"(max difference {max_difference(again, images):.3g})")

    def decode() -> None:
        first, second = outputs["decode"], decoded()
        require(bool(torch.isfinite(first).all()), "decode() gave non-finite values")
        require(same(first, second), "decode() of the same latents twice gave different images")

    checks.run("output dtype", dtype)
    checks.run("value range", value_range)
    checks.run("determinism", determinism)
    if not checks.run("decode", decode):
        return
    _moves(checks, decoded, outputs["decode"], "decode()")


def _encoder_input_size(model: Any) -> int:
    from ..interfaces import Generator

    if isinstance(model, Generator):
        return int(model.image_shape[-1])
    for name in ("image_size", "sample_size", "size"):
        value = getattr(model.config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    multiple = max(1, int(model.size_multiple))
    return multiple * max(1, -(-32 // multiple))


def check_encoder(checks: ModelChecks) -> None:
    """Latents: a finite tensor per image, of ``latent_shape`` for autoencoders, deterministic."""
    import torch

    from ..interfaces import Generator

    model = checks.model
    side = _encoder_input_size(model)
    if side * side > checks.max_pixels * 4:
        checks.note("encode", f"skipped: {side}x{side} inputs are too big for CPU checks")
        return
    generator = torch.Generator().manual_seed(SEED)
    images = torch.rand((BATCH, model.input_channels, side, side), generator=generator) * 2 - 1
    outputs: dict[str, Any] = {}

    def encode() -> None:
        with torch.inference_mode():
            outputs["latents"] = latents = model.encode(images)
        require(isinstance(latents, torch.Tensor), f"encode() returned {type(latents).__name__}, not a tensor")
        require(bool(torch.isfinite(latents).all()), "encode() gave non-finite latents")

    if not checks.run("encode", encode):
        return
    latents = outputs["latents"]

    def shape() -> None:
        require(latents.shape[0] == BATCH, f"encode() of {BATCH} images gave {latents.shape[0]} latents")
        if isinstance(model, Generator):
            expected = (BATCH, *model.latent_shape)
            require(tuple(latents.shape) == expected, f"encode() gave latents of shape {tuple(latents.shape)}, "
                                                      f"expected {expected} from latent_shape")
            with torch.inference_mode():
                rebuilt = getattr(model, "reconstruct")(images)  # noqa: B009 - an Autoencoder here
            require(tuple(rebuilt.shape) == tuple(images.shape),
                    f"reconstruct() gave shape {tuple(rebuilt.shape)} for images of shape {tuple(images.shape)}")

    def dtype() -> None:
        require(latents.dtype == model.dtype, f"encode() gave {latents.dtype} latents from a {model.dtype} model")

    def determinism() -> None:
        with torch.inference_mode():
            again = model.encode(images)
        require(same(again, latents), "encode() of the same images twice gave different latents "
                                      f"(max difference {max_difference(again, latents):.3g})")

    checks.run("output shape", shape)
    checks.run("output dtype", dtype)
    checks.run("determinism", determinism)


def check_autoencoder(checks: ModelChecks) -> None:
    """An autoencoder is checked as a generator (decode) and as an encoder."""
    check_generator(checks)
    check_encoder(checks)


def check_image_to_image(checks: ModelChecks) -> None:
    """``transform``'s shape (scale, channels), dtype, range before clamping and determinism;
    ``process`` on an awkward size; dtype and device moves."""
    import torch

    model = checks.model
    side = int(model.fixed_input_size or max(int(model.size_multiple), 1) * max(1, -(-16 // max(int(
        model.size_multiple), 1))))
    if side * side * model.scale ** 2 > checks.max_pixels * 16:
        checks.note("behaviour", f"skipped: a {side}x{side} input gives {side * model.scale}px outputs, too big "
                                 "for CPU checks")
        return
    generator = torch.Generator().manual_seed(SEED)
    images = torch.rand((BATCH, model.input_channels, side, side), generator=generator) * 2 - 1
    outputs: dict[str, Any] = {}
    expected = (BATCH, model.output_channels, side * model.scale, side * model.scale)

    def run(m: Any = model) -> Any:
        with torch.inference_mode():
            return m.transform(images.to(m.device, m.dtype))

    def shape() -> None:
        outputs["out"] = out = run()
        require(isinstance(out, torch.Tensor), f"transform() returned {type(out).__name__}, not a tensor")
        require(tuple(out.shape) == expected, f"transform() of {tuple(images.shape)} gave {tuple(out.shape)}, "
                                              f"expected {expected} from scale {model.scale} and output_channels")

    if not checks.run("output shape", shape):
        return
    out = outputs["out"]

    def dtype() -> None:
        require(out.dtype == model.dtype, f"transform() gave {out.dtype} from a {model.dtype} model")

    def value_range() -> None:
        _range(out, "transform()")

    def determinism() -> None:
        again = run()
        require(same(again, out), "transform() of the same images twice gave different images "
                                  f"(max difference {max_difference(again, out):.3g})")

    def any_size() -> None:  # process() pads/tiles what transform() cannot take as it is
        odd = images[:1, :, : side - 1 if side > 1 else 1, :]
        with torch.inference_mode():
            result = model.process(torch.cat([odd, odd]) if odd.shape[-2] else images)
        want = (2, model.output_channels, odd.shape[-2] * model.scale, side * model.scale)
        require(tuple(result.shape) == want, f"process() of a {odd.shape[-1]}x{odd.shape[-2]} image gave "
                                             f"{tuple(result.shape)}, expected {want}")

    def fixed_tile() -> None:  # zoo run --help describes --tile from the descriptor, without the model
        import dataclasses

        config = model.config
        values = dataclasses.asdict(config) if dataclasses.is_dataclass(config) and not isinstance(config, type) else {}
        declared, fixed = checks.architecture.tile_for(values), model.fixed_input_size or None
        require(declared == fixed, f"the model takes {fixed}-pixel inputs only (fixed_input_size), but its "
                                   "architecture declares no fixed_tile: zoo run --help offers --tile 0 (the whole "
                                   "image), which the model refuses; declare Architecture(fixed_tile=...)"
                if declared is None else f"Architecture(fixed_tile={checks.architecture.fixed_tile!r}) says "
                                         f"{declared}-pixel tiles, but the model's fixed_input_size is {fixed}")

    checks.run("output dtype", dtype)
    checks.run("value range", value_range)
    checks.run("determinism", determinism)
    checks.run("any size", any_size)
    checks.run("fixed tile", fixed_tile)
    _moves(checks, run, out, "transform()")


def check_analyzer(checks: ModelChecks) -> None:
    """``analyze`` with the architecture's example (or the options' defaults) returns JSON-ready data."""
    from ..causal import AnalysisResult

    arch = checks.architecture
    analyzer = checks.model

    def run_analyze() -> str | None:
        # what zoo run passes: every declared option, its default (or None) unless given
        given = {k.replace("-", "_"): v for k, v in checks.example.items()}
        missing = [f"--{o.name}" for o in arch.options
                   if o.required and o.default is None and o.name.replace("-", "_") not in given]
        if missing:
            return (f"required option {', '.join(missing)} has no default and the architecture declares no "
                    f"example; give Architecture(example={{...}}) (or analyze={{{arch.name!r}: {{...}}}})")
        options = {o.name.replace("-", "_"): (() if o.multiple and o.default is None else o.default)
                   for o in arch.options}
        options.update(given)
        result = analyzer.analyze(**options)
        require(isinstance(result, AnalysisResult),
                f"analyze() returned {type(result).__name__}, not zoo_core.AnalysisResult")
        require(isinstance(result.data, dict), f"AnalysisResult.data is {type(result.data).__name__}, not a dict")
        try:
            json.dumps(result.data, default=str)  # what zoo run --json does
        except (TypeError, ValueError) as exc:
            raise CheckFailed(f"AnalysisResult.data is not JSON-ready: {exc}") from None
        return None

    checks.run("analyze", run_analyze)
