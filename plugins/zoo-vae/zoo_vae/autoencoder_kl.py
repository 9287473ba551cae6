"""The Stable Diffusion KL autoencoder, written for zoo, loading diffusers' ``AutoencoderKL`` files by key.

Encoder: conv_in, one down block per entry of ``block_out_channels`` (``layers_per_block``
resnet blocks, then a stride-2 conv except after the last), a mid block (resnet, single-head
self-attention, resnet), GroupNorm + SiLU + conv_out to the mean and log-variance of a
diagonal Gaussian (log-variance clamped to [-30, 20]), then the 1×1 ``quant_conv``.
Decoder: the 1×1 ``post_quant_conv``, conv_in, a mid block, up blocks in reverse order
(``layers_per_block + 1`` resnets, then nearest 2× upsampling and a conv except after the
last), GroupNorm + SiLU + conv_out. Every GroupNorm has eps 1e-6.

``scaling_factor`` is kept in the config and not applied inside ``encode``/``decode``: a
diffusion model multiplies latents by it, as in diffusers.

Files saved before mid-2023 (e.g. sd-vae-ft-mse) name the attention projections
``query``/``key``/``value``/``proj_attn``; newer ones (sdxl-vae) ``to_q``/``to_k``/``to_v``/
``to_out.0``. Both load strictly (``file_key_renames``).

float16: the SD/SDXL decoders' up blocks overflow float16 with real weights (SDXL's decodes to
NaN). With ``force_upcast`` (diffusers' default, on for both), a float16 model decodes the way
diffusers' pipelines' ``upcast_vae`` does: post_quant_conv, conv_in and the mid block stay in
float16, the up blocks and the output layers are held and run in float32, and the image is
returned in float16. bfloat16 has float32's range and is never upcast.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from zoo_core import ConfigError

from .tiled import TiledAutoencoder

__all__ = ["AutoencoderKLConfig", "AutoencoderKL", "LEGACY_ATTENTION_NAMES"]

EPS = 1e-6
#: old diffusers attention names → current ones (what diffusers' _convert_deprecated_attention_blocks does)
LEGACY_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


@dataclass
class AutoencoderKLConfig:
    in_channels: int = 3
    out_channels: int = 3
    latent_channels: int = 4
    block_out_channels: tuple[int, ...] = (128, 256, 512, 512)  # one down (and up) block each; 8x downsampling
    layers_per_block: int = 2  # resnets per down block (the up blocks have one more)
    norm_num_groups: int = 32
    scaling_factor: float = 0.18215  # what a diffusion model multiplies latents by; not applied here
    sample_size: int = 512  # side of the images `zoo run` decodes from random latents
    mid_block_add_attention: bool = True
    use_quant_conv: bool = True
    use_post_quant_conv: bool = True
    force_upcast: bool = True  # decode's up blocks run in float32 when the model is float16 (as diffusers)

    def __post_init__(self) -> None:
        if not self.block_out_channels:
            raise ConfigError("block_out_channels must not be empty")
        for name in ("in_channels", "out_channels", "latent_channels", "layers_per_block", "norm_num_groups"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        bad = [c for c in self.block_out_channels if c <= 0 or c % self.norm_num_groups]
        if bad:
            raise ConfigError(f"block_out_channels must be positive multiples of norm_num_groups "
                              f"({self.norm_num_groups}), got {list(self.block_out_channels)}")
        if self.sample_size % self.downsampling:
            raise ConfigError(f"sample_size must be a multiple of {self.downsampling}, got {self.sample_size}")

    @property
    def downsampling(self) -> int:
        return 2 ** (len(self.block_out_channels) - 1)


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups, channels, eps=EPS)


def _silu(x: torch.Tensor) -> torch.Tensor:
    """SiLU, in place when autograd records nothing: one full-resolution buffer less to allocate and fill
    (the same kernel, so the same bits as out of place)."""
    return F.silu(x, inplace=not torch.is_grad_enabled())


class ResnetBlock(nn.Module):
    """GroupNorm, SiLU, conv, GroupNorm, SiLU, conv, plus the (1×1-projected) input."""

    def __init__(self, c_in: int, c_out: int, groups: int) -> None:
        super().__init__()
        self.norm1 = _norm(c_in, groups)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = _norm(c_out, groups)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(_silu(self.norm1(x)))
        h = self.conv2(_silu(self.norm2(h)))
        shortcut = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return shortcut + h if torch.is_grad_enabled() else h.add_(shortcut)


class Attention(nn.Module):
    """Single-head self-attention over all positions, GroupNorm first, residual added."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.group_norm = _norm(channels, groups)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        # normalise the (N, C, HW) view, as diffusers does: GroupNorm's reduction order follows the
        # memory layout, and this keeps the two implementations equal bit for bit on every layout
        tokens = self.group_norm(x.reshape(n, c, h * w)).transpose(1, 2)  # (N, HW, C)
        q, k, v = (proj(tokens).unsqueeze(1) for proj in (self.to_q, self.to_k, self.to_v))  # (N, 1, HW, C)
        attended = F.scaled_dot_product_attention(q, k, v).squeeze(1)  # (N, HW, C)
        out = self.to_out[0](attended).transpose(1, 2).reshape(n, c, h, w)  # a view: channels-last strides
        return out + x  # out first, so the sum keeps its layout as in diffusers (the next convs then match it bit for bit)


class MidBlock(nn.Module):
    def __init__(self, channels: int, groups: int, attention: bool) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(channels, channels, groups), ResnetBlock(channels, channels, groups)])
        self.attentions = nn.ModuleList([Attention(channels, groups)]) if attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.resnets[0](x)
        if self.attentions is not None:
            x = self.attentions[0](x)
        return self.resnets[1](x)


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric padding, as the original LDM code


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, layers: int, groups: int, downsample: bool) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c_in if i == 0 else c_out, c_out, groups) for i in range(layers)])
        self.downsamplers = nn.ModuleList([Downsample(c_out)]) if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x)
        return x if self.downsamplers is None else self.downsamplers[0](x)


class UpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, layers: int, groups: int, upsample: bool) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c_in if i == 0 else c_out, c_out, groups) for i in range(layers)])
        self.upsamplers = nn.ModuleList([Upsample(c_out)]) if upsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x)
        return x if self.upsamplers is None else self.upsamplers[0](x)


class KLEncoder(nn.Module):
    def __init__(self, c: AutoencoderKLConfig) -> None:
        super().__init__()
        channels, groups = c.block_out_channels, c.norm_num_groups
        self.conv_in = nn.Conv2d(c.in_channels, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList([
            DownBlock(channels[max(i - 1, 0)], ch, c.layers_per_block, groups, downsample=i < len(channels) - 1)
            for i, ch in enumerate(channels)])
        self.mid_block = MidBlock(channels[-1], groups, c.mid_block_add_attention)
        self.conv_norm_out = _norm(channels[-1], groups)
        self.conv_out = nn.Conv2d(channels[-1], 2 * c.latent_channels, 3, padding=1)  # mean and log-variance

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(x)
        for block in self.down_blocks:
            x = block(x)
        x = self.mid_block(x)
        return self.conv_out(_silu(self.conv_norm_out(x)))  # (N, 2L, H/f, W/f)


class KLDecoder(nn.Module):
    def __init__(self, c: AutoencoderKLConfig) -> None:
        super().__init__()
        channels, groups = tuple(reversed(c.block_out_channels)), c.norm_num_groups
        self.conv_in = nn.Conv2d(c.latent_channels, channels[0], 3, padding=1)
        self.mid_block = MidBlock(channels[0], groups, c.mid_block_add_attention)
        self.up_blocks = nn.ModuleList([
            UpBlock(channels[max(i - 1, 0)], ch, c.layers_per_block + 1, groups, upsample=i < len(channels) - 1)
            for i, ch in enumerate(channels)])
        self.conv_norm_out = _norm(channels[-1], groups)
        self.conv_out = nn.Conv2d(channels[-1], c.out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.mid_block(self.conv_in(z))
        x = x.to(self.conv_out.weight.dtype)  # float32 here when the tail is upcast (see the module)
        for block in self.up_blocks:
            x = block(x)
        return self.conv_out(_silu(self.conv_norm_out(x))).to(z.dtype)  # (N, C, H, W), about [-1, 1]

    def upcast_tail(self) -> None:
        """Hold the up blocks and output layers in float32 (diffusers' ``upcast_vae``)."""
        for module in (self.up_blocks, self.conv_norm_out, self.conv_out):
            module.float()


class AutoencoderKL(TiledAutoencoder):
    """The SD / SDXL VAE; ``posterior`` gives the Gaussian's mean and log-variance, ``encode`` its mean."""

    config_class = AutoencoderKLConfig
    # peak activations of an untiled float32 decode: 3,841 MiB max RSS at 1024x1024 less the
    # process and weights (bench/bench_vae.py memory); the core refuses larger runs and says --tile
    working_bytes_per_pixel = 3300.0

    def __init__(self, config: AutoencoderKLConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = KLEncoder(c)
        self.decoder = KLDecoder(c)
        self.quant_conv = nn.Conv2d(2 * c.latent_channels, 2 * c.latent_channels, 1) if c.use_quant_conv else None
        self.post_quant_conv = nn.Conv2d(c.latent_channels, c.latent_channels, 1) if c.use_post_quant_conv else None

    def file_key_renames(self, file_keys: Collection[str]) -> dict[str, str]:
        renames = {}
        for key in file_keys:
            module, _, leaf = key.rpartition(".")  # e.g. encoder.mid_block.attentions.0.query / weight
            path, _, name = module.rpartition(".")
            if ".attentions." in key and name in LEGACY_ATTENTION_NAMES:
                renames[key] = f"{path}.{LEGACY_ATTENTION_NAMES[name]}.{leaf}"
        return renames

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance (clamped to [-30, 20]) of q(z|x), each (N, L, H/f, W/f)."""
        moments = self.encoder(images)
        if self.quant_conv is not None:
            moments = self.quant_conv(moments)
        mean, logvar = moments.chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.posterior(images)[0]

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        if self.config.force_upcast and self.decoder.conv_out.weight.dtype == torch.float16:
            self.decoder.upcast_tail()  # once, on the first float16 decode
        if self.post_quant_conv is not None:
            latents = self.post_quant_conv(latents)
        return self.decoder(latents)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """decode(posterior mean), unclamped: what diffusers' ``AutoencoderKL.forward`` returns."""
        return self._decode(self._encode(images))

    @property
    def latent_scale(self) -> float:
        return self.config.scaling_factor
