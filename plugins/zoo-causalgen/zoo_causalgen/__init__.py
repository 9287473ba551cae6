"""zoo-causalgen: causal image generation. Images under do() and given observations, and
counterfactuals of given images, from an SCM over image factors with a learned image
mechanism, scored against the exact renders of the scene that made the training data.

This module is imported by every ``zoo`` command, so it only registers descriptors (the new
``causal-generator`` task, its architecture and models); numpy and torch load when used.
"""

from pathlib import Path
from typing import Any, Mapping

import zoo_core
from zoo_core import Option

ZOO_PLUGIN_API = 3  # Task(outputs=...): the core adds --out, --out-dir, --force, --skip-existing, --device...

OPTIONS = (
    Option("do", multiple=True, help="interventions, e.g. 'light_angle=1.2, shadow_length=8' (or --do once per factor)"),
    Option("given", multiple=True,
           help="observations to condition on, e.g. 'shadow_length=8' (the causes are inferred; repeatable)"),
    Option("num", type="int", default=16, help="number of images to generate"),
    Option("seed", type="int", default=0, help="random seed; the same seed gives the same images"),
    Option("graph", type="bool", default=False, help="print the model's causal graph (do-calculus syntax) and stop"),
)



def _default_outputs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    # a counterfactual (images given) says where its outputs go; --graph writes nothing
    if options.get("graph") or options.get("inputs") or options.get("out") is not None \
            or options.get("out_dir") is not None:
        return {}
    return {"out": Path(f"{name}.png")}


CAUSAL_GENERATOR = zoo_core.Task(
    name="causal-generator",
    interface="zoo_causalgen.interface:CausalGenerator",
    runner="zoo_causalgen.task:run",
    description="an SCM over image factors with a learned image mechanism: images under do(), given "
                "observations, and counterfactuals of given images",
    options=OPTIONS,
    arguments=(zoo_core.Argument("inputs", help="images whose counterfactuals to draw (with --do)"),),
    checks="zoo_causalgen.task:checks",
    verbs=(zoo_core.Verb("data", help="write a scene's images and their factors and exogenous noise (factors.csv)",
                         by="model"),),
    # what a run writes: the core adds the output options and keeps zoo's file-safety promises
    outputs=zoo_core.Outputs(
        out="write one grid image here (.png, .jpg or .webp); for a counterfactual of one image, that image",
        out_dir="write one file per image: 00000.png... (counterfactuals: the inputs' names)",
        default=_default_outputs,
    ),
    extras=zoo_core.TaskExtras(pipeline_tag="unconditional-image-generation",
                               info="zoo_causalgen.task:info"),  # zoo info shows the graph
)


@zoo_core.hookimpl
def register_tasks(register):
    register(CAUSAL_GENERATOR)


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="scene-causal-generator", task="causal-generator", target="zoo_causalgen.model:SceneCausalGenerator",
        description="a scene's SCM (pendulum, Fashion-MNIST garments) with a FiLM + coordinate-ramp decoder and a CoordConv encoder "
                    "learned from its renders",
        verbs={"train": "zoo_causalgen.train:train_command", "eval": "zoo_causalgen.evaluate:evaluate_command",
               "data": "zoo_causalgen.dataset:data_command"},
    ))
    register(zoo_core.Architecture(
        name="deep-scm", task="causal-generator", target="zoo_causalgen.deep_scm:DeepSCM",
        description="a deep SCM learned from your labelled images (a folder, a CSV, a graph): attribute flows, "
                    "a conditional VAE for the image, anti-causal predictors; zoo run RUN_FOLDER --do ...",
        verbs={"train": "zoo_causalgen.deep_scm_cli:train_command", "eval": "zoo_causalgen.deep_scm_cli:evaluate_command"},
    ))
    register(zoo_core.Architecture(
        name="factor-regressor", task="encoder", target="zoo_causalgen.oracle:FactorRegressor",
        description="reads a scene's factors from an image; trained on exact renders, the judge zoo eval uses",
        verbs={"train": "zoo_causalgen.train:train_oracle_command"},
    ))


@zoo_core.hookimpl
def register_models(register):
    models = Path(__file__).parent / "models.toml"
    if models.exists():
        register(models)
