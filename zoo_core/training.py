"""A small, shared training loop: seeded, resumable, distributed, early-stopping.

Plugins describe *what* to train with a ``TrainingTask`` (modules, optimizers, one step,
a held-out metric, a preview); ``fit`` does the rest the same way for every model family:

- seeded: the model initialisation, data order and noise follow from ``--seed``;
- resumable: a checkpoint (weights, optimizer state, RNG, history) is written atomically
  after every epoch as one safetensors file, with no pickle anywhere;
- distributed: under ``torchrun --nproc-per-node N`` each rank trains on its own shard with
  DistributedDataParallel (gloo on CPU, NCCL on GPU); rank 0 writes the files;
- early stopping: training ends when the monitored held-out metric has not improved for
  ``patience`` epochs (or at ``max_epochs``), and the best epoch's weights are exported as
  a Hub model repo (``model.safetensors``, ``config.json``, ``README.md``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from .atomic import atomic_target, write_atomic
from .errors import InputError

__all__ = ["TrainContext", "TrainingTask", "FitResult", "fit", "training_options", "command_recipe", "check_positive",
           "optimizer_to_tensors", "optimizer_from_tensors",
           "write_model_repo", "training_context"]


@dataclass
class TrainContext:
    """Where and how training runs; handed to the task so it can wrap and place modules."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    amp: bool = False  # bf16 autocast (CUDA only)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module) -> nn.Module:
        """The module as trained: DistributedDataParallel when running under torchrun."""
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        if self.device.type == "cuda":
            module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
            return DistributedDataParallel(module, device_ids=[self.device.index])
        return DistributedDataParallel(module)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


@contextlib.contextmanager
def training_context(device: str = "auto", *, amp: bool = True) -> Iterator[TrainContext]:
    """Set up (and tear down) the process group when launched by torchrun."""
    from .devices import resolve_device

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1:
        import torch.distributed as dist

        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        # validated like any --device (cuda:N too: each rank still takes its local GPU); was: any
        # spelling but 'auto' and 'cuda', or no GPU at all, silently trained on the CPU
        wants_cuda = resolve_device(device).type == "cuda"
        target = torch.device("cuda", local_rank) if wants_cuda else torch.device("cpu")
        if target.type == "cuda":
            torch.cuda.set_device(target)
        dist.init_process_group("nccl" if target.type == "cuda" else "gloo")
        try:
            yield TrainContext(target, rank, world_size, amp and target.type == "cuda")
            # every rank done with its collectives before any rank tears its connections down:
            # gloo could abort a slower rank ("terminate called without an active exception")
            dist.barrier()
        finally:
            dist.destroy_process_group()
    else:
        target = resolve_device(device)
        yield TrainContext(target, 0, 1, amp and target.type == "cuda")


class TrainingTask(Protocol):
    """What a plugin implements to train with ``fit``."""

    @property
    def monitor(self) -> str | None:
        """The held-out metric that decides early stopping and the best epoch (lower is better);
        None when there is none: every epoch is then the best so far, and training runs to
        max_epochs. A plain class attribute (``monitor = "fd"``) satisfies it."""

    def modules(self) -> dict[str, nn.Module]:
        """Every module whose weights are checkpointed (unwrapped, not DDP)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimizer whose state is checkpointed."""

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> Mapping[str, float | torch.Tensor]:
        """One optimisation step on a batch; returns the losses to show (tensors are fine)."""

    def validate(self) -> dict[str, float]:
        """Held-out metrics after an epoch; must include ``monitor`` (unless it is None)."""

    def preview(self) -> torch.Tensor:
        """A fixed batch of images in [-1, 1] for the per-epoch sample grid."""

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The released model's state dict and config (what ``model.safetensors`` holds)."""

    def model_card(self, result: FitResult) -> str:
        """The README.md of the exported model repo."""


@dataclass
class FitResult:
    """What ``fit`` did: epochs run, the best epoch and its metrics, wall time, history."""

    epochs: int = 0
    best_epoch: int = 0
    best: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    images_per_second: float = 0.0

    def summary(self) -> str:
        """``best epoch 3 of 5: kid 0.012 (floor 0.0004), fd 1.9 (floor 0.8)``: a metric's ``_floor``
        shown beside it; with no held-out metric, says that the last epoch is the model instead
        of calling any epoch best."""
        if not self.best:
            return f"no held-out metric: the last epoch ({self.epochs}) is the model"
        shown = [f"{k} {v:.4g}" + (f" (floor {self.best[k + '_floor']:.4g})" if k + "_floor" in self.best else "")
                 for k, v in self.best.items() if not k.endswith("_floor")]
        return f"best epoch {self.best_epoch} of {self.epochs}: " + ", ".join(shown)

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, "best": self.best,
                "seconds": round(self.seconds, 2), "stopped_early": self.stopped_early,
                "images_per_second": round(self.images_per_second, 1), "history": self.history}


def optimizer_to_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state into tensors (for safetensors) and JSON (the rest): no pickle."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_tensors(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                           meta: dict) -> None:
    """Restore what ``optimizer_to_tensors`` saved."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def _rng_states(ctx: TrainContext) -> dict[str, torch.Tensor]:
    """The global RNG states to checkpoint; under torchrun every rank's (each draws its own noise).

    Collective: every rank calls it, after rank 0 has done its per-epoch work.
    """
    local = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        local["cuda"] = torch.cuda.get_rng_state(ctx.device if ctx.device.type == "cuda" else "cuda")
    states = {f"rng.{kind}": state for kind, state in local.items()}  # this rank's (rank 0's when saved)
    if ctx.distributed:
        import torch.distributed as dist

        for kind, state in local.items():
            sent = state.to(ctx.device)
            parts = [torch.empty_like(sent) for _ in range(ctx.world_size)]
            dist.all_gather(parts, sent)
            states.update({f"rng.{kind}.rank{rank}": part.cpu() for rank, part in enumerate(parts)})
    return states


def _save_checkpoint(path: Path, task: TrainingTask, trainer_state: dict, rng: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name, module in task.modules().items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().cpu().contiguous()
    optim_meta = {}
    for name, optimizer in task.optimizers().items():
        t, meta = optimizer_to_tensors(f"optim.{name}", optimizer)
        tensors.update(t)
        optim_meta[name] = meta
    tensors.update(rng)
    metadata = {"trainer": json.dumps(trainer_state), "optimizers": json.dumps(optim_meta)}
    with atomic_target(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def _load_checkpoint(path: Path, task: TrainingTask, ctx: TrainContext) -> dict:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # safetensors raises its own error type for a damaged file
        raise InputError(f"{path}: cannot read the checkpoint ({exc}); delete it or drop --resume") from exc
    if "trainer" not in metadata:
        raise InputError(f"{path}: not a zoo training checkpoint")
    try:
        for name, module in task.modules().items():
            prefix = f"module.{name}."
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        optim_meta = json.loads(metadata["optimizers"])
        for name, optimizer in task.optimizers().items():
            optimizer_from_tensors(f"optim.{name}", optimizer, tensors, optim_meta[name])
    except (RuntimeError, ValueError, KeyError) as exc:
        # load_state_dict lists every mismatch on its own line: name the first and count the rest
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        details = lines[1:] if len(lines) > 1 and lines[0].startswith("Error(s) in loading") else lines
        reason = " ".join(details[0].split()).rstrip(".") if details else type(exc).__name__
        reason = reason if len(reason) <= 300 else reason[:300] + "..."
        mismatches = sum(line.count("size mismatch for") for line in details)
        if mismatches > 1:
            reason += f", and {mismatches - 1} more size mismatches"
        raise InputError(f"{path}: the checkpoint does not fit this model and its options ({reason}); resume with "
                         "the options it was trained with, or train into another --out") from exc
    # each rank continues its own random stream (older checkpoints hold rank 0's only)
    torch.set_rng_state(tensors.get(f"rng.cpu.rank{ctx.rank}", tensors["rng.cpu"]))
    cuda_state = tensors.get(f"rng.cuda.rank{ctx.rank}", tensors.get("rng.cuda"))
    if cuda_state is not None and ctx.device.type == "cuda":
        torch.cuda.set_rng_state(cuda_state, ctx.device)
    return json.loads(metadata["trainer"])


def write_model_repo(out_dir: Path, tensors: dict[str, torch.Tensor], config: dict[str, Any], card: str,
                     *, architecture: tuple[str, str] | None = None) -> Path:
    """Write ``model.safetensors``, ``config.json`` and ``README.md``: a folder ``hf upload`` takes as is.

    Plus ``zoo.json`` naming the (architecture, task) that trained it, which makes the folder a
    model ``zoo run`` takes: given here, or the one ``zoo train ARCH`` is running.
    """
    from safetensors.torch import save_file

    from .run_folders import write_marker

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_target(out_dir / "model.safetensors") as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    write_atomic(out_dir / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    write_atomic(out_dir / "README.md", card)
    architecture = architecture or _training_architecture()
    if architecture is not None:
        write_marker(out_dir, *architecture)
    return out_dir / "model.safetensors"


def _training_architecture() -> tuple[str, str] | None:
    """(architecture, task) of the ``zoo train`` command running now, from the click context."""
    try:
        import click
    except ImportError:  # pragma: no cover - click is a dependency of zoo-core
        return None
    context = click.get_current_context(silent=True)
    obj = context.obj if context is not None and isinstance(context.obj, dict) else {}
    found = obj.get("zoo_architecture")
    return (str(found[0]), str(found[1])) if isinstance(found, (list, tuple)) and len(found) == 2 else None


def _progress(total: int, desc: str, enabled: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False, dynamic_ncols=True)


def fit(task: TrainingTask, ctx: TrainContext, images: torch.Tensor, labels: torch.Tensor, *, out_dir: Path,
        batch_size: int, max_epochs: int, patience: int = 3, seed: int = 0, resume: bool = False,
        progress: bool = True, log: Callable[[str], None] | None = None, force: bool = False) -> FitResult:
    """Train ``task`` on float ``images`` in [-1, 1] (N, C, H, W) and ``labels`` (N,).

    Each epoch shuffles with a generator seeded by ``seed`` and the epoch, so a resumed run
    sees the same batches as an uninterrupted one; rank r of N takes every N-th example.
    An ``out_dir`` that already holds a trained model or a checkpoint is refused unless
    ``resume`` (continue it) or ``force`` (train over it) is given.
    """
    out_dir = Path(out_dir)
    log = log or (lambda message: print(message, file=sys.stderr))
    checkpoint = out_dir / "checkpoint.safetensors"
    held = [f.name for f in (out_dir / "model.safetensors", checkpoint) if f.exists()]
    if held and not (resume or force):
        raise InputError(f"--out {out_dir}: already holds {' and '.join(held)} from an earlier run; pass --resume to "
                         "continue it, --force to train over it, or choose another folder")
    if ctx.is_main:
        (out_dir / "samples").mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"epoch": 0, "best_epoch": 0, "best": {}, "history": [], "bad_epochs": 0,
                             "seconds": 0.0, "images": 0}
    if resume and checkpoint.exists():
        state = _load_checkpoint(checkpoint, task, ctx)
        if ctx.is_main:
            log(f"resumed from {checkpoint} after epoch {state['epoch']}")
    elif resume and ctx.is_main:
        log(f"no checkpoint in {out_dir}; starting from scratch")
    if len(images) < batch_size * ctx.world_size:
        raise InputError(f"--batch-size {batch_size}: the data set has only {len(images)} images")
    data, targets = images.to(ctx.device), labels.to(ctx.device)
    steps = len(images) // (batch_size * ctx.world_size)
    while state["epoch"] < max_epochs and state["bad_epochs"] < patience:
        epoch = state["epoch"] + 1
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed * 100003 + epoch))
        shard = order[ctx.rank::ctx.world_size].to(ctx.device)
        for module in task.modules().values():
            module.train()
        started = time.perf_counter()
        losses: Mapping[str, Any] = {}
        with _progress(steps, f"epoch {epoch}", progress and ctx.is_main) as bar:
            for step in range(steps):
                index = shard[step * batch_size:(step + 1) * batch_size]
                losses = task.train_step(data[index], targets[index])
                if step % 25 == 0 or step == steps - 1:  # reading a loss waits for the GPU: not every step
                    bar.set_postfix({k: f"{float(v):.3f}" for k, v in losses.items()}, refresh=False)
                bar.update()
        losses = {k: float(v) for k, v in losses.items()}
        elapsed = time.perf_counter() - started
        for module in task.modules().values():
            module.eval()
        metrics = _agree(ctx, task.validate())
        if task.monitor is not None and task.monitor not in metrics:
            raise RuntimeError(f"validate() returned no {task.monitor!r}")
        row = {"epoch": epoch, **{k: float(f"{v:.6g}") for k, v in {**losses, **metrics}.items()},  # KID: ~1e-4
               "seconds": round(elapsed, 2)}
        state["history"].append(row)
        state["seconds"] += elapsed
        state["images"] += steps * batch_size * ctx.world_size
        improved = task.monitor is None or not state["best"] or metrics[task.monitor] < state["best"][task.monitor]
        if improved:
            state.update(best=metrics, best_epoch=epoch, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        if ctx.is_main:
            from .images import make_grid, save_png

            save_png(make_grid(task.preview().float().cpu()), out_dir / "samples" / f"epoch-{epoch:03d}.png")
            summary = ", ".join(f"{k} {v:.4g}" for k, v in {**losses, **metrics}.items())
            best_mark = " *best*" if improved and task.monitor is not None else ""  # no "best" without a number
            log(f"epoch {epoch}: {summary} ({elapsed:.1f} s){best_mark}")
            result = _result(state, patience)
            if improved:  # the folder always holds the best epoch so far, card included
                tensors, config = task.export()
                write_model_repo(out_dir, tensors, config, task.model_card(result))
            write_atomic(out_dir / "training.json", json.dumps(result.to_dict(), indent=2) + "\n")
        rng = _rng_states(ctx)  # after rank 0's preview, which may draw from it
        if ctx.is_main:
            _save_checkpoint(checkpoint, task, state, rng)
    result = _result(state, patience)
    if ctx.is_main:
        write_atomic(out_dir / "README.md", task.model_card(result))
    if ctx.distributed:  # no rank returns before rank 0's files are in place (e.g. a --resume right after)
        import torch.distributed as dist

        dist.barrier()
    return result


def _agree(ctx: TrainContext, metrics: dict[str, float]) -> dict[str, float]:
    """Rank 0's held-out metrics on every rank, so that all ranks take the same early-stopping
    decisions: their own can differ (per-process BatchNorm statistics, float rounding), and a
    rank that stopped alone would leave the others waiting in DDP's all-reduce for ever."""
    if not ctx.distributed or not metrics:
        return metrics
    import torch.distributed as dist

    values = torch.tensor([float(v) for v in metrics.values()], dtype=torch.float64, device=ctx.device)
    dist.broadcast(values, src=0)
    return dict(zip(metrics, values.tolist()))


def _result(state: dict, patience: int) -> FitResult:
    return FitResult(epochs=state["epoch"], best_epoch=state["best_epoch"], best=dict(state["best"]),
                     seconds=state["seconds"], history=list(state["history"]),
                     stopped_early=state["bad_epochs"] >= patience,
                     images_per_second=state["images"] / state["seconds"] if state["seconds"] else math.nan)


#: ``--device`` help for training commands.
DEVICE_HELP = "auto, cpu, cuda or cuda:N (under torchrun each rank takes its local GPU)"


def training_options(*, epochs: int = 40, patience: int = 4, batch_size: int = 128,
                     datasets: tuple[str, ...] = ("fashion-mnist", "folder")) -> Callable[[Any], Any]:
    """The options every ``zoo train`` command shares, as one click decorator.

    ``--out``, ``--dataset``, ``--data-dir``, ``--epochs``, ``--patience``, ``--batch-size``,
    ``--seed``, ``--device``, ``--no-amp``, ``--resume``, ``--quiet`` and ``--limit``, reaching the
    command as ``out_dir``, ``dataset``, ``data_dir``, ... (the defaults given here). Plugins
    add their own options around it.
    """
    import click

    options = [
        click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
                     help="output folder: a Hub model repo (model.safetensors, config.json, README.md)"),
        click.option("--dataset", type=click.Choice(list(datasets)), default=datasets[0], show_default=True),
        click.option("--data-dir", type=click.Path(path_type=Path),
                     help="folder with the Fashion-MNIST IDX files, or your images for --dataset folder"),
        click.option("--epochs", type=int, default=epochs, show_default=True,
                     help="at most this many epochs (training stops earlier when the held-out metric stalls)"),
        click.option("--patience", type=int, default=patience, show_default=True,
                     help="stop after this many epochs without a better held-out metric"),
        click.option("--batch-size", type=int, default=batch_size, show_default=True, help="per process"),
        click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True),
        click.option("--device", default="auto", show_default=True, help=DEVICE_HELP),
        click.option("--no-amp", is_flag=True, help="train in float32 on CUDA too (default: bf16 autocast)"),
        click.option("--resume", is_flag=True, help="continue from OUT/checkpoint.safetensors"),
        click.option("--force", is_flag=True, help="train over a model or checkpoint already in OUT"),
        click.option("--quiet", is_flag=True, help="no progress bar"),
        click.option("--limit", type=int, help="train on the first N images only (smoke tests)"),
    ]

    def decorate(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def command_recipe(fallback: str) -> str:
    """The command line as typed, for the model card: ``zoo train`` passes it in the click context."""
    import shlex

    import click

    context = click.get_current_context(silent=True)
    argv = (context.obj or {}).get("zoo_argv") if context is not None and isinstance(context.obj, dict) else None
    return shlex.join(argv) if argv else fallback


def check_positive(**values: float | None) -> None:
    """An ``InputError`` naming the option for any value that is not positive (``epochs=0`` -> ``--epochs``)."""
    for name, value in values.items():
        if value is not None and value <= 0:
            raise InputError(f"--{name.replace('_', '-')} must be positive, got {value}")
