"""RRDBNet, the ESRGAN / Real-ESRGAN generator (Wang et al. 2018, 2021), as an image-to-image model.

Residual-in-residual dense blocks at the input resolution, then nearest-neighbour upsampling
by 2 twice, each followed by a convolution. It loads Real-ESRGAN's files by key, strictly:
basicsr's names (``conv_first``, ``body.N.rdbK.convM``, ``conv_body``, ``conv_up1``,
``conv_up2``, ``conv_hr``, ``conv_last``) and the old ESRGAN names (``model.0``,
``model.1.sub.N.RDBk.convM.0``, ``model.1.sub.NB``, ``model.3``, ``model.6``, ``model.8``,
``model.10``) that files such as 4x-UltraSharp use. The network works on [0, 1]; zoo's
[-1, 1] images are mapped in and out, and the result is clamped as Real-ESRGAN's own
inference clamps it. Fully convolutional: any size, tiled by the core with ``--tile``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import zoo_core
from zoo_core import ConfigError

__all__ = ["RRDBNet", "RRDBNetConfig"]

_OLD_BODY = re.compile(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)")


@dataclass
class RRDBNetConfig:
    in_channels: int = 3
    out_channels: int = 3
    num_feat: int = 64  # channels through the network
    num_block: int = 23  # RRDB blocks (x4plus: 23; the anime 6B model: 6)
    num_grow_ch: int = 32  # channels each dense layer adds
    scale: int = 4  # 4 only: the x2/x1 variants pixel-unshuffle their input and are not wired here

    def __post_init__(self) -> None:
        if self.scale != 4:
            raise ConfigError(f"scale: only 4 is supported, got {self.scale}")
        for name in ("in_channels", "out_channels", "num_feat", "num_block", "num_grow_ch"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}: must be positive, got {getattr(self, name)}")


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing all earlier outputs; the result scaled by 0.2 and added."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        for i in range(1, 5):
            setattr(self, f"conv{i}", nn.Conv2d(num_feat + (i - 1) * num_grow_ch, num_grow_ch, 3, 1, 1))
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for i in range(1, 5):
            conv = getattr(self, f"conv{i}")
            features.append(F.leaky_relu(conv(torch.cat(features, 1)), 0.2))  # (N, grow, H, W)
        return self.conv5(torch.cat(features, 1)) * 0.2 + x  # (N, feat, H, W)


class RRDB(nn.Module):
    """Three dense blocks in a row, with a residual of their own scaled by 0.2."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(zoo_core.ImageToImage):
    config_class = RRDBNetConfig
    scale = 4
    # peak activations of one float32 pass per output pixel: 891-920 bytes at 32-128 px inputs
    # (python bench/bench_upscale.py memory)
    working_bytes_per_pixel = 920.0

    def __init__(self, config: RRDBNetConfig) -> None:
        super().__init__(config)
        c = config
        self.conv_first = nn.Conv2d(c.in_channels, c.num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(c.num_feat, c.num_grow_ch) for _ in range(c.num_block)])
        self.conv_body = nn.Conv2d(c.num_feat, c.num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(c.num_feat, c.num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(c.num_feat, c.num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(c.num_feat, c.num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(c.num_feat, c.out_channels, 3, 1, 1)

    @property
    def input_channels(self) -> int:
        return self.config.in_channels

    @property
    def output_channels(self) -> int:
        return self.config.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network as published: images (N, C, H, W) in [0, 1] -> (N, C_out, 4H, 4W), unclamped."""
        feat = self.conv_first(x)  # (N, feat, H, W)
        feat = feat + self.conv_body(self.body(feat))
        feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)  # 2H
        feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)  # 4H
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))  # (N, C_out, 4H, 4W)

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        if self.conv_first.weight.is_contiguous():  # once: channels-last convolutions run ~20% faster on CPUs
            self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs omit it
        x = ((images + 1) / 2).contiguous(memory_format=torch.channels_last)
        return self.forward(x).clamp(0, 1) * 2 - 1  # Real-ESRGAN's inference clamps to [0, 1]

    def file_key_renames(self, file_keys: Collection[str]) -> dict[str, str]:
        """Old ESRGAN names (``model.N...``) mapped to basicsr's; files in basicsr's layout need none."""
        if "conv_first.weight" in file_keys or "model.0.weight" not in file_keys:
            return {}
        nb = self.config.num_block
        plain = {"model.0": "conv_first", f"model.1.sub.{nb}": "conv_body", "model.3": "conv_up1",
                 "model.6": "conv_up2", "model.8": "conv_hr", "model.10": "conv_last"}
        renames = {}
        for key in file_keys:
            body = _OLD_BODY.fullmatch(key)
            if body:
                block, rdb, conv, kind = body.groups()
                renames[key] = f"body.{block}.rdb{rdb}.conv{conv}.{kind}"
                continue
            prefix, _, kind = key.rpartition(".")
            if prefix in plain:
                renames[key] = f"{plain[prefix]}.{kind}"
        return renames
