"""AuraSR (fal's GigaGAN upsampler, Kang et al. 2023): 64-pixel tiles in, 4x out.

A U-Net whose 3x3 convolutions are style-modulated (StyleGAN2 modulation and demodulation,
with a softmax choice among several kernels per layer), driven by a style vector a small
MLP makes from noise; full self-attention at the two coarsest levels. It loads fal's
``model.safetensors`` by key, strictly; the parameter names follow the published file.

The published network draws its noise from torch's global generator (a 128-d style noise,
and ``randn_like(x) * 0.001`` added to the input). Here both come from ``seed`` through a
CPU generator and are then moved, so the same seed gives the same output on any device,
and every tile of an image gets the same style. The model takes exactly
``input_image_size``-pixel inputs; the core runs it tile by tile (``process``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

import zoo_core
from zoo_core import ConfigError

__all__ = ["AuraSR", "AuraSRConfig", "StyleNetworkConfig"]


@dataclass
class StyleNetworkConfig:
    dim_in: int = 128  # style noise size
    dim_out: int = 512  # style vector size
    depth: int = 8  # linear layers of the mapping network (AuraSR-v2: 4)
    lr_mul: float = 0.1  # equalised learning rate: weights are stored divided by it


@dataclass
class AuraSRConfig:
    """The keys of AuraSR's ``config.json`` (``zoo info aura-sr-v2`` shows the registry's)."""

    dim: int = 64  # channels at the output resolution
    image_size: int = 256  # output side it was trained for
    input_image_size: int = 64  # input tile side
    init_dim: int | None = None  # channels of the first upsampling stage (default: dim)
    out_dim: int | None = None  # unused by the network (kept: it is in config.json)
    style_network: StyleNetworkConfig = field(default_factory=StyleNetworkConfig)
    up_dim_mults: tuple[int, ...] = (1, 2, 4, 8, 16)
    down_dim_mults: tuple[int, ...] = (4, 8, 16)
    channels: int = 3
    resnet_block_groups: int = 8  # unused by the network (kept: it is in config.json)
    full_attn: tuple[bool, ...] = (False, False, False, True, True)
    flash_attn: bool = True  # scaled_dot_product_attention either way: the same arithmetic
    self_attn_dim_head: int = 64
    self_attn_heads: int = 8
    attn_depths: tuple[int, ...] = (2, 2, 2, 2, 4)
    mid_attn_depth: int = 4
    num_conv_kernels: int = 4  # kernels each modulated convolution chooses among
    resize_mode: str = "bilinear"  # unused by the network
    unconditional: bool = True
    skip_connect_scale: float | None = None  # AuraSR-v2: 0.4 (default 1/sqrt(2))

    def __post_init__(self) -> None:
        if len(self.up_dim_mults) != len(self.full_attn) or len(self.up_dim_mults) != len(self.attn_depths):
            raise ConfigError("up_dim_mults, full_attn and attn_depths must have one value per level")
        if len(self.down_dim_mults) >= len(self.up_dim_mults):
            raise ConfigError("down_dim_mults must have fewer levels than up_dim_mults")
        for name in ("image_size", "input_image_size"):
            value = getattr(self, name)
            if value <= 0 or value & (value - 1):
                raise ConfigError(f"{name}: must be a power of two, got {value}")
        if self.input_image_size >= self.image_size:
            raise ConfigError("input_image_size must be smaller than image_size")
        if self.input_image_size % 2 ** len(self.down_dim_mults):
            raise ConfigError(f"input_image_size must be a multiple of {2 ** len(self.down_dim_mults)} "
                              "(one halving per down level)")
        if not self.unconditional:
            raise ConfigError("unconditional: only the unconditional upsampler is supported")


class ModulatedConv(nn.Module):
    """A 3x3 convolution whose kernel is a softmax mix of ``kernels`` kernels, scaled per input channel
    by the style and demodulated (StyleGAN2), applied per sample as a grouped convolution."""

    def __init__(self, dim: int, dim_out: int, kernels: int, kernel: int = 3, eps: float = 1e-8) -> None:
        super().__init__()
        self.kernel, self.eps = kernel, eps
        self.adaptive = kernels > 1
        self.weights = nn.Parameter(torch.empty(max(kernels, 1), dim_out, dim, kernel, kernel))
        nn.init.kaiming_normal_(self.weights, a=0, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x: torch.Tensor, mod: torch.Tensor, kernel_mod: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        if self.adaptive:
            attn = kernel_mod.softmax(dim=-1)  # (b, kernels)
            weights = torch.einsum("bn,noikl->boikl", attn, self.weights)  # (b, out, in, k, k)
        else:
            weights = self.weights.expand(b, *self.weights.shape[1:])
        weights = weights * (mod[:, None, :, None, None] + 1)
        inv_norm = weights.pow(2).sum(dim=(2, 3, 4), keepdim=True).clamp(min=self.eps).rsqrt()
        weights = weights * inv_norm
        out = F.conv2d(x.reshape(1, -1, *x.shape[2:]), weights.reshape(-1, *weights.shape[2:]),
                       padding=(self.kernel - 1) // 2, groups=b)  # (1, b*out, H, W)
        return out.reshape(b, -1, *out.shape[2:])


class Block(nn.Module):
    def __init__(self, dim: int, dim_out: int, kernels: int) -> None:
        super().__init__()
        self.proj = ModulatedConv(dim, dim_out, kernels)

    def forward(self, x: torch.Tensor, mods: Iterator[torch.Tensor]) -> torch.Tensor:
        return F.silu(self.proj(x, next(mods), next(mods)))


class ResnetBlock(nn.Module):
    """Two modulated blocks and a residual (a 1x1 convolution when the width changes)."""

    def __init__(self, dim: int, dim_out: int, kernels: int, style_dims: list[int]) -> None:
        super().__init__()
        style_dims.extend([dim, kernels, dim_out, kernels])  # the style slices it consumes, in order
        self.block1 = Block(dim, dim_out, kernels)
        self.block2 = Block(dim_out, dim_out, kernels)
        self.res_conv: nn.Module = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, mods: Iterator[torch.Tensor]) -> torch.Tensor:
        return self.block2(self.block1(x, mods), mods) + self.res_conv(x)


class RMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)


class Attend(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))  # in the published file, unused by its forward


class Attention(nn.Module):
    """Multi-head self-attention over every position of a feature map."""

    def __init__(self, dim: int, dim_head: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = RMSNorm(dim)
        self.attend = Attend()
        self.to_qkv = nn.Conv2d(dim, dim_head * heads * 3, 1, bias=False)
        self.to_out = nn.Conv2d(dim_head * heads, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q, k, v = self.to_qkv(self.norm(x)).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, -1, h * w).transpose(-1, -2) for t in (q, k, v))  # (b, heads, hw, d)
        out = F.scaled_dot_product_attention(q.contiguous(), k.contiguous(), v.contiguous())
        return self.to_out(out.transpose(-1, -2).reshape(b, -1, h, w))


class Transformer(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int, depth: int, ff_mult: int = 4) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.ModuleList([
            Attention(dim, dim_head, heads),
            nn.Sequential(RMSNorm(dim), nn.Conv2d(dim, dim * ff_mult, 1), nn.GELU(), nn.Conv2d(dim * ff_mult, dim, 1)),
        ]) for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attend, feed_forward in cast(Any, self.layers):
            x = attend(x) + x
            x = feed_forward(x) + x
        return x


class Upsample(nn.Module):
    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class EqualLinear(nn.Module):
    def __init__(self, dim: int, dim_out: int, lr_mul: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(dim_out, dim))
        self.bias = nn.Parameter(torch.zeros(dim_out))
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.lr_mul, bias=self.bias * self.lr_mul)


class StyleNetwork(nn.Module):
    def __init__(self, c: StyleNetworkConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(c.depth):
            layers += [EqualLinear(c.dim_in if i == 0 else c.dim_out, c.dim_out, c.lr_mul), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.net(F.normalize(noise, dim=1))


class AuraSR(zoo_core.ImageToImage):
    config_class = AuraSRConfig
    default_tile_overlap = 8
    # peak activations of a float32 pass over one 64-pixel tile, per output pixel: 225 MiB / 256^2
    # (python bench/bench_upscale.py memory)
    working_bytes_per_pixel = 3600.0

    def __init__(self, config: AuraSRConfig) -> None:
        super().__init__(config)
        c = config
        self.fixed_input_size = c.input_image_size  # type: ignore[misc]
        self.scale = c.image_size // c.input_image_size  # type: ignore[misc]
        self.style_network = StyleNetwork(c.style_network)
        kernels = c.num_conv_kernels
        init_dim = c.init_dim or c.dim
        up_dims = [init_dim, *(c.dim * m for m in c.up_dim_mults)]
        init_down_dim = up_dims[len(c.up_dim_mults) - len(c.down_dim_mults)]
        down_dims = [init_down_dim, *(c.dim * m for m in c.down_dim_mults)]
        self.init_conv = nn.Conv2d(c.channels, init_down_dim, 7, padding=3)
        self.skip_connect_scale = c.skip_connect_scale if c.skip_connect_scale is not None else 2 ** -0.5
        style_dims: list[int] = []
        blocks_per_level = 6

        def attention(width: int, full: bool, depth: int) -> Any:  # a Transformer, or None (ModuleList keeps it)
            return Transformer(width, c.self_attn_dim_head, c.self_attn_heads, depth) if full else None

        self.downs = nn.ModuleList()
        for (dim_in, dim_out), full, depth in zip(zip(down_dims[:-1], down_dims[1:]), c.full_attn, c.attn_depths):
            self.downs.append(nn.ModuleList([
                nn.ModuleList(ResnetBlock(dim_in, dim_in, kernels, style_dims) for _ in range(blocks_per_level)),
                nn.ModuleList([attention(dim_in, full, depth), nn.Conv2d(dim_in, dim_out, 3, stride=2, padding=1)]),
            ]))
        mid_dim = up_dims[-1]
        self.mid_block1 = ResnetBlock(mid_dim, mid_dim, kernels, style_dims)
        self.mid_attn = Transformer(mid_dim, c.self_attn_dim_head, c.self_attn_heads, c.mid_attn_depth)
        self.mid_block2 = ResnetBlock(mid_dim, mid_dim, kernels, style_dims)
        levels = list(zip(reversed(list(zip(up_dims[:-1], up_dims[1:]))), reversed(c.full_attn),
                          reversed(c.attn_depths)))
        self.ups = nn.ModuleList()
        skips = len(down_dims) - 1  # up levels that take skip connections
        for index, ((dim_in, dim_out), full, depth) in enumerate(levels):
            width = dim_in * 2 if index < skips else dim_in
            self.ups.append(nn.ModuleList([
                nn.ModuleList(ResnetBlock(width, dim_in, kernels, style_dims) for _ in range(blocks_per_level)),
                nn.ModuleList([Upsample(mid_dim if index == 0 else dim_out, dim_in), attention(dim_in, full, depth)]),
            ]))
        self.final_res_block = ResnetBlock(c.dim, c.dim, kernels, style_dims)
        self.final_to_rgb = nn.Conv2d(c.dim, c.channels, 1)
        self.style_to_conv_modulations = nn.Linear(c.style_network.dim_out, sum(style_dims))
        self.style_split = style_dims

    @property
    def input_channels(self) -> int:
        return self.config.channels

    def noise(self, batch: int, shape: torch.Size, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The style noise (batch, dim_in) and the input noise (of ``shape``) for ``seed``, drawn in that order
        on the CPU; the published code draws the same from torch's global generator."""
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        style = torch.randn((batch, self.config.style_network.dim_in), generator=generator)
        jitter = torch.randn(tuple(shape), generator=generator) * 0.001
        return style.to(self.device, self.dtype), jitter.to(self.device, self.dtype)

    def forward(self, x: torch.Tensor, style_noise: torch.Tensor, jitter: torch.Tensor) -> torch.Tensor:
        """The network as published: tiles (N, C, S, S) in [0, 1] -> (N, C, 4S, 4S), unclamped."""
        x = (x + jitter).clamp(0, 1)
        mods = iter(self.style_to_conv_modulations(self.style_network(style_noise)).split(self.style_split, dim=-1))
        x = self.init_conv(x)
        skips = []
        for blocks, (attend, downsample) in cast(Any, self.downs):
            for block in blocks:
                x = block(x, mods)
                skips.append(x)
            if attend is not None:
                x = attend(x)
            x = downsample(x)  # half the size
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, mods)), mods)
        for blocks, (upsample, attend) in cast(Any, self.ups):
            x = upsample(x)  # twice the size
            for block in blocks:
                if skips:
                    x = torch.cat((x, skips.pop() * self.skip_connect_scale), dim=1)
                x = block(x, mods)
            if attend is not None:
                x = attend(x)
        return self.final_to_rgb(self.final_res_block(x, mods))

    def transform(self, images: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """``--seed`` chooses the style noise: the same seed gives the same upscale everywhere."""
        x = (images + 1) / 2
        style, jitter = self.noise(x.shape[0], x.shape, seed)
        return self.forward(x, style, jitter).clamp(0, 1) * 2 - 1  # the published inference clamps to [0, 1]

    @staticmethod
    def parameters_for(config: AuraSRConfig) -> int:
        """How many parameters the network of ``config`` has (without allocating it)."""
        with torch.device("meta"):
            model = AuraSR(config)
        return sum(p.numel() for p in model.parameters())

