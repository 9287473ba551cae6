"""zoo-vae: a conv VAE trained on Fashion-MNIST, and the public Stable Diffusion VAEs and TAESD.

This module is imported by every ``zoo`` command, so it only registers descriptors; the
model code (and torch) loads when a model is used.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 3  # verbs={"train": ..., "eval": ...}


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="conv-vae", task="autoencoder", target="zoo_vae.conv_vae:ConvVAE",
        description="convolutional VAE (Kingma & Welling 2014): Gaussian posterior, Bernoulli or Gaussian decoder",
        verbs={"train": "zoo_vae.train:train_conv_vae", "eval": "zoo_vae.evaluate:evaluate"},
    ))
    register(zoo_core.Architecture(
        name="autoencoder-kl", task="autoencoder", target="zoo_vae.autoencoder_kl:AutoencoderKL",
        description="the Stable Diffusion KL autoencoder (diffusers' AutoencoderKL key layout, both attention "
                    "layouts)",
        tiling=True,  # fully convolutional: the core's --tile works tile by tile
    ))
    register(zoo_core.Architecture(
        name="autoencoder-tiny", task="autoencoder", target="zoo_vae.autoencoder_tiny:AutoencoderTiny",
        description="TAESD, the tiny Stable Diffusion autoencoder (diffusers' AutoencoderTiny key layout)",
        tiling=True,
    ))


@zoo_core.hookimpl
def register_models(register):
    register(Path(__file__).parent / "models.toml")
