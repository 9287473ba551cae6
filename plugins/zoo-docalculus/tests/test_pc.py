"""PC-stable (``zoo run pc``): the CI tests, order independence, Meek's rules, recovery of a known
CPDAG from simulated data, and the CLI contract with its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import combinations, permutations

import numpy as np
import pytest
from scipy import stats

from zoo_docalculus.citests import FisherZ, GTest
from zoo_docalculus.pc import meek, pc
from zoo_docalculus.simulate import random_admg


# -- helpers ---------------------------------------------------------------------------------

def linear_gaussian(parents: dict[str, list[str]], n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Rows from X_j = sum of w * parent + N(0, 1), weights +-[0.6, 1.2]; ``parents`` in causal order."""
    rng = np.random.default_rng(seed)
    names = list(parents)
    columns: dict[str, np.ndarray] = {}
    for name in names:
        value = rng.standard_normal(n)
        for parent in parents[name]:
            value += rng.choice([-1, 1]) * rng.uniform(0.6, 1.2) * columns[parent]
        columns[name] = value
    return names, np.column_stack([columns[n] for n in names])


def write_csv(path, names, matrix, fmt="%.6g") -> None:
    np.savetxt(path, matrix, delimiter=",", header=",".join(names), comments="", fmt=fmt)


class Oracle:
    """A CI 'test' from a list of independence facts: p = 1 for a fact, 0 otherwise."""

    def __init__(self, names: list[str], facts: list[tuple[str, str, tuple[str, ...]]]) -> None:
        self.names, self.n_vars = names, len(names)
        self.facts = {(frozenset((x, y)), frozenset(S)) for x, y, S in facts}

    def independent(self, x: int, y: int, S) -> bool:
        return (frozenset((self.names[x], self.names[y])), frozenset(self.names[s] for s in S)) in self.facts

    def pvalues(self, x, y, S) -> np.ndarray:
        return np.array([1.0 if self.independent(a, b, row) else 0.0 for a, b, row in zip(x, y, S)])


def cpdag_of_dag(names: list[str], edges: list[tuple[str, str]]) -> tuple[list, list]:
    """The textbook CPDAG: the DAG's skeleton, its v-structures, then Meek's rules."""
    index = {n: i for i, n in enumerate(names)}
    D = np.zeros((len(names),) * 2, dtype=bool)
    for a, b in edges:
        D[index[a], index[b]] = True
    G = D | D.T
    for b in range(len(names)):
        for a, c in combinations(np.flatnonzero(D[:, b]), 2):
            if not G[a, c]:
                G[b, a] = G[b, c] = False
    G, _ = meek(G)
    return edge_lists(names, G)


def edge_lists(names, G) -> tuple[list, list]:
    directed = sorted((names[u], names[v]) for u, v in zip(*np.nonzero(G & ~G.T)))
    undirected = sorted(tuple(sorted((names[u], names[v]))) for u, v in zip(*np.nonzero(np.triu(G & G.T))))
    return directed, undirected


def pdag(names: str, text: str) -> np.ndarray:
    """'a>b b-c': a -> b and b - c over the one-letter nodes ``names``."""
    G = np.zeros((len(names),) * 2, dtype=bool)
    for edge in text.split():
        a, mark, b = names.index(edge[0]), edge[1], names.index(edge[2])
        G[a, b] = True
        G[b, a] = mark == "-"
    return G


# -- the independence tests ------------------------------------------------------------------

def test_fisherz_matches_partial_correlation_of_residuals():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6))
    test = FisherZ(X)
    for k in range(4):
        x, y, S = 0, 1, list(range(2, 2 + k))
        design = np.column_stack([np.ones(len(X)), X[:, S]])
        residual = [X[:, v] - design @ np.linalg.lstsq(design, X[:, v], rcond=None)[0] for v in (x, y)]
        r = np.corrcoef(*residual)[0, 1]
        expected = 2 * stats.norm.sf(np.sqrt(len(X) - k - 3) * abs(np.arctanh(r)))
        got = test.pvalues(np.array([x]), np.array([y]), np.array([S], dtype=np.int64).reshape(1, k))
        assert got[0] == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("kind,lambda_", [("gsq", "log-likelihood"), ("chisq", None)])
def test_g_and_chi_square_match_scipy_per_stratum_with_empty_rows(kind, lambda_):
    rng = np.random.default_rng(1)
    z = rng.integers(0, 2, 600)
    x = np.where(z == 1, rng.integers(0, 2, 600), rng.integers(0, 3, 600))  # x = 2 never occurs when z = 1
    y = (x + rng.integers(0, 3, 600)) % 3
    test = GTest(np.column_stack([x, y, z]), [3, 3, 2], kind=kind)
    value, freedom = test.statistic(0, 1, [2])
    expected_value, expected_freedom = 0.0, 0
    for level in (0, 1):
        table = np.zeros((3, 3))
        np.add.at(table, (x[z == level], y[z == level]), 1)
        table = table[table.sum(1) > 0][:, table.sum(0) > 0]  # scipy needs no empty row or column
        statistic, _, dof, _ = stats.chi2_contingency(table, correction=False, lambda_=lambda_)
        expected_value += statistic
        expected_freedom += dof
    assert expected_freedom == 6 and freedom == 6  # (3-1)(3-1) + (2-1)(3-1): the empty row costs a df
    assert value == pytest.approx(expected_value, rel=1e-10)
    assert test.pvalue(0, 1, [2]) == pytest.approx(stats.chi2.sf(expected_value, 6), rel=1e-9)
    marginal = np.zeros((3, 3))
    np.add.at(marginal, (x, y), 1)
    statistic, p, _, _ = stats.chi2_contingency(marginal, correction=False, lambda_=lambda_)
    assert test.statistic(0, 1, [])[0] == pytest.approx(statistic, rel=1e-10)
    assert test.pvalue(0, 1, []) == pytest.approx(p, rel=1e-9)


def test_g_test_weights_are_counts_and_no_freedom_means_p_one():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2, (50, 3))
    counts = rng.integers(1, 5, 50)
    weighted = GTest(codes, [2, 2, 2], counts.astype(float))
    expanded = GTest(np.repeat(codes, counts, axis=0), [2, 2, 2])
    assert weighted.statistic(0, 1, [2]) == pytest.approx(expanded.statistic(0, 1, [2]))
    assert weighted.pvalue(0, 2, [1]) == pytest.approx(expanded.pvalue(0, 2, [1]))
    # x is constant within every stratum of S = x itself: nothing left to test
    assert GTest(codes, [2, 2, 2]).pvalue(0, 1, [0]) == 1.0


# -- the algorithm ---------------------------------------------------------------------------

@pytest.mark.parametrize("case,expected", [
    ("a>b b-c", "a>b b>c"),                          # R1
    ("a>b b>c a-c", "a>b b>c a>c"),                  # R2
    ("d-a d-b d-c a>c b>c", "d-a d-b d>c a>c b>c"),  # R3
    ("i-j i-k i-l k>l l>j", "i>j i-k i-l k>l l>j"),  # R4
    ("a-b b-c", "a-b b-c"),                          # nothing to do
])
def test_meek_rules_on_hand_made_graphs(case, expected):
    names = "abcdijkl"
    G, conflicts = meek(pdag(names, case))
    assert edge_lists(names, G) == edge_lists(names, pdag(names, expected)) and not conflicts


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("orientation", ["conservative", "majority"])
def test_exact_correlations_give_the_true_cpdag(seed, orientation):
    graph = random_admg(12, degree=2.5, bidirected=0, seed=seed)
    names = list(graph.nodes)
    parents = {n: sorted(graph.parents[n], key=names.index) for n in names}
    rng = np.random.default_rng(seed)
    B = np.zeros((12, 12))
    for child, ps in parents.items():
        for parent in ps:
            B[names.index(parent), names.index(child)] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
    M = np.linalg.inv(np.eye(12) - B)  # rows X = E M with unit-variance noise E
    cov = M.T @ M
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    found = pc(FisherZ.from_correlation(corr, n=10**13), names, alpha=0.01, orientation=orientation)
    assert (found.directed, found.undirected) == cpdag_of_dag(names, sorted(graph.directed))
    assert not found.ambiguous and not found.conflicts


def test_recovers_a_linear_gaussian_cpdag_from_data():
    parents = {"G": [], "H": ["G"], "A": ["H"], "B": [], "C": ["A", "B"], "D": ["C"], "F": [], "E": ["D", "F"]}
    names, X = linear_gaussian(parents, 5000, seed=3)
    found = pc(FisherZ(X), names, alpha=0.01)
    assert found.directed == [("A", "C"), ("B", "C"), ("C", "D"), ("D", "E"), ("F", "E")]
    assert found.undirected == [("A", "H"), ("G", "H")]
    assert found.sepsets[("A", "B")] == () and found.sepsets[("A", "D")] == ("C",)


@pytest.mark.parametrize("kind", ["gsq", "chisq"])
def test_recovers_a_discrete_cpdag_from_data(kind):
    rng = np.random.default_rng(4)
    n = 4000
    a, b, e = rng.integers(0, 2, n), rng.integers(0, 3, n), rng.integers(0, 2, n)
    c = np.where(rng.random(n) < 0.85, a | (b == 2), rng.integers(0, 2, n))  # a -> c <- b
    d = np.where(rng.random(n) < 0.8, c, rng.integers(0, 2, n))                   # c -> d
    found = pc(GTest(np.column_stack([a, b, c, d, e]), [2, 3, 2, 2, 2], kind=kind), list("abcde"), alpha=0.01)
    assert found.directed == [("a", "c"), ("b", "c"), ("c", "d")] and found.undirected == []


def test_column_order_does_not_change_the_result_on_noisy_data():
    graph = random_admg(9, degree=3, bidirected=0, seed=5)
    names = list(graph.nodes)
    names, X = linear_gaussian({n: sorted(graph.parents[n], key=names.index) for n in names}, 150, seed=5)
    reference = pc(FisherZ(X), names, alpha=0.2, orientation="majority")
    rng = np.random.default_rng(6)
    for _ in range(6):
        order = rng.permutation(len(names))
        again = pc(FisherZ(X[:, order]), [names[i] for i in order], alpha=0.2, orientation="majority")
        assert (again.directed, again.undirected, again.sepsets, again.ambiguous, again.conflicts) == (
            reference.directed, reference.undirected, reference.sepsets, reference.ambiguous, reference.conflicts)
        assert again.tests_run == reference.tests_run


def _plain_pc_skeleton(test: Oracle, order: list[int]) -> set[frozenset]:
    """Classic PC's skeleton: each removal takes effect at once, so the visiting order matters."""
    p = test.n_vars
    adjacent = ~np.eye(p, dtype=bool)
    level = 0
    while True:
        tested = False
        for x in order:
            for y in order:
                others = [v for v in order if adjacent[x, v] and v != y]
                if x == y or not adjacent[x, y] or len(others) < level:
                    continue
                tested = True
                if any(test.independent(x, y, S) for S in combinations(others, level)):
                    adjacent[x, y] = adjacent[y, x] = False
        if not tested:
            return {frozenset((test.names[u], test.names[v])) for u, v in zip(*np.nonzero(np.triu(adjacent)))}
        level += 1


def test_order_independent_where_plain_pc_is_not():
    facts = [("b", "c", ()), ("a", "c", ("d",)), ("a", "b", ("c",))]
    oracle = Oracle(list("abcd"), facts)
    # plain PC keeps a - b when it removes a - c (via d) before testing a - b given c
    assert _plain_pc_skeleton(oracle, [0, 1, 2, 3]) != _plain_pc_skeleton(oracle, [0, 2, 1, 3])
    for order in permutations("abcd"):
        found = pc(Oracle(list(order), facts), list(order))
        assert found.directed == [("a", "d"), ("b", "d"), ("c", "d")] and found.undirected == []


def test_conflicting_colliders_are_left_undirected_and_reported():
    # a -> b <- c and b -> c <- d would orient b - c both ways
    facts = [("a", "c", ()), ("b", "d", ()), ("a", "d", ())]
    for order in permutations("abcd"):
        found = pc(Oracle(list(order), facts), list(order))
        assert found.directed == [("a", "b"), ("d", "c")] and found.undirected == [("b", "c")]
        assert found.conflicts == [("b", "c")]


def test_conservative_and_majority_rules_differ_on_split_evidence():
    # a and c are separated by {}, {d} and {b, d}: b is in 1 of 3 sets, d in 2 of 3
    facts = [("a", "c", ()), ("a", "c", ("d",)), ("a", "c", ("b", "d"))]
    for order in permutations("abcd"):
        names = list(order)
        conservative = pc(Oracle(names, facts), names, orientation="conservative")
        assert conservative.directed == [] and conservative.ambiguous == [("a", "b", "c"), ("a", "d", "c")]
        majority = pc(Oracle(names, facts), names, orientation="majority")
        assert majority.directed == [("a", "b"), ("c", "b"), ("d", "b")]  # R3 orients d -> b
        assert majority.undirected == [("a", "d"), ("c", "d")] and majority.ambiguous == []
    # exactly half ({} and {b}): ambiguous under both rules
    for rule in ("conservative", "majority"):
        found = pc(Oracle(list("abc"), [("a", "c", ()), ("a", "c", ("b",))]), list("abc"), orientation=rule)
        assert found.directed == [] and found.ambiguous == [("a", "b", "c")]


def test_depth_caps_the_conditioning_sets():
    names, X = linear_gaussian({"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"]}, 3000, seed=7)
    assert pc(FisherZ(X), names, alpha=0.01, depth=0).max_level == 0
    full = pc(FisherZ(X), names, alpha=0.01)
    assert full.max_level >= 2 and full.sepsets[("A", "D")] == ("B", "C")


def test_same_pvalues_and_skeleton_as_causal_learn():
    cit = pytest.importorskip("causallearn.utils.cit")
    skeleton_discovery = pytest.importorskip("causallearn.utils.PCUtils.SkeletonDiscovery")
    graph = random_admg(12, degree=3, bidirected=0, seed=8)
    names = list(graph.nodes)
    names, X = linear_gaussian({n: sorted(graph.parents[n], key=names.index) for n in names}, 2000, seed=8)
    theirs, ours = cit.CIT(X, "fisherz"), FisherZ(X)
    for S in ([], [2], [2, 3], [2, 3, 5, 7]):
        assert ours.pvalues(np.array([0]), np.array([1]), np.array([S], dtype=np.int64).reshape(1, len(S)))[0] \
            == pytest.approx(theirs(0, 1, S), abs=1e-9)
    codes = (X > 0).astype(np.int64) + (X > 1)
    theirs, ours = cit.CIT(codes, "gsq"), GTest(codes, [3] * 12)
    for S in ([], [2], [2, 3, 5]):
        assert ours.pvalue(0, 1, S) == pytest.approx(theirs(0, 1, S), abs=1e-9)
    graph = skeleton_discovery.skeleton_discovery(X, 0.05, cit.CIT(X, "fisherz"), stable=True, show_progress=False)
    from zoo_docalculus.pc import skeleton

    assert np.array_equal(graph.G.graph != 0, skeleton(FisherZ(X), 0.05)[0])


# -- the CLI ---------------------------------------------------------------------------------

@pytest.fixture
def gaussian_csv(tmp_path):
    names, X = linear_gaussian({"A": [], "B": [], "C": ["A", "B"], "D": ["C"]}, 2000, seed=9)
    path = tmp_path / "data.csv"
    write_csv(path, names, X)
    return path


def test_cli_json_contract(zoo, gaussian_csv):
    code, out, err = zoo("run", "pc", "--data", str(gaussian_csv), "--alpha", "0.01", "--json")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result["nodes"] == ["A", "B", "C", "D"]
    assert result["directed"] == [["A", "C"], ["B", "C"], ["C", "D"]] and result["undirected"] == []
    assert result["test"] == "fisherz" and result["alpha"] == 0.01 and result["n_rows"] == 2000
    assert result["tests_run"] > 0 and "no latent confounders" in result["assumes"]
    assert result["run"]["model"] == "pc"


def test_cli_text_says_the_assumption(zoo, gaussian_csv):
    code, out, _ = zoo("run", "pc", "--data", str(gaussian_csv))
    assert code == 0 and "Assumes no latent confounders" in out and "A -> C" in out


def test_cli_writes_png_dot_and_json(zoo, gaussian_csv, tmp_path):
    from PIL import Image

    code, out, _ = zoo("run", "pc", "--data", str(gaussian_csv), "--json", "--out", str(tmp_path / "g.json"))
    assert code == 0
    document = json.loads(out)
    written = json.loads((tmp_path / "g.json").read_text())
    assert written == {k: v for k, v in document.items() if k not in ("run", "out")}
    assert zoo("run", "pc", "--data", str(gaussian_csv), "--out", str(tmp_path / "g.dot"))[0] == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and '"A" -> "C";' in dot and '"C" -> "D";' in dot
    assert zoo("run", "pc", "--data", str(gaussian_csv), "--out", str(tmp_path / "g.png"))[0] == 0
    with Image.open(tmp_path / "g.png") as image:
        assert image.format == "PNG" and min(image.size) >= 400
        assert json.loads(image.text["zoo:graph"])["directed"] == [["A", "C"], ["B", "C"], ["C", "D"]]
        colours = {c for _, c in image.getcolors(1 << 20)}
        assert (20, 60, 160) in colours  # the arrows and node outlines were drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "g.dot", "g.json", "g.png"]  # no temp files


def test_cli_discrete_data_with_weights_and_missing_values(zoo, tmp_path):
    rng = np.random.default_rng(10)
    a, b = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    c = np.where(rng.random(3000) < 0.85, a ^ b, rng.integers(0, 2, 3000)) + 2 * (a & b)  # a -> c <- b
    rows, counts = np.unique(np.column_stack([a, b, c]), axis=0, return_counts=True)
    lines = ["a,b,c,n"] + [f"{x},{y},{z},{k}" for (x, y, z), k in zip(rows, counts)] + ["1,,0,5", "NA,1,1,2"]
    (tmp_path / "counts.csv").write_text("\n".join(lines) + "\n")
    code, out, err = zoo("run", "pc", "--data", str(tmp_path / "counts.csv"), "--weight-column", "n", "--json")
    assert code == 0 and "dropped 2 of" in err and err.count("\n") == 1
    result = json.loads(out)
    assert result["test"] == "gsq" and result["directed"] == [["a", "c"], ["b", "c"]]
    assert result["n_rows"] == len(rows) and result["dropped_rows"] == 2


@pytest.mark.parametrize("make,args,message", [
    (None, ["--data", "{dir}/absent.csv"], "absent.csv: no such file"),
    ("A,B\n1,x\n2,y\n3,z\n4,w\n5,v\n", ["--test", "fisherz"], "column 'B' holds 'x', which is not a number"),
    ("A,B,C\n1.5,2,7\n2.5,1,7\n3.1,5,7\n4.2,3,7\n5.3,8,7\n6.1,2,7\n", [], "column 'C' is constant"),
    ("A,B,C\n1,0,1\n0,1,1\n1,1,1\n0,0,1\n1,0,1\n0,1,1\n1,1,0\n0,0,0\n1,1,1\n", ["--test", "gsq"],
     "data.csv has 9 rows; G tests on 3 variables (conditioning sets of up to 1) need at least 10 rows; add rows"),
    ("A,B,n\n0,0,2\n0,1,2\n1,0,2\n1,1,2\n", ["--weight-column", "n"], "8 observations is too few for a gsq test"),
    ("A,B,C\n1.5,2.2,0.1\n2.5,1.1,0.3\n3.1,5.2,0.2\n", [],
     "data.csv has 3 rows; Fisher-z tests on 3 variables (conditioning sets of up to 1) need at least 5 rows; "
     "add rows, or set --depth lower"),
    # one row: every column is constant, but too few rows is the news (before the constant-column check)
    ("A,B,C\n1.5,2.2,7\n", [], "data.csv has 1 row; Fisher-z tests on 3 variables"),
    ("A,B\n1,0\n", [], "data.csv has 1 row; G tests on 2 variables need at least 10 rows; add rows"),
    ("A,B,n\n1,0,50\n", ["--weight-column", "n"], "data.csv has 1 row; a G test needs at least 2 rows"),
    ("A,B\n" + "".join(f"{v},{i % 2}\n" for i, v in enumerate(["two", "3.5", "True", "1"] * 5)), [],
     "column 'A' mixes numbers (3.5, 1) and text (two, True); make every value a number, or pass --categorical A"),
    ("A,B\n1,0\n0,1,\n1,1\n", [], "line 3 ends with a ',': a trailing delimiter gives it an extra empty field, "
                                    "3 fields to the header's 2; remove the trailing ','"),
    ("A,B\n1,0\n", ["--categorical", "A,Q"], "data.csv has no column 'Q' (columns: A, B)"),
    ("A,B\n1.5,2.2\n2.5,1.1\n3.1,5.2\n4.4,1.0\n5.2,3.3\n", ["--out", "{dir}/graph.svg"], "unknown extension '.svg'"),
    ("A,B\n1.5,2.2\n2.5,1.1\n3.1,5.2\n4.4,1.0\n5.2,3.3\n", ["--alpha", "1.5"], "--alpha 1.5: must be between 0 and 1"),
    ("A,B,W\n1.5,2.2,1\n2.5,1.1,2\n3.1,5.2,1\n4.4,1.0,3\n5.2,3.3,1\n", ["--weight-column", "W"],
     "row weights are for discrete"),
    ("A,B\n1.5,x\n2.5,y\n3.1,x\n4.4,y\n5.2,x\n", [], "PC needs all-discrete"),
    ("A\n1\n2\n", [], "PC needs at least 2 columns"),
    ("A,B,C\n1.5,2.2,\n2.5,1.1,\n3.1,5.2,NA\n4.4,1.0,\n5.2,3.3,\n", [], "column 'C' has no values"),
    ("A,B\n" + "".join(f"{i * 0.37:.2f},{i % 3}\n" for i in range(40)), ["--test", "gsq"],
     "column 'A' has 40 distinct values in 40 rows, so it looks continuous"),
])
def test_cli_bad_inputs_are_one_line_errors(zoo, tmp_path, make, args, message):
    path = tmp_path / "data.csv"
    if make is not None:
        path.write_text(make)
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    code, out, err = zoo("run", "pc", *([] if "--data" in args else ["--data", str(path)]), *args)  # --data once
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "graph.svg").exists()


def test_cli_categorical_reads_a_mixed_column_as_categories(zoo, tmp_path):
    # a: 'two', '3.5', 'True' levels that follow c; b independent: a - c only
    rng = np.random.default_rng(4)
    c = rng.integers(0, 3, 600)
    a = np.where(rng.random(600) < 0.9, c, rng.integers(0, 3, 600))
    b = rng.integers(0, 2, 600)
    names = np.array(["two", "3.5", "True"])
    path = tmp_path / "mixed.csv"
    path.write_text("a,b,c\n" + "".join(f"{names[x]},{y},{z}\n" for x, y, z in zip(a, b, c)))
    code, _, err = zoo("run", "pc", "--data", str(path))
    assert code == 1 and "column 'a' mixes numbers (3.5) and text (" in err and "pass --categorical a" in err
    code, out, err = zoo("run", "pc", "--data", str(path), "--categorical", "a", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["test"] == "gsq" and result["undirected"] == [["a", "c"]] and result["directed"] == []
    # a column of True/False written consistently is categories without being declared
    path.write_text("a,b,c\n" + "".join(f"{bool(x % 2)},{y},{z % 2}\n" for x, y, z in zip(a, b, c)))
    code, out, err = zoo("run", "pc", "--data", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["test"] == "gsq"


def test_zoo_run_pc_does_not_import_torch(gaussian_csv, tmp_path):
    code = ("import sys; from zoo_core.cli import main; "
            f"code = main(['run', 'pc', '--data', {str(gaussian_csv)!r}, '--out', {str(tmp_path / 'g.png')!r}]); "
            "print(code, 'torch' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "0 False", done.stderr
