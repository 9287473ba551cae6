"""zoo-classify: a third-party plugin that adds a new kind of model, image classifiers.

It registers the task ``image-classifier`` (its interface, runner, options, checks and a
``data`` verb), an architecture of that task and a model, with no change to zoo-core.
Registration imports nothing heavy: everything is named by import path.
"""

from pathlib import Path

import zoo_core

ZOO_PLUGIN_API = 2


@zoo_core.hookimpl
def register_tasks(register):
    register(zoo_core.Task(
        name="image-classifier",
        interface="zoo_classify.interface:ImageClassifier",
        runner="zoo_classify.task:run",
        description="images in, a class per image out",
        options=(
            zoo_core.Option("top", type="int", default=1, help="report the TOP most likely classes per image"),
            zoo_core.Option("device", default="auto", help="auto, cpu or cuda"),
            zoo_core.Option("dtype", type="choice", choices=("float32", "float16", "bfloat16"), default="float32"),
            zoo_core.Option("weights", type="path", help="a .safetensors file instead of the registry's"),
        ),
        arguments=(zoo_core.Argument("inputs", help="image files or folders"),),
        option_methods=("logits",),
        checks="zoo_classify.task:checks",
        pipeline_tag="image-classification",
        verbs=(zoo_core.Verb("data", help="write a labelled data set an architecture can learn from",
                             by="architecture"),),
        scaffold="zoo_classify:scaffold",  # templates for `zoo new-plugin NAME --kind image-classifier`
    ))


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="brightness-classifier", task="image-classifier", target="zoo_classify.model:BrightnessClassifier",
        description="tells dark from bright images from their mean grey level",
        verbs={"data": "zoo_classify.data:write_data"},
    ))


@zoo_core.hookimpl
def register_models(register):
    models = Path(__file__).parent / "models.toml"
    if models.exists():  # written by the test fixture, with the sha256 of generated weights
        register(models)
