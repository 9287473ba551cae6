"""Nuisance models for effect estimation: chosen by name or given, cross-fitted.

Effect estimators need two kinds of regression, the *outcome model* (E[Y | treatment,
covariates]) and the *propensity model* (P(treatment | covariates)). Both are learned with
scikit-learn, which is well kept, fast and familiar; zoo writes no learners of its own.

``--learner`` names a family: ``linear`` (ordinary least squares for outcomes, logistic
regression for propensities), ``logistic`` (the same: the name users reach for), ``boosting``
(histogram gradient boosting), ``forest`` (random forest) or ``auto``, the default: a
*super learner* (van der Laan et al. 2007) that cross-fits all three and combines their
out-of-fold predictions with non-negative weights chosen to minimise the out-of-fold loss,
so a linear model wins where the truth is linear and trees win where it is not. From
Python any scikit-learn-style estimator works (``fit``; ``predict`` for outcomes,
``predict_proba`` for propensities).

Every prediction used by an estimator is *out of fold*: the row was not in the data that
fitted the model that predicts it (K-fold cross-fitting, Chernozhukov et al. 2018), which
is what makes the doubly robust intervals valid with flexible learners.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from zoo_core import InputError

__all__ = ["LEARNERS", "Learners", "resolve_learners", "folds_for", "cross_fit_regression",
           "cross_fit_proba", "fitting_threads", "thread_limit"]

#: The learner families ``--learner`` accepts.
LEARNERS = ("auto", "linear", "logistic", "boosting", "forest")


def fitting_threads() -> int:
    """Threads for the learners: zoo's policy for every command (``zoo_core.default_threads``:
    ``ZOO_THREADS`` if set, else one per core not already busy). OpenMP learners that take
    every core on a busy machine spin-wait: histogram boosting ran 29x slower with 2 threads
    than with 1 here at a load of 2-3."""
    import zoo_core

    return zoo_core.default_threads()


def thread_limit(threads: int | None = None) -> Any:
    """A context manager capping the BLAS/OpenMP threads of the learners (threadpoolctl)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=threads or fitting_threads())


def _linear_regressor() -> Any:
    from sklearn.linear_model import LinearRegression  # type: ignore[import-untyped]

    return LinearRegression()


def _linear_classifier() -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    # scaled, lightly penalised: unpenalised logistic regression diverges under separation
    return make_pipeline(StandardScaler(), LogisticRegression(C=1e4, max_iter=5000))


def _boosting_regressor() -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]

    return HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                         min_samples_leaf=20, l2_regularization=1.0, early_stopping=False,
                                         random_state=0)


def _boosting_classifier() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                          min_samples_leaf=20, l2_regularization=1.0, early_stopping=False,
                                          random_state=0)


def _forest_regressor() -> Any:
    from sklearn.ensemble import RandomForestRegressor  # type: ignore[import-untyped]

    return RandomForestRegressor(n_estimators=60, min_samples_leaf=5, max_features=0.5, max_samples=0.7, n_jobs=1,
                                 random_state=0)


def _forest_classifier() -> Any:
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]

    return RandomForestClassifier(n_estimators=60, min_samples_leaf=5, max_features=0.5, max_samples=0.7, n_jobs=1,
                                  random_state=0)


_FAMILIES: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "linear": (_linear_regressor, _linear_classifier),
    "boosting": (_boosting_regressor, _boosting_classifier),
    "forest": (_forest_regressor, _forest_classifier),
}


@dataclass
class Learners:
    """Factories for the outcome and propensity models; several of each make a super learner."""

    outcome: list[tuple[str, Callable[[], Any]]]
    propensity: list[tuple[str, Callable[[], Any]]]
    name: str = "auto"
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # super learner weights, by model role

    def describe(self) -> str:
        if len(self.outcome) == 1 and len(self.propensity) == 1:
            return self.name
        return f"{self.name} (super learner of {', '.join(n for n, _ in self.outcome)})"


def resolve_learners(spec: Any = None) -> Learners:
    """``spec``: a family name, one scikit-learn estimator, a pair (outcome, propensity) or a
    mapping ``{"outcome": ..., "propensity": ...}`` (each a name or an estimator)."""
    if spec is None or (isinstance(spec, str) and spec == "auto"):
        return Learners([(n, f[0]) for n, f in _FAMILIES.items()], [(n, f[1]) for n, f in _FAMILIES.items()], "auto")
    if isinstance(spec, str):
        family = "linear" if spec == "logistic" else spec
        if family not in _FAMILIES:
            raise InputError(f"--learner {spec!r}: use one of {', '.join(LEARNERS)} (or, from Python, a "
                             "scikit-learn estimator)")
        regressor, classifier = _FAMILIES[family]
        return Learners([(family, regressor)], [(family, classifier)], spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"outcome", "propensity"}
        if unknown:
            raise InputError(f"learner: unknown role {sorted(unknown)[0]!r}; give 'outcome' and/or 'propensity'")
        outcome = _one(spec.get("outcome", "auto"), "outcome")
        propensity = _one(spec.get("propensity", "auto"), "propensity")
        return Learners(outcome, propensity, "custom")
    if isinstance(spec, Sequence) and len(spec) == 2:
        return Learners(_one(spec[0], "outcome"), _one(spec[1], "propensity"), "custom")
    if hasattr(spec, "fit"):  # one estimator: a classifier is the propensity model, a regressor the outcome's
        default = resolve_learners("auto")
        if hasattr(spec, "predict_proba"):
            return Learners(default.outcome, _one(spec, "propensity"), "custom")
        return Learners(_one(spec, "outcome"), default.propensity, "custom")
    raise InputError(f"learner {spec!r}: give a name ({', '.join(LEARNERS)}), a scikit-learn estimator, or "
                     "{'outcome': ..., 'propensity': ...}")


def _one(spec: Any, role: str) -> list[tuple[str, Callable[[], Any]]]:
    """The candidate list for one role from a name or an estimator (cloned for each fit)."""
    if isinstance(spec, str):
        learners = resolve_learners(spec)
        return learners.outcome if role == "outcome" else learners.propensity
    method = "predict_proba" if role == "propensity" else "predict"
    if not (hasattr(spec, "fit") and hasattr(spec, method)):
        raise InputError(f"learner for the {role} model: {type(spec).__name__} has no fit/{method}; "
                         f"give a scikit-learn {'classifier' if role == 'propensity' else 'regressor'}")
    from sklearn.base import clone  # type: ignore[import-untyped]

    return [(type(spec).__name__, lambda: clone(spec))]


def folds_for(n: int, k: int, strata: np.ndarray | None, seed: int) -> np.ndarray:
    """A fold number per row: ``k`` folds, balanced within each stratum (treatment arm)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(n, dtype=np.int64)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    offset = 0
    for rows in groups:
        order = rng.permutation(rows)
        fold[order] = (np.arange(len(order)) + offset) % k
        offset += len(order)
    return fold


def _quiet_fit(model: Any, X: np.ndarray, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from one fold is not the user's concern
        return model.fit(X, y)


def cross_fit_regression(X: np.ndarray, y: np.ndarray, fold: np.ndarray, learners: Learners,
                         train: np.ndarray | None = None, role: str = "outcome",
                         models: dict[int, "FoldModel"] | None = None) -> np.ndarray:
    """Out-of-fold predictions of E[y | X] for every row, fitted on rows in ``train``.

    A row is predicted by the model fitted on the other folds' training rows; with several
    candidates, their out-of-fold predictions are combined by non-negative least squares on
    the training rows (the super learner). ``models``, when given, receives each fold's
    fitted model (the mix), for predictions at other points."""
    train = np.ones(len(y), dtype=bool) if train is None else train
    candidates = learners.outcome
    preds = np.empty((len(y), len(candidates)))
    fitted: dict[int, list[Any]] = {}
    for j, (_, make) in enumerate(candidates):
        for k in np.unique(fold):
            fit_rows = train & (fold != k)
            if fit_rows.sum() < 2:
                raise InputError(f"too few rows to fit the {role} model in a fold ({int(fit_rows.sum())}); "
                                 "use fewer --folds")
            model = _quiet_fit(make(), X[fit_rows], y[fit_rows])
            preds[fold == k, j] = model.predict(X[fold == k])
            fitted.setdefault(int(k), []).append(model)
    if len(candidates) == 1:
        weights = np.ones(1)
    else:
        weights = _nnls_weights(preds[train], y[train])
        learners.weights.setdefault(role, {}).update({n: float(w) for (n, _), w in zip(candidates, weights)})
    if models is not None:
        models.update({k: FoldModel(ms, weights) for k, ms in fitted.items()})
    return preds @ weights


class FoldModel:
    """One fold's fitted candidates mixed by the super learner's weights."""

    def __init__(self, models: list[Any], weights: np.ndarray) -> None:
        self.models = models
        self.weights = weights

    def predict(self, X: np.ndarray) -> np.ndarray:
        total = np.zeros(len(X))
        for model, w in zip(self.models, self.weights):
            if w:
                total += w * model.predict(X)
        return total


def cross_fit_proba(X: np.ndarray, labels: np.ndarray, fold: np.ndarray, learners: Learners,
                    role: str = "propensity") -> np.ndarray:
    """Out-of-fold class probabilities (rows x classes, classes in ``np.unique(labels)`` order)."""
    classes = np.unique(labels)
    candidates = learners.propensity
    preds = np.zeros((len(candidates), len(labels), len(classes)))
    for j, (_, make) in enumerate(candidates):
        for k in np.unique(fold):
            fit_rows = fold != k
            present = np.unique(labels[fit_rows])
            if len(present) < 2:
                raise InputError("a fold's training rows hold one treatment value only; use fewer --folds")
            model = _quiet_fit(make(), X[fit_rows], labels[fit_rows])
            proba = model.predict_proba(X[fold == k])
            cols = np.searchsorted(classes, np.asarray(model.classes_))
            preds[j][np.ix_(fold == k, cols)] = proba
    if len(candidates) == 1:
        return preds[0]
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)
    weights = _nnls_weights(preds.transpose(1, 2, 0).reshape(-1, len(candidates)), onehot.reshape(-1))
    learners.weights.setdefault(role, {}).update({n: float(w) for (n, _), w in zip(candidates, weights)})
    combined = np.tensordot(weights, preds, axes=1)
    return combined / combined.sum(axis=1, keepdims=True)


def _nnls_weights(preds: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise the squared error of ``preds @ w``."""
    from scipy.optimize import nnls  # type: ignore[import-untyped]

    weights, _ = nnls(preds, target)
    total = weights.sum()
    if total <= 0:  # every candidate useless: fall back to an equal mix
        return np.full(preds.shape[1], 1.0 / preds.shape[1])
    return weights / total
