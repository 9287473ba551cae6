"""DCGAN (Radford, Metz & Chintala 2015) and its class-conditional variant.

The generator maps z ~ N(0, I) through strided transposed convolutions, each followed by
BatchNorm and ReLU, to a tanh image; the discriminator mirrors it with strided
convolutions and LeakyReLU(0.2), no BatchNorm on its first layer. Image sizes 28, 32 and
64 start from a 7×7 (28) or 4×4 (32, 64) map and double until they reach the size.
The conditional variant concatenates a learned label embedding to z, adds a projection
term <embed(y), φ(x)> to the discriminator's logit (Miyato & Koyama 2018), and gives the
discriminator an auxiliary class head trained with cross-entropy (AC-GAN, Odena et al. 2017).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

import zoo_core
from zoo_core import ConfigError, InputError

__all__ = ["DCGANConfig", "DCGAN", "DCGANGenerator", "DCGANDiscriminator"]


@dataclass
class DCGANConfig:
    image_size: int = 32  # 28, 32 or 64; Fashion-MNIST's 28x28 is padded to 32 for training
    channels: int = 1  # 1 = greyscale, 3 = RGB
    latent_dim: int = 100  # size of z, as in the paper
    width: int = 64  # feature maps of the generator's last / discriminator's first block (ngf = ndf)
    num_classes: int = 0  # > 0 makes the model class-conditional

    def __post_init__(self) -> None:
        if self.image_size not in (28, 32, 64):
            raise ConfigError(f"image_size must be 28, 32 or 64, got {self.image_size}")
        for name in ("channels", "latent_dim", "width"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.num_classes < 0:
            raise ConfigError(f"num_classes must be >= 0, got {self.num_classes}")

    @property
    def base_size(self) -> int:
        """Side of the first feature map: 7 for 28×28 images, else 4."""
        return 7 if self.image_size == 28 else 4

    @property
    def stages(self) -> int:
        """Number of 2× upsamplings from the base map to the image."""
        return int(math.log2(self.image_size // self.base_size))


class DCGANGenerator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        c = config
        self.embed = nn.Embedding(c.num_classes, c.latent_dim) if c.num_classes else None
        in_channels = c.latent_dim * (2 if c.num_classes else 1)
        channels = c.width * 2 ** (c.stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_channels, channels, c.base_size, 1, 0, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        ]
        for _ in range(c.stages - 1):
            layers += [nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(channels // 2), nn.ReLU(inplace=True)]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, c.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self._clear_fused()

    def _clear_fused(self) -> None:
        # kept outside nn.Module's registry so the folded copy never enters state_dict()
        object.__setattr__(self, "_fused", None)
        object.__setattr__(self, "_fused_key", None)

    def inputs(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise InputError("this generator is class-conditional: give labels")
            z = torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)
        return z[:, :, None, None]  # (N, in, 1, 1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.inputs(z, labels)
        if self.training or torch.is_grad_enabled():
            # the fused copy is detached from the weights: with autograd on (fine-tuning in eval
            # mode), the plain network keeps gradients flowing to them
            return self.net(x)  # (N, C, H, W) in [-1, 1]
        return self.fused()(x.contiguous(memory_format=torch.channels_last))

    def train(self, mode: bool = True) -> DCGANGenerator:
        self._clear_fused()  # weights may change while training; refold when back in eval
        return super().train(mode)

    def fused(self) -> nn.Sequential:
        """The inference network: BatchNorm folded into each transposed convolution.

        Folding removes a full pass over every feature map per layer; the result equals the
        eval-mode network up to float rounding. Built on first use, kept until ``train()``.
        """
        if self._fused is None or self._fused_key != self._key():
            with torch.inference_mode(False), torch.no_grad():  # plain tensors even when built in sample()
                fused = self._fold_all()
            object.__setattr__(self, "_fused", fused)
            object.__setattr__(self, "_fused_key", self._key())
            return fused
        return self._fused  # type: ignore[return-value]  # set through object.__setattr__ (not a submodule)

    def _fold_all(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        modules = list(self.net)
        i = 0
        while i < len(modules):
            conv = modules[i]
            norm = modules[i + 1] if i + 1 < len(modules) else None
            if isinstance(conv, nn.ConvTranspose2d) and isinstance(norm, _BatchNorm):  # SyncBatchNorm too (DDP)
                layers.append(_fold(conv, norm))
                i += 2
            else:  # a copy: converting it to channels-last must not touch the trained module
                layers.append(copy.deepcopy(conv))
                i += 1
        fused = nn.Sequential(*layers).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return fused.eval().requires_grad_(False)  # (torch's stubs omit Module.to's memory_format)

    def _key(self) -> tuple:
        # every weight and BatchNorm statistic: a partial load_state_dict or an in-place edit of
        # any one of them must refold, not only a change of the first layer
        key = []
        for tensor in (*self.net.parameters(), *self.net.buffers()):
            try:
                version = tensor._version  # bumped by in-place updates (optimizer steps, load_state_dict)
            except RuntimeError:  # inference tensors have no version counter and cannot change in place
                version = -1
            key.append((tensor.device, tensor.dtype, tensor.data_ptr(), version))
        return tuple(key)


def _fold(conv: nn.ConvTranspose2d, norm: _BatchNorm) -> nn.ConvTranspose2d:
    # DCGAN's BatchNorms are affine and track statistics: every one of these is a tensor
    assert norm.weight is not None and norm.bias is not None
    assert norm.running_var is not None and norm.running_mean is not None
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # (out,)
    kernel, stride, padding = (tuple(conv.kernel_size), tuple(conv.stride), conv.padding)
    fused = nn.ConvTranspose2d(conv.in_channels, conv.out_channels, kernel, stride, padding,  # type: ignore[arg-type]
                               bias=True, device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(1, -1, 1, 1))  # ConvTranspose weight: (in, out, kh, kw)
        assert fused.bias is not None
        fused.bias.copy_(norm.bias - norm.running_mean * scale)
    fused.requires_grad_(False)
    return fused


class DCGANDiscriminator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        c = config
        channels = c.width
        layers: list[nn.Module] = [nn.Conv2d(c.channels, channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(c.stages - 1):
            layers += [nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(channels * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            channels *= 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, 1, c.base_size, 1, 0)
        self.embed = nn.Embedding(c.num_classes, channels) if c.num_classes else None
        # auxiliary classifier (Odena et al. 2017): the discriminator also names the class,
        # so the generator is pushed to make each requested class recognisable
        self.classify = nn.Linear(channels, c.num_classes) if c.num_classes else None
        if self.embed is not None:
            # <embed(y), φ(x)> sums C0·base² terms: a N(0, 1) start gives logits in the tens and
            # the first steps blow up; start it on the DCGAN scale instead
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None, *, with_classes: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None]:
        """Real/fake logits (N,); with ``with_classes`` also the conditional model's class logits."""
        phi = self.features(images)  # (N, C0, base, base)
        logits = self.head(phi).flatten()  # (N,)
        if self.embed is None:
            return (logits, None) if with_classes else logits
        if labels is None:
            raise InputError("this discriminator is class-conditional: give labels")
        pooled = phi.sum(dim=(2, 3))  # (N, C0)
        logits = logits + (self.embed(labels) * pooled).sum(dim=1)  # projection term
        if not with_classes:
            return logits
        assert self.classify is not None  # conditional (embed is set) means it classifies too
        return logits, self.classify(pooled / phi[0, 0].numel())  # (N,), (N, num_classes)


class DCGAN(zoo_core.Generator):
    """Generator and discriminator together: ``sample`` uses the first, ``score`` the second."""

    config_class = DCGANConfig
    #: The generator's activations per output pixel at the peak of a float32 pass (measured:
    #: bench/bench_memory_plan.py, 'zoo run dcgan-fashion --num 5000 --out grid.png' peaked at
    #: 99 KB an image, 24 images' worth, while the plan without it counted 8 KB).
    working_bytes_per_pixel = 100.0

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__(config)
        self.generator = DCGANGenerator(config)
        self.discriminator = DCGANDiscriminator(config)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.latent_dim,)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.image_size, self.config.image_size)

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(latents, labels).contiguous()

    @torch.inference_mode()
    def score(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's logits (N,): higher means 'looks real' to it."""
        return self.discriminator(images.to(self.device, self.dtype), labels)
