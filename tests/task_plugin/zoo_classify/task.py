"""What ``zoo run`` does for an image classifier, and the checks every one must pass."""

from __future__ import annotations

from typing import Any

import zoo_core


def run(context: Any) -> zoo_core.RunResult:
    import torch

    from zoo_core.images import image_files, read_image

    given = context.arguments.get("inputs", ())
    if not given:
        raise zoo_core.InputError(f"{context.entry.name} needs images: zoo run {context.entry.name} a.png b.png")
    top = context.options["top"]
    model = context.load()
    if not 1 <= top <= len(model.classes):
        raise zoo_core.InputError(f"--top {top}: must be in 1..{len(model.classes)}")
    rows = []
    for path in image_files(given):
        image = read_image(path, model.input_channels).to(model.device, model.dtype)
        with torch.inference_mode():
            probabilities = model.logits(image, **context.model_options).float().softmax(-1)[0]
        best = probabilities.topk(top)
        rows.append({"file": str(path), "classes": [model.classes[i] for i in best.indices.tolist()],
                     "probabilities": [round(p, 4) for p in best.values.tolist()]})
    lines = [f"{r['file']}: {r['classes'][0]} ({r['probabilities'][0]:.2f})" for r in rows]
    return zoo_core.RunResult(data={"predictions": rows}, lines=lines, value=rows)


def checks(checks: Any) -> None:
    """Scores of shape (N, classes), finite, and the same for the same images."""
    import torch

    from zoo_core.testing.task_checks import require, same

    model = checks.model
    images = torch.rand(3, model.input_channels, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def shape() -> None:
        with torch.inference_mode():
            scores = model.logits(images)
        require(tuple(scores.shape) == (3, len(model.classes)),
                f"logits() gave shape {tuple(scores.shape)}, expected (3, {len(model.classes)})")
        require(bool(torch.isfinite(scores).all()), "logits() gave non-finite scores")

    def determinism() -> None:
        with torch.inference_mode():
            require(same(model.logits(images), model.logits(images)), "logits() of the same images differ")

    checks.run("output shape", shape)
    checks.run("determinism", determinism)
