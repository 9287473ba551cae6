"""Effect estimation against known truth, real data and EconML, in one run.

    python bench/bench_effects.py simulation [--reps 200] [--n 1000] [--learner auto]
    python bench/bench_effects.py lalonde
    python bench/bench_effects.py econml [--runs 3]
    python bench/bench_effects.py pendulum [--n 3000]

simulation: zoo_docalculus.synthetic.confounded (non-linear outcome and propensity,
  heteroskedastic noise, limited overlap; true ATE 1.5): AIPW's 95% coverage, bias against its
  standard error, and how often the misspecification flag fires on the linear estimate.
lalonde: NSW treated + CPS controls (causaldata), the ATT by linear, AIPW, IPW and matching,
  beside the experimental $1,794.34.
pendulum: the case that started this work: on `zoo data causal-pendulum --seed 0` factor rows,
  E[shadow_length | do(light_angle=1.2)] - E[shadow_length | do(light_angle=2.0)]; truth from
  400,000 draws of the scene's exact SCM (zoo-causalgen); linear against the default (AIPW).
econml: zoo's AIPW against EconML's LinearDRLearner on the same learners and folds
  (alternated, warmed up, medians and min-max, load recorded); estimates must agree within
  their intervals.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from zoo_docalculus.analyzer import DoCalculus
from zoo_docalculus import synthetic

QUERY = "E[Y | do(T=1)] - E[Y | do(T=0)]"


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def simulation(args: argparse.Namespace) -> None:
    hits, values, errors, flags, seconds = [], [], [], [], []
    for rep in range(args.reps):
        sim = synthetic.confounded(args.n, seed=1000 + rep)
        start = time.perf_counter()
        estimate = DoCalculus().estimate(synthetic.CONFOUNDED_GRAPH, QUERY, sim.columns, learner=args.learner)
        seconds.append(time.perf_counter() - start)
        values.append(estimate.value)
        errors.append(estimate.std_error)
        hits.append(estimate.interval[0] <= sim.ate <= estimate.interval[1])
        flags.append(bool(estimate.diagnostics["misspecification"]["flagged"]))
        if (rep + 1) % 20 == 0:
            print(f"  {rep + 1} reps: coverage {np.mean(hits):.3f}", flush=True)
    bias = float(np.mean(values) - synthetic.CONFOUNDED_ATE)
    print(f"simulation, {args.reps} replications of {args.n} rows, learner {args.learner} ({load()}):")
    print(f"  AIPW 95% coverage of the true ATE 1.5: {np.mean(hits):.3f}")
    print(f"  bias {bias:+.4f}; mean standard error {np.mean(errors):.4f}; sd of estimates {np.std(values, ddof=1):.4f}; "
          f"|bias| / mean SE = {abs(bias) / np.mean(errors):.3f}")
    print(f"  misspecification flag on the linear estimate: {np.mean(flags):.3f} of replications")
    print(f"  seconds per estimate: median {statistics.median(seconds):.2f} (min {min(seconds):.2f}, max {max(seconds):.2f})")


def lalonde_frame():
    import glob

    import causaldata
    import pandas as pd

    root = os.path.dirname(causaldata.__file__)
    nsw = pd.read_stata(glob.glob(os.path.join(root, "nsw_mixtape", "*.dta"))[0])
    cps = pd.read_stata(glob.glob(os.path.join(root, "cps_mixtape", "*.dta"))[0])
    experiment = float(nsw.re78[nsw.treat == 1].mean() - nsw.re78[nsw.treat == 0].mean())
    frame = pd.concat([nsw[nsw.treat == 1], cps]).drop(columns="data_id").reset_index(drop=True)
    return frame, experiment


def lalonde(args: argparse.Namespace) -> None:
    frame, experiment = lalonde_frame()
    covariates = "age, educ, black, hisp, marr, nodegree, re74, re75"
    graph = "; ".join([f"{c} -> treat; {c} -> re78" for c in covariates.split(", ")] + ["treat -> re78"])
    query = "E[re78 | do(treat=1)] - E[re78 | do(treat=0)]"
    print(f"LaLonde: NSW treated + CPS controls, {len(frame)} rows; experimental benchmark ${experiment:,.2f} ({load()})")
    for estimator in ("linear", "aipw", "ipw", "matching"):
        start = time.perf_counter()
        e = DoCalculus().estimate(graph, query, frame, estimator=estimator, target="att")
        lo, hi = e.interval
        print(f"  {estimator:9s} ATT ${e.value:9,.0f}  95% [{lo:9,.0f}, {hi:9,.0f}]  covers: {lo <= experiment <= hi}  "
              f"off by ${e.value - experiment:+,.0f}  ({time.perf_counter() - start:.1f} s)")


def econml(args: argparse.Namespace) -> None:
    from econml.dr import LinearDRLearner
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from zoo_docalculus.learners import thread_limit

    sim = synthetic.confounded(args.n, seed=7)
    c = sim.columns
    X = np.column_stack([c[f"X{i}"] for i in range(1, 6)])
    reg = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                                        l2_regularization=1.0, early_stopping=False, random_state=0)
    clf = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                                         l2_regularization=1.0, early_stopping=False, random_state=0)

    def run_zoo():
        return DoCalculus().estimate(synthetic.CONFOUNDED_GRAPH, QUERY, c, learner="boosting", trim=0.0)

    def run_econml():
        with thread_limit():
            model = LinearDRLearner(model_propensity=clf, model_regression=reg, cv=5, random_state=0)
            model.fit(c["Y"], c["T"], X=None, W=X)
            return model.ate_inference()

    times = {"zoo": [], "econml": []}
    run_zoo(), run_econml()  # warm-up, both
    for _ in range(args.runs):
        for name, fn in (("zoo", run_zoo), ("econml", run_econml)):
            start = time.perf_counter()
            result = fn()
            times[name].append(time.perf_counter() - start)
            if name == "zoo":
                ours = result
            else:
                theirs = result
    lo, hi = theirs.conf_int_mean()
    print(f"EconML comparison, {args.n} rows, boosting nuisances, 5 folds ({load()}):")
    print(f"  zoo AIPW ATE   {ours.value:.4f} [{ours.interval[0]:.4f}, {ours.interval[1]:.4f}]")
    print(f"  EconML LinearDRLearner ATE {float(theirs.mean_point):.4f} [{float(lo):.4f}, {float(hi):.4f}]  (truth 1.5)")
    agree = ours.interval[0] <= float(theirs.mean_point) <= ours.interval[1] and float(lo) <= ours.value <= float(hi)
    print(f"  each inside the other's interval: {agree}")
    for name, ts in times.items():
        print(f"  {name:7s} median {statistics.median(ts):.2f} s (min {min(ts):.2f}, max {max(ts):.2f})")
    print(f"  ratio zoo / EconML (medians): {statistics.median(times['zoo']) / statistics.median(times['econml']):.2f}")


def pendulum(args: argparse.Namespace) -> None:
    import subprocess
    import tempfile

    from zoo_causalgen.scenes import pendulum as scene

    rng = np.random.default_rng(12345)
    model = scene.scm()
    noise = model.sample_noise(rng, 400_000)
    truth = float(scene.true_intervention(noise, {"light_angle": 1.2})["shadow_length"].mean()
                  - scene.true_intervention(noise, {"light_angle": 2.0})["shadow_length"].mean())
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "zoo_core", "data", "causal-pendulum", "--num", str(args.n), "--seed", "0",
                        "--out", f"{folder}/units"], check=True, capture_output=True)
        data = f"{folder}/units/factors.csv"
        graph = ("pendulum_angle -> shadow_length; light_angle -> shadow_length; pendulum_angle -> shadow_position; "
                 "light_angle -> shadow_position")
        query = "E[shadow_length | do(light_angle=1.2)] - E[shadow_length | do(light_angle=2.0)]"
        print(f"pendulum: {args.n} rows of zoo data causal-pendulum --seed 0; truth {truth:.4f} from 400,000 exact "
              f"draws ({load()})")
        for estimator in ("linear", "auto"):
            e = DoCalculus().estimate(graph, query, data, estimator=estimator)
            lo, hi = e.interval
            flag = e.diagnostics.get("misspecification", {}).get("flagged")
            print(f"  {estimator:6s} ({e.estimator}) {e.value:+.4f}  95% [{lo:+.4f}, {hi:+.4f}]  covers the truth: "
                  f"{lo <= truth <= hi}  misspecification flag: {flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=("simulation", "lalonde", "econml", "pendulum"))
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--learner", default="auto")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.which == "pendulum" and args.n == 1000:
        args.n = 3000
    {"simulation": simulation, "lalonde": lalonde, "econml": econml, "pendulum": pendulum}[args.which](args)


if __name__ == "__main__":
    sys.exit(main())
