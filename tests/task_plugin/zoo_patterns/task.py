"""What ``zoo run`` does for a pattern model. It writes no file by hand: only through the plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zoo_core


def run(context: Any) -> zoo_core.RunResult:
    import torch

    from zoo_core.images import image_files, make_grid, read_image

    options = context.options
    given = context.arguments.get("inputs") or ()
    inputs = image_files(given) if given else []
    count = len(inputs) or options["num"]
    # where the run writes is checked before the model loads: refusals cost nothing
    plan = context.plan_outputs(inputs=inputs, single=True) if inputs else context.plan_outputs(count=count)
    model = context.load()
    meta = context.provenance(None if inputs else options["seed"])
    plan.check_kept(meta)
    own = context.model_options
    keep = plan.out is not None or plan.folder is None  # a grid, or the Python caller's value, needs them all
    kept: list[torch.Tensor] = []

    def items() -> Iterator[tuple[int, torch.Tensor]]:
        with torch.inference_mode():
            for index in range(count):
                if not plan.needs(index):
                    continue  # --skip-existing keeps it: nothing to compute
                if inputs:
                    image = model.tint(read_image(inputs[index], 3), **own)
                else:
                    image = model.draw(options["seed"], index, **own)
                if keep:
                    kept.append(image)
                yield index, image

    data: dict[str, Any] = {"num": count}
    files: list[Path] = []
    lines: list[str] = []
    if plan.folder is not None:
        written = plan.write_each(items(), metadata=meta)
        written.describe(data, plan.out_dir, "images")
        files += written.listed
        lines.append(written.line(plan.out_dir))
    else:
        for _ in items():
            pass
    value = torch.cat(kept) if kept else None
    if plan.out is not None:
        image = value if inputs else make_grid(value)
        files.append(plan.save_image(image, plan.out, meta))
        lines.append(f"wrote {plan.out}")
    return zoo_core.RunResult(data=data, lines=lines, files=files, value=value,
                              seed=None if inputs else options["seed"])
