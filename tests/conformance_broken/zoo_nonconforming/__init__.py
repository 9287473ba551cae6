"""Architectures that each break one contract the conformance kit checks (see models.py)."""

import zoo_core
from zoo_core import Architecture, Option

ZOO_PLUGIN_API = 1

#: architecture name -> (task, model class in models.py or causal.py)
BROKEN = {
    "good-gen": ("generator", "models:Good"),
    "good-ae": ("autoencoder", "models:GoodAutoencoder"),
    "not-a-generator": ("generator", "models:NotAGenerator"),
    "mutating-config": ("generator", "models:MutatingConfig"),
    "unsaved-buffer": ("generator", "models:UnsavedBuffer"),
    "wrong-shape": ("generator", "models:WrongShape"),
    "wrong-dtype": ("generator", "models:WrongDtype"),
    "unclamped": ("generator", "models:Unclamped"),
    "unseeded": ("generator", "models:Unseeded"),
    "float32-only": ("generator", "models:Float32Only"),
    "cpu-only": ("generator", "models:CpuOnly"),
    "nan-decode": ("generator", "models:NanDecode"),
    "no-tanh": ("generator", "models:NoTanh"),
    "unbounded-upscaler": ("image-to-image", "models:UnboundedUpscaler"),
    "shrinking-upscaler": ("image-to-image", "models:ShrinkingUpscaler"),
    "tuple-encoder": ("encoder", "models:TupleEncoder"),
    "wrong-latent-shape": ("autoencoder", "models:WrongLatentShape"),
    "noisy-encoder": ("encoder", "models:NoisyEncoder"),
    "dict-analyzer": ("causal-analyzer", "causal:DictAnalyzer"),
    "torch-analyzer": ("causal-analyzer", "heavy_causal:TorchAnalyzer"),
}


@zoo_core.hookimpl
def register_architectures(register):
    for name, (task, target) in BROKEN.items():
        register(Architecture(name=name, task=task, target=f"zoo_nonconforming.{target}"))
    # zoo run passes --strength to sample(), which does not take it
    register(Architecture(name="unaccepted-option", task="generator", target="zoo_nonconforming.models:Good",
                          options=(Option("strength", type="float", default=1.0),)))


@zoo_core.hookimpl
def register_models(register):
    register({"name": "mislabelled", "architecture": "good-gen", "task": "encoder",
              "description": "a generator's entry that says it is an encoder"})
