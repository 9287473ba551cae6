"""Release a training run's last epoch instead of its best-by-monitor one.

    python export_checkpoint.py RUN

``zoo train`` keeps the epoch with the best held-out metric in RUN/model.safetensors and the
last epoch in RUN/checkpoint.safetensors. When the release needs a constraint the monitor
does not know (cdcgan-fashion: at least 95% of samples classified as the requested class,
which class_fd alone traded away at epoch 6), this writes the checkpoint's model weights to
RUN/model.safetensors (atomically) and makes RUN/training.json say so: ``best_epoch`` and
``best`` become the released epoch's, ``released_from_checkpoint`` is true.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import save_file

from zoo_core.atomic import write_atomic

PREFIX = "module."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    checkpoint = args.run / "checkpoint.safetensors"
    with safe_open(str(checkpoint), "pt") as f:
        names = [k for k in f.keys() if k.startswith(PREFIX)]
        module = names[0][len(PREFIX):].split(".", 1)[0]  # the task's one module, e.g. "dcgan"
        start = f"{PREFIX}{module}."
        tensors = {k[len(start):]: f.get_tensor(k) for k in names if k.startswith(start)}
        trainer = json.loads(f.metadata()["trainer"])
    with safe_open(str(args.run / "model.safetensors"), "pt") as f:
        expected = set(f.keys())
    if set(tensors) != expected:
        raise SystemExit(f"{checkpoint}: its {module!r} weights do not match {args.run}/model.safetensors' keys")
    tmp = args.run / "model.safetensors.tmp"
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    tmp.replace(args.run / "model.safetensors")
    training = json.loads((args.run / "training.json").read_text())
    row = next(r for r in training["history"] if r["epoch"] == trainer["epoch"])
    monitored = set(training["best"])
    training.update(best_epoch=trainer["epoch"], best={k: v for k, v in row.items() if k in monitored},
                    released_from_checkpoint=True, best_by_monitor_epoch=trainer["best_epoch"])
    write_atomic(args.run / "training.json", json.dumps(training, indent=2) + "\n")
    print(f"{args.run}/model.safetensors: epoch {trainer['epoch']} (the checkpoint's), not the best-by-monitor "
          f"epoch {trainer['best_epoch']}")


if __name__ == "__main__":
    main()
