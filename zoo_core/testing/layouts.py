"""Pin facts that need no download: the exact byte size of a safetensors file of a given layout.

A published file's size is in its Hub pin; a float32 safetensors file holding exactly the
tensors (names and shapes) an architecture expects has a size that follows from the layout
alone. When the two agree, the registry's config and the published file match, checked
offline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

__all__ = ["safetensors_size", "state_layout"]

_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def safetensors_size(shapes: Mapping[str, tuple[int, ...]], metadata: Mapping[str, str] | None = None,
                     dtype: str = "F32") -> int:
    """The size of a safetensors file holding ``shapes`` (all of ``dtype``), as the safetensors library writes it:
    an 8-byte length, the JSON header (``__metadata__`` first, tensors in name order, no spaces) padded to 8
    bytes, then the data."""
    entries, offset = {}, 0
    for name in sorted(shapes):
        size = _ITEMSIZE[dtype] * math.prod(shapes[name])
        entries[name] = {"dtype": dtype, "shape": list(shapes[name]), "data_offsets": [offset, offset + size]}
        offset += size
    document = {"__metadata__": dict(metadata), **entries} if metadata else entries
    header = json.dumps(document, separators=(",", ":"))
    return 8 + len(header) + (-len(header)) % 8 + offset


def state_layout(model: object) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a model's state dict (build it on the meta device: nothing is allocated)."""
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}  # type: ignore[attr-defined]
