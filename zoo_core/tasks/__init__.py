"""zoo-core's built-in plugin: the tasks zoo ships, registered exactly as a plugin registers one.

Each task lives in its own module (``generator``, ``encoder``, ``autoencoder``,
``image_to_image``, ``causal_analyzer``); importing this package imports none of torch.
"""

from ..hookspecs import hookimpl
from .autoencoder import AUTOENCODER
from .causal_analyzer import CAUSAL_ANALYZER
from .encoder import ENCODER
from .generator import GENERATOR
from .image_to_image import IMAGE_TO_IMAGE

ZOO_PLUGIN_API = 3

#: zoo-core's own tasks, in the order ``zoo plugins`` and ``zoo_core.TASKS`` show them.
CORE_TASKS = (GENERATOR, ENCODER, AUTOENCODER, IMAGE_TO_IMAGE, CAUSAL_ANALYZER)


@hookimpl
def register_tasks(register):  # type: ignore[no-untyped-def]
    for task in CORE_TASKS:
        register(task)
