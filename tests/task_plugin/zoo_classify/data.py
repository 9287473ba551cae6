"""``zoo data brightness-classifier``: a labelled data set of flat grey images."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--num", type=int, default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def write_data(num: int, seed: int, out: Path) -> None:
    """Write NUM 8x8 grey images and labels.csv (dark below mid-grey, bright above)."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["file,label"]
    for index in range(num):
        level = rng.randrange(256)
        name = f"{index:05d}.png"
        Image.new("L", (8, 8), level).save(out / name)
        lines.append(f"{name},{'bright' if level >= 128 else 'dark'}")
    (out / "labels.csv").write_text("\n".join(lines) + "\n")
    click.echo(f"wrote {num} images to {out}")
