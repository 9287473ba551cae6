"""``zoo eval NAME``: recompute a model's registry metrics.

Generators: Fréchet distance and KID between generated samples and the Fashion-MNIST test
split, in the feature space of zoo's Fashion-MNIST classifier, beside the floor (training
vs test images) and two sanity checks (blurred and noised test images must score worse).
Conditional generators: the classifier's accuracy on samples of each requested class.
These are classifier-feature distances, not Inception FID.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import torch

import zoo_core
from zoo_core.data import FASHION_MNIST_CLASSES, load_fashion_mnist, to_model_range
from zoo_core.metrics import add_noise, blur, frechet_distance, kernel_distance

from .classifier import load_classifier

__all__ = ["evaluate", "generator_metrics"]


def generator_metrics(model: Any, classifier: Any, *, samples: int, seed: int, data_dir: Path | None,
                      batch_size: int = 1000) -> dict[str, float]:
    """Every number the registry records for a (conditional) DCGAN; see the module docstring."""
    test = load_fashion_mnist("test", data_dir)
    train = load_fashion_mnist("train", data_dir)
    test_x = to_model_range(test.images, 32)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:len(test)]
    train_x = to_model_range(train.images[pick], 32)
    f_test = classifier.features_of(test_x)
    f_train = classifier.features_of(train_x)
    generated = model.sample(samples, seed=seed, batch_size=batch_size).float()
    f_gen = classifier.features_of(generated)
    kid, kid_std = kernel_distance(f_gen, f_test)
    kid_floor, _ = kernel_distance(f_train, f_test)
    metrics = {
        "fd": frechet_distance(f_gen, f_test),
        "kid": kid,
        "kid_std": kid_std,
        "fd_floor": frechet_distance(f_train, f_test),
        "kid_floor": kid_floor,
        "fd_blurred_test": frechet_distance(classifier.features_of(blur(test_x)), f_test),
        "fd_noised_test": frechet_distance(classifier.features_of(add_noise(test_x, 0.2, seed=seed)), f_test),
    }
    if model.num_classes:
        per_class = samples // model.num_classes
        accuracies = []
        for label in range(model.num_classes):
            images = model.sample(per_class, seed=seed + label, labels=label, batch_size=batch_size).float()
            accuracy = float((classifier.classify(images) == label).float().mean())
            metrics[f"class_accuracy_{label}"] = accuracy
            accuracies.append(accuracy)
        metrics["class_accuracy"] = sum(accuracies) / len(accuracies)
    return metrics


def classifier_metrics(classifier: Any, *, data_dir: Path | None) -> dict[str, float]:
    test = load_fashion_mnist("test", data_dir)
    predicted = classifier.classify(to_model_range(test.images, 32))
    return {"test_accuracy": float((predicted == test.labels).float().mean())}


@click.command()
@click.argument("name")
@click.option("--samples", type=int, default=10000, show_default=True, help="generated images to compare")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), help="folder with the Fashion-MNIST IDX files")
@click.option("--classifier", default="fashion-classifier", show_default=True,
              help="feature network: a registry name or a training output folder")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def evaluate(name: str, samples: int, seed: int, device: str, data_dir: Path | None, classifier: str,
             as_json: bool) -> None:
    """Recompute NAME's metrics and show them beside the registry's."""
    if samples < 2:  # a Fréchet distance needs a covariance, KID two samples per subset
        raise zoo_core.InputError(f"--samples must be at least 2, got {samples}")
    entry = zoo_core.get_entry(name)
    model = zoo_core.load(name, device=device)
    if getattr(model, "num_classes", 0) and samples < model.num_classes:  # accuracy is measured per class
        raise zoo_core.InputError(f"--samples {samples}: {name} has {model.num_classes} classes; give at least "
                                  f"{model.num_classes}")
    if entry.architecture == "fashion-classifier":
        measured = classifier_metrics(model, data_dir=data_dir)
    else:
        measured = generator_metrics(model, load_classifier(classifier, model.device), samples=samples,
                                     seed=seed, data_dir=data_dir)
    if as_json:
        click.echo(json.dumps({"model": name, "metrics": measured,
                               "registry": {k: m.value for k, m in entry.metrics.items()}}, indent=2))
        return
    click.echo(f"{name}: metrics in zoo's Fashion-MNIST classifier feature space (not Inception FID)")
    click.echo(f"  {'metric':28} {'measured':>12} {'registry':>12} {'floor':>12}")
    for key, value in measured.items():
        recorded = entry.metrics.get(key)
        shown = f"{recorded.value:12.5g}" if recorded else f"{'-':>12}"
        floor = measured.get(f"{key}_floor")  # train-vs-test: what a perfect model would score
        floor_shown = f"{floor:12.5g}" if floor is not None else ""
        label = key
        if key.startswith("class_accuracy_"):
            label = f"{key} ({FASHION_MNIST_CLASSES[int(key.rsplit('_', 1)[1])]})"
        click.echo(f"  {label:28} {value:12.5g} {shown} {floor_shown}".rstrip())
