"""The ``causal-analyzer`` task: answer a causal question about a graph (and data). No torch.

An analyzer has no weights: it is built from its registry entry's config, and every
``zoo run`` option it takes is its architecture's own, passed to ``analyze`` as a keyword.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..task import Task, TaskExtras

if TYPE_CHECKING:
    from ..running import RunContext, RunResult

__all__ = ["CAUSAL_ANALYZER"]


def run(context: RunContext) -> RunResult:
    from ..causal import AnalysisResult
    from ..errors import PluginError
    from ..running import RunResult

    analyzer = context.load()
    answer = analyzer.analyze(**context.model_options)
    if not isinstance(answer, AnalysisResult):
        raise PluginError(f"{context.architecture.name} ({context.architecture.plugin}): analyze() returned "
                          f"{type(answer).__name__}, not a zoo_core.AnalysisResult")
    text = answer.text or "\n".join(f"{k}: {v}" for k, v in answer.data.items())
    return RunResult(data=dict(answer.data), lines=[text], value=answer)


CAUSAL_ANALYZER = Task(
    name="causal-analyzer",
    interface="zoo_core.causal:CausalAnalyzer",
    runner=run,
    description="answers causal questions on graphs and data (torch-free)",
    options=(),
    option_methods=("analyze",),
    checks="zoo_core.testing.task_checks:check_analyzer",
    weights=False,
    torch_free=True,
    extras=TaskExtras(scaffold="causal-analyzer"),
)
