"""The fast write path gives the same files as the old one: a batch turned into 8-bit pixels once
(numpy, no torch op per image) and written on background threads yields byte-identical PNGs to
the per-image ``to_uint8`` path, in order, and a stop still leaves only whole files."""

from __future__ import annotations

import threading

import pytest
import torch

from zoo_core.errors import InputError
from zoo_core.images import _png_bytes, to_uint8, uint8_pixels
from zoo_core.outputs import OutputPlan
from zoo_core.writer import BackgroundWriter


def _awkward_batch() -> torch.Tensor:
    """Values a conversion can get wrong: out of range, exact 8-bit levels and the half-way points
    between them (rounded half to even), in 1 and 3 channels."""
    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(12, 3, 16, 16, generator=generator) * 2.4 - 1.2
    levels = torch.arange(256, dtype=torch.float32) / 127.5 - 1
    halves = (torch.arange(255, dtype=torch.float32) + 0.5) / 127.5 - 1
    batch[0].view(-1)[:256] = levels
    batch[1].view(-1)[:255] = halves
    return batch


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_batch_pixels_equal_the_per_image_torch_conversion(dtype):
    batch = _awkward_batch().to(dtype)
    old = torch.cat([to_uint8(batch[i:i + 1]) for i in range(len(batch))]).numpy()
    assert (uint8_pixels(batch) == old).all()


@pytest.mark.parametrize("channels,threads", [(1, "1"), (3, "1"), (1, "8"), (3, "8")])
def test_batched_background_writes_give_byte_identical_pngs_in_order(tmp_path, monkeypatch, channels, threads):
    monkeypatch.setenv("ZOO_THREADS", threads)  # 1: written in the caller's thread; 8: on two writer threads
    batch = _awkward_batch()[:, :channels]
    meta = {"model": "m", "seed": "3"}
    plan = OutputPlan.make(out_dir=tmp_path / "out", count=len(batch))
    written = plan.write_batches([(0, batch[:5]), (5, batch[5:])], metadata=lambda i, p: dict(meta, index=p.stem))
    assert written.listed == [tmp_path / "out" / f"{i:05d}.png" for i in range(len(batch))]
    for index in range(len(batch)):  # the bytes the per-image path (zoo before the batch path) wrote
        old = _png_bytes(to_uint8(batch[index:index + 1])[0], dict(meta, index=f"{index:05d}"))
        assert (tmp_path / "out" / f"{index:05d}.png").read_bytes() == old
    each = OutputPlan.make(out_dir=tmp_path / "each", count=len(batch))
    each.write_each(((i, batch[i:i + 1]) for i in range(len(batch))), metadata=lambda i, p: dict(meta, index=p.stem))
    for index in range(len(batch)):
        name = f"{index:05d}.png"
        assert (tmp_path / "each" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_a_stop_while_writing_in_the_background_leaves_only_whole_files(tmp_path):
    batch = _awkward_batch()
    plan = OutputPlan.make(out_dir=tmp_path / "out", count=40)

    def batches():
        yield 0, batch
        yield 12, batch
        raise KeyboardInterrupt  # Ctrl-C while the model makes the third batch

    with pytest.raises(InputError, match=r"stopped after writing (\d+) of 40 files") as stopped:
        plan.write_batches(batches())
    whole = int(str(stopped.value).split("stopped after writing ")[1].split()[0])
    files = sorted((tmp_path / "out").iterdir())
    assert 0 < whole <= 24 and len(files) == whole  # queued files not started were dropped; no temporaries
    for path in files:  # each one whole: it decodes to the image it should hold
        index = int(path.stem) % 12
        assert path.read_bytes() == _png_bytes(to_uint8(batch[index:index + 1])[0], {})


def test_a_writer_error_reaches_the_caller_and_the_rest_is_abandoned():
    started = threading.Event()
    release = threading.Event()

    def slow(value):
        started.set()
        release.wait(5)
        return value

    def broken(value):
        raise OSError(28, "No space left on device")

    writer = BackgroundWriter(workers=1, pending=4)
    assert writer.submit(slow, 0) == [] and started.wait(5)
    writer.submit(broken, 1)
    writer.submit(lambda value: value, 2)
    release.set()
    retired = []
    with pytest.raises(OSError, match="No space"):
        for result in writer.finish():
            retired.append(result)
    assert retired == [0]  # retired in order, up to the failure
    assert writer.abandon() in ([], [2])  # the failed job is left out; the one after it cancelled or counted
    writer.close()


def test_a_file_that_appears_after_the_plan_is_never_overwritten(tmp_path):
    plan = OutputPlan.make(out_dir=tmp_path / "out", count=3)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "00001.png").write_bytes(b"another run's file")
    with pytest.raises(InputError, match="00001.png: a file of that name appeared"):
        plan.write_batches([(0, _awkward_batch()[:3])])
    assert (tmp_path / "out" / "00001.png").read_bytes() == b"another run's file"
    assert not [p for p in (tmp_path / "out").iterdir() if p.suffix == ".tmp"]  # no temporaries left behind
