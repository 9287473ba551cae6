"""A small but real zoo plugin used by zoo's own tests, built like any third-party plugin.

Registering imports nothing heavy: the model classes live in ``zoo_toy.models`` and are
named by import path.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 1


@zoo_core.hookimpl
def register_architectures(register):
    mlp = dict(task="generator", target="zoo_toy.models:ToyGenerator",
               options=(zoo_core.Option("temperature", type="float", default=1.0, help="scale the latents"),),
               evaluate="zoo_toy.commands:evaluate")
    register(zoo_core.Architecture(name="toy-mlp", description="one linear layer and a tanh",
                                   train="zoo_toy.commands:train", **mlp))
    register(zoo_core.Architecture(name="toy-cmlp", description="toy-mlp with class labels", conditional=True,
                                   **mlp))
    register(zoo_core.Architecture(
        name="toy-conv-ae", task="autoencoder", target="zoo_toy.models:ToyAutoencoder",
        description="a two-layer convolutional autoencoder",
    ))
    register(zoo_core.Architecture(
        name="toy-conv-enc", task="encoder", target="zoo_toy.models:ToyEncoder",
        description="the encoder half of toy-conv-ae",
    ))
    register(zoo_core.Architecture(
        name="toy-upscaler", task="image-to-image", target="zoo_toy.models:ToyUpscaler",
        description="nearest-neighbour x2 plus a learned 3x3 correction", tiling=True,
        fixed_tile="fixed",  # a config with fixed = N takes N-pixel tiles only
    ))
    register(zoo_core.Architecture(
        name="toy-parents", task="causal-analyzer", target="zoo_toy.causal:ParentsAnalyzer",
        description="lists each variable's parents in a causal graph",
        options=(zoo_core.Option("graph", required=True, help="edges like 'A -> B; B -> C'"),),
        example={"graph": "A -> B; B -> C"},
    ))


@zoo_core.hookimpl
def register_models(register):
    models = Path(__file__).parent / "models.toml"
    if models.exists():  # written by the test fixture, with the sha256 of generated weights
        register(models)
    register({"name": "toy-parents", "architecture": "toy-parents", "task": "causal-analyzer",
              "description": "parents of each node"})


@zoo_core.hookimpl
def register_commands(cli):
    @cli.command("toy-hello")
    def hello():
        """Say hello from the toy plugin."""
        import click

        click.echo("hello from zoo-toy")
