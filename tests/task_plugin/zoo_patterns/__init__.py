"""zoo-patterns: a third-party plugin written for plugin API 3 that adds a task which writes files.

Its ``pattern-generator`` task declares what it writes (``zoo_core.Outputs``) and nothing
else about files: the core gives its models ``--out``, ``--out-dir``, ``--force``,
``--skip-existing``, ``--device``, ``--dtype`` and ``--weights``, and its runner writes only
through the plan the core hands it (``zoo_core.OutputPlan``). tests/test_task_outputs.py checks
that zoo's file-safety promises then hold for it as for zoo's own tasks.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 3


@zoo_core.hookimpl
def register_tasks(register):
    register(zoo_core.Task(
        name="pattern-generator",
        interface="zoo_patterns.model:PatternModel",
        runner="zoo_patterns.task:run",
        description="stripes from a seed, or the inputs tinted",
        options=(
            zoo_core.Option("num", type="int", default=4, help="number of patterns to draw"),
            zoo_core.Option("seed", type="int", default=0, help="random seed"),
        ),
        arguments=(zoo_core.Argument("inputs", help="images to tint (one output per input)"),),
        option_methods=("draw", "tint"),
        outputs=zoo_core.Outputs(out="write one grid (or, for one input, its tinted copy) here",
                                 out_dir="write one file per pattern (00000.png...) or per input"),
    ))


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="stripes", task="pattern-generator", target="zoo_patterns.model:Stripes",
        description="diagonal stripes scaled by one learned level",
        options=(zoo_core.Option("pause", type="float", default=0.0,
                                 help="seconds to wait per image (to test stopping part way)"),),
    ))


@zoo_core.hookimpl
def register_models(register):
    models = Path(__file__).parent / "models.toml"
    if models.exists():  # written by the test fixture, with the sha256 of generated weights
        register(models)
