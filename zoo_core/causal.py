"""The causal-analyzer interface. Torch-free: analyzers start fast and need no GPU stack."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["CausalAnalyzer", "AnalysisResult"]


@dataclass
class AnalysisResult:
    """An analyzer's answer: ``data`` is JSON-ready (``zoo run --json``), ``text`` for people."""

    data: dict[str, Any]
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class CausalAnalyzer(abc.ABC):
    """Answers causal queries over a causal graph and, optionally, data.

    An analyzer is built from its registry entry's config (``config_class``, a dataclass)
    and answers ``analyze(**options)`` where the options are the ``zoo run`` options its
    ``Architecture`` declares (``--graph`` becomes ``graph=...``). It must not import torch.
    """

    config_class: ClassVar[type | None] = None

    def __init__(self, config: Any = None) -> None:
        self.config = config

    @classmethod
    def from_config(cls, values: Any) -> CausalAnalyzer:
        """Build from a config mapping or dataclass, validated against ``config_class``."""
        from .config import build_config

        if cls.config_class is None:
            return cls(None)
        return cls(build_config(cls.config_class, values or {}))

    @abc.abstractmethod
    def analyze(self, *args: Any, **options: Any) -> AnalysisResult:
        """Answer one query; options are those declared by the architecture, as keywords.

        Subclasses name their options (``def analyze(self, graph: str, query: str | None =
        None)``); this signature accepts any, so such an override type-checks."""
