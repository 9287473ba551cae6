"""zoo-docalculus: causal identification, the do-calculus, adjustment sets, estimation and
PC and FCI causal discovery. Torch-free: numpy (and scipy) only, so ``zoo run do-calculus`` starts fast.

This module is imported by every ``zoo`` command, so it only registers descriptors; the
analyzers load when used.
"""

from pathlib import Path

import zoo_core
from zoo_core import Option

#: A small data set from A -> B -> D <- C (recipes/make_pc_example.py), for PC's example run.
PC_EXAMPLE = Path(__file__).parent / "examples" / "pc-example.csv"
#: A small data set with a hidden confounder of B and D (recipes/make_fci_example.py), for FCI's example run.
FCI_EXAMPLE = Path(__file__).parent / "examples" / "fci-example.csv"

ZOO_PLUGIN_API = 3

_GRAPH = Option("graph", help="a causal diagram: inline 'Z -> X; X -> Y; X <-> Y', or a .json/.txt file "
                              "(or build one with --covariates)")
_DATA = Option("data", type="data", help="a CSV (or .dta/.parquet) file whose columns are named after the graph's "
                                         "nodes; from Python also a pandas DataFrame or a dict of arrays")

DO_CALCULUS_OPTIONS = (
    _GRAPH,
    Option("query", help="e.g. 'P(Y | do(X), Z)', 'P(Y=1 | do(X=0))' or 'E[Y | do(X=1)] - E[Y | do(X=0)]'"),
    Option("latex", type="bool", help="print the estimand as LaTeX too"),
    _DATA,
    Option("weight-column", help="a CSV column giving each row's weight (counts or exact probabilities)"),
    Option("categorical", help="CSV columns (comma-separated) to read as categories, e.g. a column mixing "
                               "numbers and text; text columns are categories anyway"),
    Option("estimator", type="choice", choices=("auto", "aipw", "ipw", "matching", "regression", "linear", "plug-in"),
           default="auto", help="auto: the exact plug-in on discrete data, else aipw (doubly robust, cross-fitted); "
                                "ipw, matching (back-door, discrete treatment), regression (g-formula), linear, "
                                "plug-in (discrete table)"),
    Option("learner", type="choice", choices=("auto", "linear", "logistic", "boosting", "forest"), default="auto",
           help="nuisance models (scikit-learn): auto is a super learner of linear, boosting and forest"),
    Option("target", type="choice", choices=("ate", "att", "atc"), default="ate",
           help="the effect on everyone, on the treated (the contrast's first value) or on the controls"),
    Option("covariates", help="instead of --graph: these columns (comma-separated, or 'all' others) cause "
                              "--treatment and --outcome, and --treatment causes --outcome"),
    Option("effect-modifiers", help="columns (comma-separated) to report conditional effects for (DR-learner)"),
    Option("folds", type="int", default=5, help="cross-fitting folds"),
    Option("trim", type="float", default=0.01, help="drop units whose propensity is below this (or above 1 - it)"),
    Option("match-on", type="choice", choices=("propensity", "covariates"), default="propensity",
           help="matching distance: the propensity score's logit, or Mahalanobis on the covariates"),
    Option("neighbours", type="int", default=1, help="matching: neighbours per unit (with replacement)"),
    Option("plot", type="path", help="write propensity overlap and covariate balance to FILE.png"),
    Option("bootstrap", type="int", help="bootstrap replicates (plug-in: default 200; flexible estimators: "
                                         "refits each time, interval from the influence function otherwise)"),
    Option("seed", type="int", default=0, help="seed of the folds and the bootstrap"),
    Option("dsep", help="test m-separation, e.g. 'A, B _||_ C | D, E'"),
    Option("adjustment-sets", type="bool", help="list the minimal back-door adjustment sets of --treatment on --outcome"),
    Option("backdoor", help="check whether these variables (comma-separated) satisfy the back-door criterion"),
    Option("front-door", help="check whether these variables (comma-separated) satisfy the front-door criterion"),
    Option("treatment", help="treatment variables, comma-separated"),
    Option("outcome", help="outcome variables, comma-separated"),
    Option("max-sets", type="int", default=100, help="stop after this many adjustment sets"),
    Option("rule", type="choice", choices=("1", "2", "3"), help="check whether do-calculus rule N applies to --query on --on"),
    Option("on", help="the variables (comma-separated) the --rule step deletes or exchanges"),
)


def _discovery_options(colliders: str, graph: str, extra: tuple = ()) -> tuple:
    """The options PC and FCI share (data, tests, orientation rule), their own, then --out."""
    return (
        Option("data", type="path", required=True, help="a CSV file, one column per variable"),
        Option("alpha", type="float", default=0.05, help="significance level of the independence tests"),
        Option("test", type="choice", choices=("auto", "fisherz", "gsq", "chisq"), default="auto",
               help="independence test: fisherz (continuous), gsq or chisq (discrete); auto picks by the data"),
        Option("depth", type="int", help="largest conditioning set size (default: no cap)"),
        Option("orientation", type="choice", choices=("conservative", "majority"), default="majority",
               help=f"how {colliders} decided, both order-independent"),
        Option("weight-column", help="a CSV column giving each row's weight (discrete data only)"),
        Option("categorical", help="CSV columns (comma-separated) to read as categories (discrete), e.g. a column "
                                   "mixing numbers and text; text columns are categories anyway"),
        *extra,
        Option("out", type="path", help=f"write the {graph} here: .png (a picture), .dot or .json"),
    )


PC_OPTIONS = _discovery_options("unshielded colliders are", "CPDAG")
FCI_OPTIONS = _discovery_options("colliders and discriminating paths are", "PAG", (
    Option("treatment", help="with --outcome: is the effect of these columns (comma-separated) identifiable "
                             "by adjustment from the PAG?"),
    Option("outcome", help="the outcome columns (comma-separated) for --treatment"),
))


@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(
        name="do-calculus", task="causal-analyzer", target="zoo_docalculus.analyzer:DoCalculus",
        description="ID/IDC identification with hedge witnesses, m-separation, Pearl's rules, "
                    "adjustment sets, effect estimation (plug-in, doubly robust, IPW, matching, front-door)",
        options=DO_CALCULUS_OPTIONS,
        example={"graph": "X -> M; M -> Y; X <-> Y", "query": "P(Y | do(X))"},  # the front-door formula
    ))
    register(zoo_core.Architecture(
        name="pc", task="causal-analyzer", target="zoo_docalculus.pc_analyzer:PC",
        description="PC-stable causal discovery (order-independent) to a CPDAG; assumes no latent confounders",
        options=PC_OPTIONS,
        example={"data": str(PC_EXAMPLE)},
    ))
    register(zoo_core.Architecture(
        name="fci", task="causal-analyzer", target="zoo_docalculus.fci_analyzer:FCI",
        description="FCI causal discovery (order-independent) to a PAG; allows latent confounders, "
                    "says which effects adjustment identifies",
        options=FCI_OPTIONS,
        example={"data": str(FCI_EXAMPLE), "treatment": "D", "outcome": "E"},
    ))
