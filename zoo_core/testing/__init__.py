"""Test helpers for zoo and its plugins."""

from .fakehub import FakeHub
from .layouts import safetensors_size, state_layout

__all__ = ["FakeHub", "safetensors_size", "state_layout"]
