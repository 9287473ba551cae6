"""Test helpers for zoo and its plugins."""

from .fakehub import FakeHub

__all__ = ["FakeHub"]
