"""From a folder, a CSV and a graph to a deep SCM's config and training tensors.

Reads and checks the data (``user_data``), settles the graph (given, discovered or implied:
``user_graph``), orders the attributes so parents come first, and fits what the config holds
from the data: each continuous attribute's support (its range, widened by 5% each side, so that
a do() value a little past the data is drawn rather than refused) and quantile knots, each
discrete one's categories. The model card describes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from zoo_core import InputError

from .user_data import LabelledImages, read_attributes, read_images
from .user_graph import AttributeGraph, discover_graph, implied_graph, parse_graph

__all__ = ["TrainingSetup", "prepare_training", "model_card", "attribute_specs", "SUPPORT_MARGIN"]

#: a continuous attribute's support: the training values' range widened by this fraction each side
SUPPORT_MARGIN = 0.05


@dataclass
class TrainingSetup:
    csv: Path
    data: LabelledImages
    graph: AttributeGraph
    config: Any
    pixels: np.ndarray  # uint8 (N, H, W, C)

    def tensors(self) -> tuple[Any, Any]:
        """Images (N, C, H, W) in [-1, 1] and the attribute table (N, attributes) in the config's order."""
        import torch

        images = torch.from_numpy(self.pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
        table = np.stack([self.data.values[a.name] for a in self.config.attributes], axis=1)
        return images, torch.from_numpy(table).float()


def attribute_specs(data: LabelledImages, graph: AttributeGraph) -> list[Any]:
    from .mechanisms import AttributeSpec, fit_knots

    kinds = {a.name: a for a in data.attributes}
    specs = []
    for name, parents in graph.parents.items():
        attribute, values = kinds[name], data.values[name]
        if attribute.discrete:
            categories = attribute.category_values()
            specs.append(AttributeSpec(name, attribute.kind, list(parents), min(categories), max(categories),
                                       categories=categories, labels=list(attribute.categories)))
        else:
            knots_x, knots_y = fit_knots(values.tolist())
            low, high = float(values.min()), float(values.max())
            margin = SUPPORT_MARGIN * (high - low)  # do() a little past the data is allowed, far past refused
            specs.append(AttributeSpec(name, "continuous", list(parents), low - margin, high + margin,
                                       knots_x=knots_x, knots_y=knots_y))
    return specs


def prepare_training(images_dir: Path, attributes_csv: Path, *, graph_source: str | None = None,
                     discover: str | None = None, categorical: Sequence[str] = (),
                     columns: Sequence[str] | None = None, limit: int | None = None, latent_dim: int = 16,
                     width: int = 16, stage_convs: int = 0, log: Callable[[str], None] = print) -> TrainingSetup:
    """Everything ``zoo train deep-scm`` needs before the first step (every bad input: one line)."""
    from .deep_scm import DeepSCMConfig

    data = read_attributes(attributes_csv, images_dir, categorical=categorical, columns=columns)
    if limit is not None:
        if limit < 2:
            raise InputError(f"--limit must be at least 2, got {limit}")
        data = LabelledImages(data.folder, data.files[:limit], data.attributes,
                              {k: v[:limit] for k, v in data.values.items()})
    names = [a.name for a in data.attributes]
    if graph_source:
        graph = parse_graph(graph_source, names)
    elif discover:
        graph = discover_graph(discover, data.values)
    else:
        graph = implied_graph(names)
    log(f"graph: {graph.text()}")
    log("attributes: " + "; ".join(
        f"{a.name} ({a.kind}" + (f": {', '.join(a.categories[:12])}" if a.discrete else
                                 f", {data.values[a.name].min():.4g} to {data.values[a.name].max():.4g}") + ")"
        for a in data.attributes))
    pixels = read_images(data.files, attributes_csv)
    _, height, width_px, channels = pixels.shape
    config = DeepSCMConfig(attributes=attribute_specs(data, graph), image_parents=list(graph.image_parents),
                           channels=channels, height=height, width=width_px, latent_dim=latent_dim,
                           base_channels=width, stage_convs=stage_convs)
    return TrainingSetup(Path(attributes_csv), data, graph, config, pixels)


def model_card(setup: TrainingSetup, result: Any, recipe: str, train: int, held: int) -> str:
    """The README.md of a trained run."""
    config = setup.config
    best = ", ".join(f"{k} {v:.4g}" for k, v in result.best.items())
    lines = [
        f"# deep-scm: {setup.csv.name} ({len(setup.data)} images, {config.height}x{config.width}, "
        f"{'greyscale' if config.channels == 1 else 'RGB'})",
        "",
        "A deep structural causal model trained with zoo (`zoo_causalgen`): learned attribute mechanisms "
        "(conditional location-scale flows, Gumbel-max for discrete attributes), a conditional VAE whose "
        f"{config.latent_dim}-dimensional latent is the image noise, and one anti-causal predictor per attribute.",
        "",
        f"- graph: `{setup.graph.text()}`",
    ]
    for spec in config.attributes:
        what = (f"categories {', '.join(spec.labels)}" if spec.discrete else f"support [{spec.low:.4g}, {spec.high:.4g}]")
        lines.append(f"- `{spec.name}`: {spec.kind}, parents {', '.join(spec.parents) or 'none'}; {what}")
    lines += [
        f"- data: {train} images to train on, {held} held out ({setup.data.folder}, {setup.csv})",
        f"- best epoch {result.best_epoch} of {result.epochs}: {best}",
        f"- wall time {result.seconds / 60:.1f} min, {result.images_per_second:.0f} images/s",
        "",
        "Run it: `zoo run RUN --do 'ATTRIBUTE=VALUE' --num 16 --out grid.png`; counterfactuals of images: "
        "`zoo run RUN a.png b.png --do 'ATTRIBUTE=VALUE' --out-dir cf/`; soundness: `zoo eval RUN`.",
        "",
        "## Recipe",
        "",
        "```bash",
        recipe,
        "```",
        "",
    ]
    return "\n".join(lines)
