"""TAESD (Ollin Boer Bohan's tiny autoencoder), written for zoo, loading diffusers' ``AutoencoderTiny`` files.

Encoder (``encoder.layers.N``): conv, then per block a stride-2 conv without bias (except
the first block) and ``num_encoder_blocks[i]`` residual blocks, then a conv to the latent
channels. Decoder (``decoder.layers.N``): conv + ReLU, then per block residual blocks, a
nearest 2× upsampling and a conv without bias (the last block: a conv with bias to the
output channels and no upsampling). Ranges as in diffusers: ``encode`` takes [-1, 1] images
and maps them to [0, 1] first; ``decode`` soft-clamps latents with tanh(x / 3) * 3 and maps
its [0, 1] output back to [-1, 1]. TAESD latents live on the scale of the matching SD VAE's
latents times its ``scaling_factor``, so no factor is needed around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zoo_core import ConfigError

from .tiled import TiledAutoencoder

__all__ = ["AutoencoderTinyConfig", "AutoencoderTiny"]


@dataclass
class AutoencoderTinyConfig:
    in_channels: int = 3
    out_channels: int = 3
    latent_channels: int = 4
    encoder_block_out_channels: tuple[int, ...] = (64, 64, 64, 64)
    decoder_block_out_channels: tuple[int, ...] = (64, 64, 64, 64)
    num_encoder_blocks: tuple[int, ...] = (1, 3, 3, 3)  # residual blocks per encoder stage; 8x downsampling
    num_decoder_blocks: tuple[int, ...] = (3, 3, 3, 1)
    sample_size: int = 512  # side of the images `zoo run` decodes from random latents

    def __post_init__(self) -> None:
        if len(self.encoder_block_out_channels) != len(self.num_encoder_blocks) or not self.num_encoder_blocks:
            raise ConfigError("encoder_block_out_channels and num_encoder_blocks must have the same, non-zero length")
        if len(self.decoder_block_out_channels) != len(self.num_decoder_blocks) or not self.num_decoder_blocks:
            raise ConfigError("decoder_block_out_channels and num_decoder_blocks must have the same, non-zero length")
        if len(self.num_encoder_blocks) != len(self.num_decoder_blocks):
            raise ConfigError("the encoder and the decoder must have as many stages (they down- and upsample)")
        values = [self.in_channels, self.out_channels, self.latent_channels, *self.encoder_block_out_channels,
                  *self.decoder_block_out_channels]
        if min(values) <= 0 or min(*self.num_encoder_blocks, *self.num_decoder_blocks) < 0:
            raise ConfigError("channel counts must be positive and block counts non-negative")
        if self.sample_size % self.downsampling:
            raise ConfigError(f"sample_size must be a multiple of {self.downsampling}, got {self.sample_size}")

    @property
    def downsampling(self) -> int:
        return 2 ** (len(self.num_encoder_blocks) - 1)


class TinyBlock(nn.Module):
    """Three 3×3 convs with ReLU between, plus the input, then ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1, bias=False) if c_in != c_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.conv(x) + self.skip(x))


class TinyEncoder(nn.Module):
    def __init__(self, c: AutoencoderTinyConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = c.in_channels
        for i, (channels, blocks) in enumerate(zip(c.encoder_block_out_channels, c.num_encoder_blocks)):
            if i == 0:
                layers.append(nn.Conv2d(previous, channels, 3, padding=1))
            else:
                layers.append(nn.Conv2d(previous, channels, 3, padding=1, stride=2, bias=False))
            layers += [TinyBlock(channels, channels) for _ in range(blocks)]
            previous = channels
        layers.append(nn.Conv2d(previous, c.latent_channels, 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.add(1).div(2))  # [-1, 1] → [0, 1], the TAESD convention


class TinyDecoder(nn.Module):
    def __init__(self, c: AutoencoderTinyConfig) -> None:
        super().__init__()
        channels = c.decoder_block_out_channels
        layers: list[nn.Module] = [nn.Conv2d(c.latent_channels, channels[0], 3, padding=1), nn.ReLU()]
        for i, blocks in enumerate(c.num_decoder_blocks):
            last = i == len(channels) - 1
            layers += [TinyBlock(channels[i], channels[i]) for _ in range(blocks)]
            if not last:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            layers.append(nn.Conv2d(channels[i], c.out_channels if last else channels[i + 1], 3, padding=1, bias=last))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.tanh(z / 3) * 3).mul(2).sub(1)  # [0, 1] → [-1, 1]


class AutoencoderTiny(TiledAutoencoder):
    config_class = AutoencoderTinyConfig
    # peak activations of an untiled float32 decode: 781 MiB max RSS at 1024x1024 less the process
    # (bench/bench_vae.py memory)
    working_bytes_per_pixel = 450.0

    def __init__(self, config: AutoencoderTinyConfig) -> None:
        super().__init__(config)
        self.encoder = TinyEncoder(config)
        self.decoder = TinyDecoder(config)

    # Channels-last inputs make every conv take oneDNN's / cuDNN's NHWC path (the weights are reordered
    # on the fly): 15-25 % faster on the CPU here (bench/bench_vae.py), outputs within 1e-6 of NCHW.
    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images.contiguous(memory_format=torch.channels_last)).contiguous()

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder(latents.contiguous(memory_format=torch.channels_last)).contiguous()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """decode(encode(images)) without diffusers' 8-bit latent rounding."""
        return self._decode(self._encode(images))
