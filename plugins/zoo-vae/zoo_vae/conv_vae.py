"""A convolutional VAE (Kingma & Welling 2014) for small greyscale or RGB images.

The encoder maps an image to the mean and log-variance of a diagonal Gaussian posterior
q(z|x); a latent is drawn with the reparameterisation trick z = mu + sigma * eps; the
decoder maps z to the parameters of p(x|z): Bernoulli logits per pixel (targets are grey
levels in [0, 1]) or the mean of a Gaussian with one learned scale. The prior is N(0, I).

Images enter and leave in zoo's [-1, 1] range; the likelihood sees them as p = (x + 1) / 2.
``decode`` returns the decoder's mean image (Bernoulli: the pixel probabilities).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

import zoo_core
from zoo_core import ConfigError, InputError

__all__ = ["ConvVAEConfig", "ConvVAE", "gaussian_kl", "LIKELIHOODS"]

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2 * math.pi)


@dataclass
class ConvVAEConfig:
    image_size: int = 28  # side of the square input; a multiple of 4 (two stride-2 convolutions)
    channels: int = 1  # 1 = greyscale, 3 = RGB
    latent_dim: int = 32  # size of z
    width: int = 32  # channels of the first conv; the second has twice as many
    hidden: int = 512  # the fully connected layer between the conv stack and (mu, log-variance)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" on grey levels in [0, 1], or "gaussian"

    def __post_init__(self) -> None:
        if self.image_size < 4 or self.image_size % 4:
            raise ConfigError(f"image_size must be a positive multiple of 4, got {self.image_size}")
        for name in ("channels", "latent_dim", "width", "hidden"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}")


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over the latent dimensions: (N,) in nats."""
    return 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar).sum(dim=1)


class ConvVAE(zoo_core.Autoencoder):
    """Conv encoder to (mu, log-variance), MLP + transposed-conv decoder to p(x|z)."""

    config_class = ConvVAEConfig

    def __init__(self, config: ConvVAEConfig) -> None:
        super().__init__(config)
        c = config
        side = c.image_size // 4
        flat = 2 * c.width * side * side
        self.encoder = nn.Sequential(
            nn.Conv2d(c.channels, c.width, 4, 2, 1), nn.SiLU(),  # (N, w, S/2, S/2)
            nn.Conv2d(c.width, 2 * c.width, 4, 2, 1), nn.SiLU(),  # (N, 2w, S/4, S/4)
            nn.Flatten(), nn.Linear(flat, c.hidden), nn.SiLU(),  # (N, hidden)
        )
        self.posterior_head = nn.Linear(c.hidden, 2 * c.latent_dim)  # (N, 2 * latent): mean, log-variance
        self.decoder = nn.Sequential(
            nn.Linear(c.latent_dim, c.hidden), nn.SiLU(),
            nn.Linear(c.hidden, flat), nn.SiLU(),
            nn.Unflatten(1, (2 * c.width, side, side)),  # (N, 2w, S/4, S/4)
            nn.ConvTranspose2d(2 * c.width, c.width, 4, 2, 1), nn.SiLU(),  # (N, w, S/2, S/2)
            nn.ConvTranspose2d(c.width, c.channels, 4, 2, 1),  # (N, C, S, S): logits or means
        )
        # the Gaussian decoder's log standard deviation (in [0, 1] pixel units), shared by all pixels
        self.log_scale = nn.Parameter(torch.zeros(())) if c.likelihood == "gaussian" else None

    # -- interfaces ----------------------------------------------------------------------------
    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.latent_dim,)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.image_size, self.config.image_size)

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.config.image_size, self.config.image_size)  # fully connected layers: one size only

    def check_images(self, images: torch.Tensor) -> None:
        expected = self.image_shape
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise InputError(f"this VAE takes images of shape (N, {', '.join(map(str, expected))}), "
                             f"got {tuple(images.shape)}")

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x), each (N, latent_dim), for images in [-1, 1]."""
        mean, logvar = self.posterior_head(self.encoder(images)).chunk(2, dim=1)
        return mean, logvar

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.posterior(images)[0]

    def decoder_output(self, latents: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits, or Gaussian means in [0, 1] pixel units: (N, C, S, S)."""
        return self.decoder(latents)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            raise InputError("this VAE is unconditional; it takes no label")
        out = self.decoder_output(latents)
        mean = torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out.clamp(0, 1)
        return mean * 2 - 1

    # -- the ELBO --------------------------------------------------------------------------------
    def log_likelihood(self, images: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over pixels, (N,) in nats, for images in [-1, 1] and decoder output."""
        target = (images + 1) / 2  # grey levels in [0, 1]
        if self.config.likelihood == "bernoulli":
            # x log p + (1 - x) log(1 - p) with p = sigmoid(logit): a cross-entropy on grey levels
            per_pixel = -F.binary_cross_entropy_with_logits(output, target, reduction="none")
        else:
            log_scale = self.log_scale
            assert log_scale is not None  # a Gaussian likelihood always has its learned scale
            per_pixel = -0.5 * ((target - output) / log_scale.exp()).square() - log_scale - 0.5 * _LOG_2PI
        return per_pixel.flatten(1).sum(dim=1)

    def elbo_terms(self, images: torch.Tensor, *, generator: torch.Generator | None = None
                   ) -> dict[str, torch.Tensor]:
        """One-sample reconstruction term E_q[log p(x|z)] and the closed-form KL, each (N,) in nats."""
        mean, logvar = self.posterior(images)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device if generator is None else "cpu")
        z = mean + (0.5 * logvar).exp() * noise.to(mean)  # the reparameterisation trick
        return {"log_likelihood": self.log_likelihood(images, self.decoder_output(z)),
                "kl": gaussian_kl(mean, logvar)}

    def forward(self, images: torch.Tensor, beta: float = 1.0) -> dict[str, torch.Tensor]:
        """The training loss: mean over the batch of -E_q[log p(x|z)] + beta * KL (nats per image)."""
        terms = self.elbo_terms(images)
        reconstruction = -terms["log_likelihood"].mean()
        kl = terms["kl"].mean()
        return {"loss": reconstruction + beta * kl, "reconstruction": reconstruction, "kl": kl}

    @torch.no_grad()
    def iwae_log_likelihood(self, images: torch.Tensor, k: int, *, generator: torch.Generator | None = None,
                            decode_batch: int = 8192) -> torch.Tensor:
        """The importance-weighted bound (Burda et al. 2016) on log p(x), (N,) in nats, with k samples.

        log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x); it tightens towards log p(x) as k grows
        and equals the ELBO in expectation at k = 1.
        """
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        mean, logvar = self.posterior(images)
        std = (0.5 * logvar).exp()
        n, d = mean.shape
        chunk = max(1, decode_batch // n)  # importance samples per decoder pass: about decode_batch images
        weights = []
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            eps = torch.randn((m, n, d), generator=generator, device="cpu" if generator is not None else mean.device)
            eps = eps.to(mean)
            z = mean + std * eps  # (m, N, d)
            log_q = (-0.5 * eps.square() - 0.5 * logvar - 0.5 * _LOG_2PI).sum(-1)  # (m, N)
            log_prior = (-0.5 * z.square() - 0.5 * _LOG_2PI).sum(-1)
            output = self.decoder_output(z.reshape(m * n, d))
            repeated = images.unsqueeze(0).expand(m, *images.shape).reshape(m * n, *images.shape[1:])
            log_px = self.log_likelihood(repeated, output).reshape(m, n)
            weights.append(log_px + log_prior - log_q)
        return torch.logsumexp(torch.cat(weights).double(), dim=0) - math.log(k)

    @torch.inference_mode()
    def interpolate_images(self, first: torch.Tensor, second: torch.Tensor, frames: int = 8) -> torch.Tensor:
        """Decode ``frames`` latents on the straight line between the posterior means of two images."""
        if frames < 2:
            raise InputError(f"frames must be at least 2, got {frames}")
        pair = torch.cat([first.reshape(1, *first.shape[-3:]), second.reshape(1, *second.shape[-3:])])
        self.check_images(pair)
        a, b = self.encode(pair.to(self.device, self.dtype))
        t = torch.linspace(0, 1, frames, device=a.device, dtype=a.dtype)[:, None]
        return self.decode(a + (b - a) * t).clamp(-1, 1)
