"""zoo-gan: DCGAN and class-conditional DCGAN trained on Fashion-MNIST, and the Hub's upscaler GANs
(Real-ESRGAN's RRDBNet and AuraSR, fal's GigaGAN upsampler).

This module is imported by every ``zoo`` command, so it only registers descriptors; the
model code (and torch) loads when a model is used.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 3  # verbs={"train": ..., "eval": ...}


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="dcgan", task="generator", target="zoo_gan.dcgan:DCGAN",
        description="DCGAN (Radford et al. 2015): strided transposed convolutions, BatchNorm, ReLU",
        verbs={"train": "zoo_gan.train:train_dcgan", "eval": "zoo_gan.evaluate:evaluate"},
    ))
    register(zoo_core.Architecture(
        name="cdcgan", task="generator", target="zoo_gan.dcgan:DCGAN", conditional=True,
        description="class-conditional DCGAN: label embedding in G, projection discriminator",
        verbs={"train": "zoo_gan.train:train_cdcgan", "eval": "zoo_gan.evaluate:evaluate"},
    ))
    register(zoo_core.Architecture(
        name="rrdbnet", task="image-to-image", target="zoo_gan.rrdbnet:RRDBNet", tiling=True,
        description="ESRGAN / Real-ESRGAN generator: residual-in-residual dense blocks, 4x (basicsr and old "
                    "ESRGAN key layouts)",
    ))
    register(zoo_core.Architecture(
        name="aurasr", task="image-to-image", target="zoo_gan.aurasr:AuraSR",
        fixed_tile="input_image_size",  # the only tiles it takes: --tile defaults to it (64 for aura-sr-v2)
        description="AuraSR, fal's GigaGAN upsampler: style-modulated U-Net on 64-pixel tiles, 4x",
        options=(zoo_core.Option("seed", type="int", default=0,
                                 help="chooses the style noise: the same seed gives the same upscale on any device"),),
    ))
    register(zoo_core.Architecture(
        name="fashion-classifier", task="encoder", target="zoo_gan.classifier:FeatureClassifier",
        description="Fashion-MNIST CNN whose 128 penultimate features measure generated images",
        verbs={"train": "zoo_gan.train:train_classifier", "eval": "zoo_gan.evaluate:evaluate"},
    ))


@zoo_core.hookimpl
def register_models(register):
    register(Path(__file__).parent / "models.toml")
