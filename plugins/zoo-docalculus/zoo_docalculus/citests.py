"""Conditional-independence tests for PC, vectorised over batches of tests.

Every test answers ``pvalues(x, y, S)`` for a batch: ``x`` and ``y`` are index arrays of
shape ``(m,)`` and ``S`` an index array of shape ``(m, k)`` (one conditioning set per row,
all of the same size ``k``). A large p-value means "independent given S".

- :class:`FisherZ`: partial correlation from the correlation matrix (the residual covariance
  of x and y given S, from one batched solve of S's ``k x k`` block), Fisher's z with
  ``sqrt(n - k - 3)``: the same statistic as causal-learn's ``fisherz`` and pcalg's ``gaussCItest``.
- :class:`GTest`: G-test (likelihood ratio) or Pearson chi-square on the (weighted)
  contingency table of x, y within each stratum of S. Degrees of freedom follow
  causal-learn (and Tetrad): strata with no rows contribute nothing, and a stratum where only
  ``r`` levels of x and ``c`` levels of y occur contributes ``(r - 1)(c - 1)``. A test with no
  degrees of freedom left has p-value 1 (no evidence of dependence). pcalg instead uses
  ``(|X|-1)(|Y|-1)prod|S|``, which over-counts when strata are empty.
"""

from __future__ import annotations

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

__all__ = ["FisherZ", "GTest"]


class FisherZ:
    """Fisher-z test of zero partial correlation, for continuous (Gaussian) data."""

    name = "fisherz"

    def __init__(self, data: np.ndarray) -> None:
        """``data``: float array of shape ``(n_rows, n_vars)``, no missing values, no constant column."""
        self.n = data.shape[0]
        self.n_vars = data.shape[1]
        self.corr = np.corrcoef(data, rowvar=False)

    @classmethod
    def from_correlation(cls, corr: np.ndarray, n: int) -> FisherZ:
        """A test from a known correlation matrix and sample size (e.g. for an oracle)."""
        test = cls.__new__(cls)
        test.corr, test.n, test.n_vars = np.asarray(corr, dtype=np.float64), int(n), corr.shape[0]
        return test

    def partial_correlations(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray:
        corr = self.corr
        k = S.shape[1]
        if k == 0:
            return corr[x, y]
        if k == 1:  # closed form, no matrix inverse
            z = S[:, 0]
            rxy, rxz, ryz = corr[x, y], corr[x, z], corr[y, z]
            denominator = np.sqrt(np.clip((1 - rxz**2) * (1 - ryz**2), 0.0, None))
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(denominator > 0, (rxy - rxz * ryz) / denominator, 0.0)
        pair = np.column_stack([x, y])  # (m, 2)
        try:  # the residual covariance of (x, y) given S: one solve of S's block, not a (k+2) inverse
            given = corr[S[:, :, None], pair[:, None, :]]  # (m, k, 2)
            weights = np.linalg.solve(corr[S[:, :, None], S[:, None, :]], given)
            residual = corr[pair[:, :, None], pair[:, None, :]] - np.einsum("mki,mkj->mij", given, weights)
            scale = residual[:, 0, 0] * residual[:, 1, 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(scale > 0, residual[:, 0, 1] / np.sqrt(np.abs(scale)), 0.0)
        except np.linalg.LinAlgError:  # some submatrix is singular (collinear columns)
            pass
        index = np.concatenate([x[:, None], y[:, None], S], axis=1)  # (m, k+2)
        sub = corr[index[:, :, None], index[:, None, :]]  # (m, k+2, k+2)
        precision = np.linalg.pinv(sub, hermitian=True)
        diagonal = precision[:, 0, 0] * precision[:, 1, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(diagonal > 0, -precision[:, 0, 1] / np.sqrt(np.abs(diagonal)), 0.0)

    def pvalues(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray:
        r = self.partial_correlations(x, y, S)
        r = np.clip(r, -1 + 1e-15, 1 - 1e-15)  # |r| = 1 would give an infinite z
        freedom = self.n - S.shape[1] - 3
        if freedom <= 0:
            return np.ones_like(r)
        statistic = np.sqrt(freedom) * np.abs(np.arctanh(r))
        return 2 * stats.norm.sf(statistic)


class GTest:
    """G-test (``kind="gsq"``) or Pearson chi-square (``kind="chisq"``) for discrete data."""

    def __init__(self, codes: np.ndarray, levels: list[int] | np.ndarray, weights: np.ndarray | None = None,
                 kind: str = "gsq") -> None:
        """``codes``: int array ``(n_rows, n_vars)`` with values in ``0..levels[j]-1``;
        ``weights``: non-negative row weights (counts), default 1 per row."""
        if kind not in ("gsq", "chisq"):
            raise ValueError(f"kind must be 'gsq' or 'chisq', not {kind!r}")
        self.name = kind
        self.codes = np.ascontiguousarray(codes, dtype=np.int64)
        self.levels = np.asarray(levels, dtype=np.int64)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.n_vars = self.codes.shape[1]
        self.columns = [np.ascontiguousarray(self.codes[:, j]) for j in range(self.n_vars)]
        self._seen: dict[tuple, tuple[float, int]] = {}  # PC's orientation step re-asks skeleton tests
        self._strata_seen: dict[tuple[int, ...], tuple[np.ndarray, int]] = {}

    def pvalues(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray:
        results = []
        for a, b, row in zip(x.tolist(), y.tolist(), S.tolist()):
            key = (min(a, b), max(a, b), tuple(sorted(row)))
            if key not in self._seen:
                self._seen[key] = self.statistic(a, b, row)
            results.append(self._seen[key])
        values, freedom = np.array(results, dtype=np.float64).reshape(-1, 2).T
        out = np.ones(len(values))
        tested = freedom > 0
        out[tested] = stats.chi2.sf(values[tested], freedom[tested])  # one vectorised call per batch
        return out

    def statistic(self, x: int, y: int, S: list[int]) -> tuple[float, int]:
        """The statistic and its degrees of freedom for ``x _||_ y | S``."""
        lx, ly = int(self.levels[x]), int(self.levels[y])
        if S:
            strata, n_strata = self._strata(tuple(sorted(S)))
            cell = (strata * lx + self.columns[x]) * ly + self.columns[y]
        else:
            n_strata = 1
            cell = self.columns[x] * ly + self.columns[y]
        table = np.bincount(cell, weights=self.weights, minlength=n_strata * lx * ly).reshape(n_strata, lx, ly)
        row = table.sum(axis=2, keepdims=True)  # (s, lx, 1)
        column = table.sum(axis=1, keepdims=True)  # (s, 1, ly)
        total = row.sum(axis=1, keepdims=True)  # (s, 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(total > 0, row * column / total, 0.0)
            if self.name == "gsq":
                terms = np.where(table > 0, table * np.log(table / expected), 0.0)
                value = 2.0 * float(terms.sum())
            else:
                terms = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)
                value = float(terms.sum())
        rows_seen = np.count_nonzero(row[:, :, 0], axis=1)
        columns_seen = np.count_nonzero(column[:, 0, :], axis=1)
        freedom = int(np.sum(np.maximum(rows_seen - 1, 0) * np.maximum(columns_seen - 1, 0)))
        return max(value, 0.0), freedom

    def pvalue(self, x: int, y: int, S: list[int]) -> float:
        value, freedom = self.statistic(x, y, S)
        return 1.0 if freedom == 0 else float(stats.chi2.sf(value, freedom))

    def _strata(self, S: tuple[int, ...]) -> tuple[np.ndarray, int]:
        """One code per row for its stratum of S, and the number of codes; cached per S
        (a level of PC asks about the same S for many pairs)."""
        if S in self._strata_seen:
            return self._strata_seen[S]
        code = np.zeros(len(self.codes), dtype=np.int64)
        size = 1
        for s in S:
            if size * int(self.levels[s]) > 2**40:  # keep the mixed-radix code in int64
                code = np.unique(code, return_inverse=True)[1].ravel().astype(np.int64)
                size = int(code.max()) + 1
            code = code * int(self.levels[s]) + self.columns[s]
            size *= int(self.levels[s])
        if size > len(code):  # most strata are empty: renumber the ones that occur
            code = np.unique(code, return_inverse=True)[1].ravel().astype(np.int64)
            size = int(code.max()) + 1
        if len(self._strata_seen) >= 256:  # bounded: 256 arrays of n_rows int64
            self._strata_seen.clear()
        self._strata_seen[S] = (code, size)
        return code, size
