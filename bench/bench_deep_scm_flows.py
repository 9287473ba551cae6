"""How exact deep-scm's learned attribute mechanisms are for counterfactuals, on the pendulum's
CSV (attributes only, no images): the counterfactual shadows under do(light_angle = v) of 500
test units, computed from their exact factual factors, against the scene's exact ones.

The scene's shadow mechanisms add their noise in world units (``shadow = f(angles) + u``).
deep-scm's continuous flow adds it after a fixed monotone map ``T`` of the attribute
(``x = T^-1(loc(pa) + scale(pa) * u)``), by default piecewise linear through 33 quantiles of the
training marginal. An additive mechanism is exactly one of these flows only where ``T`` is
affine; this bench trains the same mechanisms (same graph, networks, optimiser, seed) with the
default ``T`` and with an affine one (2 knots), by maximum likelihood alone, and reports the
mean absolute error of each counterfactual shadow factor, and optionally a trained run's own.

    python bench/bench_deep_scm_flows.py --data pendulum [--run runs/pendulum] [--steps 9000]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

PARENTS = {"pendulum_angle": [], "light_angle": [], "shadow_length": ["pendulum_angle", "light_angle"],
           "shadow_position": ["pendulum_angle", "light_angle"]}
SHADOWS = ("shadow_length", "shadow_position")


def counterfactual_errors(scm: Any, num: int) -> dict[str, float]:
    """Mean absolute error of the shadows of ``scm``'s counterfactuals, from the exact factual factors."""
    from zoo_causalgen.dataset import draw
    from zoo_causalgen.scenes import pendulum

    factors, noise = draw("pendulum", num, 0, sigma=1.0, split="test")
    low, high = scm.by_name["light_angle"].support
    values = np.clip(np.random.default_rng(17).uniform(*pendulum.PHI_PRIOR, num), low, high)
    errors: dict[str, list[float]] = {k: [] for k in SHADOWS}
    for i in range(num):
        do = {"light_angle": float(values[i])}
        got = scm.counterfactual({k: v[i:i + 1] for k, v in factors.items()}, do)[0]
        exact = pendulum.true_intervention({k: v[i:i + 1] for k, v in noise.items()}, do)
        for k in SHADOWS:
            errors[k].append(abs(float(got[k][0]) - float(exact[k][0])))
    return {k: float(np.mean(v)) for k, v in errors.items()}


def train(table: dict[str, np.ndarray], knots: int, steps: int, seed: int = 0) -> Any:
    """The four attributes' mechanisms, fitted by maximum likelihood (as ``zoo train deep-scm`` does)."""
    import torch

    from zoo_causalgen.deep_scm_setup import SUPPORT_MARGIN
    from zoo_causalgen.learned_scm import learned_scm
    from zoo_causalgen.mechanisms import AttributeSpec, TorchSCM, fit_knots

    specs = []
    for name, parents in PARENTS.items():
        x = table[name]
        margin = SUPPORT_MARGIN * float(x.max() - x.min())
        specs.append(AttributeSpec(name, "continuous", parents, float(x.min()) - margin, float(x.max()) + margin,
                                   *fit_knots(x.tolist(), knots)))
    torch.manual_seed(seed)
    model = TorchSCM(specs, list(PARENTS))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    columns = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in table.items()}
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(len(columns["light_angle"]), (256,), generator=generator)
        loss = -sum(v.mean() for v in model.log_prob({k: c[rows] for k, c in columns.items()}).values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        optimizer.step()
    return learned_scm(model.eval())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder from zoo data causal-pendulum")
    parser.add_argument("--run", type=Path, help="a deep-scm run trained on it, to score its own mechanisms too")
    parser.add_argument("--steps", type=int, default=9000)
    parser.add_argument("--num", type=int, default=500)
    args = parser.parse_args()
    with open(args.data / "factors.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {k: np.array([float(r[k]) for r in rows]) for k in PARENTS}
    if args.run:
        import zoo_core

        errors = counterfactual_errors(zoo_core.load(str(args.run), device="cpu").scm, args.num)
        print(f"{args.run} (trained with the images): " + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()))
    for knots, what in ((33, "T through 33 quantiles (the default)"), (2, "T affine (2 knots)")):
        started = time.perf_counter()
        errors = counterfactual_errors(train(table, knots, args.steps), args.num)
        print(f"{what}, {args.steps} steps of batch 256 ({time.perf_counter() - started:.0f} s): mean abs. error "
              "of the counterfactual vs the exact " + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()))


if __name__ == "__main__":
    main()
