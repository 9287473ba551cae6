"""The interface of the ``image-classifier`` task: images in [-1, 1] -> class scores."""

from __future__ import annotations

import abc

import torch

import zoo_core


class ImageClassifier(zoo_core.Model):
    """Scores each image for each of ``classes``."""

    task = "image-classifier"

    @property
    @abc.abstractmethod
    def classes(self) -> tuple[str, ...]:
        """The class names, in score order."""

    @property
    @abc.abstractmethod
    def input_channels(self) -> int:
        """Channels it reads."""

    @abc.abstractmethod
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Scores (N, len(classes)) for images (N, C, H, W) in [-1, 1]."""
