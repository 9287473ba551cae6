"""Train and evaluate commands dispatched by the core's ``zoo train`` / ``zoo eval``."""

import click


@click.command()
@click.option("--steps", type=int, default=1)
def train(steps):
    """Report what the core dispatched: the toy has no data set, it tests verb dispatch."""
    click.echo(f"toy-mlp: trained for {steps} steps")


@click.command()
@click.argument("name")
@click.option("--num", type=int, default=8)
def evaluate(name, num):
    """Recompute the toy's only metric: the mean absolute pixel of NUM samples."""
    import zoo_core

    model = zoo_core.load(name, device="cpu")
    value = float(model.sample(num, seed=0).abs().mean())
    click.echo(f"{name}: mean_abs_pixel={value:.6f}")
