"""zoo-vae: a conv VAE trained on Fashion-MNIST, and the public Stable Diffusion VAEs and TAESD.

This module is imported by every ``zoo`` command, so it only registers descriptors; the
model code (and torch) loads when a model is used.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 1

_TILING = (
    zoo_core.Option("tile", type="int", default=0,
                    help="encode/decode in tiles of this many pixels (0: whole image at once); bounds memory"),
    zoo_core.Option("tile-overlap", type="int", default=32,
                    help="pixels two neighbouring tiles share, blended linearly (with --tile)"),
)


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="conv-vae", task="autoencoder", target="zoo_vae.conv_vae:ConvVAE",
        description="convolutional VAE (Kingma & Welling 2014): Gaussian posterior, Bernoulli or Gaussian decoder",
        train="zoo_vae.train:train_conv_vae", evaluate="zoo_vae.evaluate:evaluate",
    ))
    register(zoo_core.Architecture(
        name="autoencoder-kl", task="autoencoder", target="zoo_vae.autoencoder_kl:AutoencoderKL",
        description="the Stable Diffusion KL autoencoder (diffusers' AutoencoderKL key layout, both attention "
                    "layouts)",
        options=_TILING,
    ))
    register(zoo_core.Architecture(
        name="autoencoder-tiny", task="autoencoder", target="zoo_vae.autoencoder_tiny:AutoencoderTiny",
        description="TAESD, the tiny Stable Diffusion autoencoder (diffusers' AutoencoderTiny key layout)",
        options=_TILING,
    ))


@zoo_core.hookimpl
def register_models(register):
    register(Path(__file__).parent / "models.toml")
