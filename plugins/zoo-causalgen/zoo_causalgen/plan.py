"""Memory a causal generator's run holds at its peak, checked before it starts.

``zoo run causal-pendulum --num 100000000 --out big.png`` (or ``--out-dir``) used to start at
once and grow past 6.7 GB in a minute: ``generate`` keeps every image (and the grid another
copy) until the end. The run is refused before anything is drawn when the plan exceeds the
free memory, naming ``--num``. The factors below are measured (``bench/bench_memory_plan.py``:
planned over peak RSS between 1.0 and 1.5 across sizes), in units of one float32 image:

- ``GENERATE_IMAGES`` (3): the rendered batches, their concatenation and the clamped copy;
- ``GRID_IMAGES`` (4.5 more with ``--out``): the grid, its 8-bit copy and the PNG being encoded.

Each sample also holds its factor and noise values and its ``--json`` row (``ROW_BYTES``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GENERATE_IMAGES", "GRID_IMAGES", "ROW_BYTES", "planned_bytes", "check_generation"]

GENERATE_IMAGES = 3.0
GRID_IMAGES = 4.5
ROW_BYTES = 3000


def planned_bytes(image_shape: tuple[int, int, int], num: int, *, grid: bool) -> int:
    """Peak bytes of generating ``num`` images of ``image_shape`` (C, H, W), with or without a grid."""
    c, h, w = image_shape
    image = c * h * w * 4
    return int(num * (image * (GENERATE_IMAGES + (GRID_IMAGES if grid else 0.0)) + ROW_BYTES))


def check_generation(image_shape: tuple[int, int, int], num: int, *, grid: bool) -> None:
    """An ``InputError`` naming ``--num`` when the run would not fit in free memory."""
    from zoo_core.memory import human_bytes, require

    c, h, w = image_shape
    per = planned_bytes(image_shape, 1, grid=grid)
    require(planned_bytes(image_shape, num, grid=grid), device="cpu",
            what=f"--num {num} ({num} images of {c}x{h}x{w}{', and their grid' if grid else ''})",
            fix=f"ask for fewer (each takes about {human_bytes(per)} until the run ends), in several runs with "
                "different --seed")
