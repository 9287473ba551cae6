"""Read and check a safetensors header without trusting it, and refuse pickle formats.

A hostile header can claim a huge length, tensors past the end of the file or overlapping
ones; ``read_header`` turns every such case into one ``WeightsFormatError`` line before any
tensor data is touched. The safetensors library checks again when it loads.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from .errors import UnsafeWeightsError, WeightsFormatError

__all__ = ["TensorInfo", "TensorSpan", "read_header", "read_layout", "refuse_unsafe", "PICKLE_SUFFIXES"]

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".pth.tar")
_MAX_HEADER = 100 * 1024 * 1024
_ITEMSIZE = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}

TensorInfo = tuple[str, tuple[int, ...]]  # (dtype, shape)
TensorSpan = tuple[str, tuple[int, ...], int, int]  # (dtype, shape, first byte, end byte) in the file


def refuse_unsafe(path: Path) -> None:
    """Raise ``UnsafeWeightsError`` for pickle-based weights (by name or by content)."""
    name = Path(path).name.lower()
    reason = "is a pickle-based format, which runs code when loaded"
    if name.endswith(PICKLE_SUFFIXES):
        raise UnsafeWeightsError(f"{path} {reason}; zoo loads .safetensors only "
                                 "(convert it once, where you trust it, with safetensors.torch.save_file)")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(9)
    except OSError:
        return
    # a safetensors file starts with its header length (u64 LE), whose low byte may be 0x80,
    # then its JSON header: only call it a pickle or zip when byte 8 is not that header's '{'
    if magic[8:9] != b"{" and (magic[:1] == b"\x80" or magic[:2] == b"PK"):
        raise UnsafeWeightsError(f"{path} looks like a pickle or torch zip archive; zoo loads .safetensors only")


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Tensor names → (dtype, shape) from a safetensors file, after checking it is sound."""
    return {name: (dtype, shape) for name, (dtype, shape, _, _) in read_layout(path).items()}


def read_layout(path: Path) -> dict[str, TensorSpan]:
    """Tensor names → (dtype, shape, begin, end) with absolute byte offsets, after checking the file."""
    path = Path(path)
    refuse_unsafe(path)
    try:
        with open(path, "rb") as handle:
            file_size = path.stat().st_size
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise WeightsFormatError(f"{path}: not a safetensors file (only {len(prefix)} bytes)")
            (length,) = struct.unpack("<Q", prefix)
            if length > _MAX_HEADER or length > file_size - 8:
                raise WeightsFormatError(f"{path}: not a safetensors file (header length {length} "
                                         f"exceeds the file's {file_size} bytes or the 100 MB limit)")
            raw = handle.read(length)
    except OSError as exc:
        raise WeightsFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsFormatError(f"{path}: not a safetensors file (header is not JSON: {exc})") from exc
    if not isinstance(header, dict):
        raise WeightsFormatError(f"{path}: safetensors header must be a JSON object")
    data_size = file_size - 8 - length
    tensors: dict[str, TensorSpan] = {}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape = _check_tensor(path, name, info, data_size)
        begin, end = info["data_offsets"]
        tensors[name] = (dtype, shape, 8 + length + begin, 8 + length + end)
        spans.append((begin, end, name))
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise WeightsFormatError(f"{path}: tensors {n0!r} and {n1!r} overlap in the file")
    return tensors


def _check_tensor(path: Path, name: str, info: object, data_size: int) -> TensorInfo:
    where = f"{path}: tensor {name!r}"
    if not isinstance(info, dict):
        raise WeightsFormatError(f"{where}: header entry must be an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in _ITEMSIZE:
        raise WeightsFormatError(f"{where}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise WeightsFormatError(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise WeightsFormatError(f"{where}: data_offsets must be [begin, end], got {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise WeightsFormatError(f"{where}: data_offsets {offsets} fall outside the file's {data_size} data bytes")
    if end - begin != math.prod(shape) * _ITEMSIZE[dtype]:
        raise WeightsFormatError(f"{where}: {end - begin} bytes do not hold a {dtype} tensor of shape {shape}")
    return dtype, tuple(shape)
