"""Estimation from data: simulated binary models with latent confounders, where the exact
interventional value is known, weighted and exact tables, missing values, positivity, and
linear adjustment on continuous data."""

import csv

import numpy as np
import pytest

from zoo_core import InputError
from zoo_docalculus.analyzer import DoCalculus
from zoo_docalculus.graph import parse_graph
from zoo_docalculus.simulate import DiscreteModel

FRONT_DOOR = "X -> M; M -> Y; X <-> Y"
NAPKIN = "W -> Z; Z -> X; X -> Y; W <-> X; W <-> Y"


def write_rows(path, names, columns):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*columns))
    return path


def confounded_model(spec, seed):
    """The first model from ``seed`` on whose P(Y=1 | X=1) misses P(Y=1 | do(X=1)) by ≥ 0.05."""
    graph = parse_graph(spec)
    while True:
        model = DiscreteModel.random(graph, seed=seed, concentration=0.5)
        naive = model.effect(["Y"], [], ["X"])
        index = [0] * len(model.variables)
        index[model.variables.index("Y")] = index[model.variables.index("X")] = 1
        bias = float(np.broadcast_to(naive, [2] * len(index))[tuple(index)]) - truth_at(model, "Y", "X", 1, 1)
        if abs(bias) >= 0.05:
            return model
        seed += 1000


def simulate(tmp_path, spec, seed, n=20000):
    model = confounded_model(spec, seed)
    data = model.sample(n, seed=seed + 1)
    return model, write_rows(tmp_path / "data.csv", model.variables, [data[v] for v in model.variables])


def truth_at(model, outcome, treatment, y, x):
    effect = model.effect([outcome], [treatment])
    index = [0] * len(model.variables)
    index[model.variables.index(outcome)], index[model.variables.index(treatment)] = y, x
    return float(np.broadcast_to(effect, [2] * len(model.variables))[tuple(index)])


@pytest.mark.parametrize("spec, seed", [(FRONT_DOOR, 3), (FRONT_DOOR, 11), (NAPKIN, 5)])
def test_estimates_land_within_four_standard_errors_and_the_naive_answer_does_not(tmp_path, spec, seed):
    model, path = simulate(tmp_path, spec, seed)
    estimate = DoCalculus().estimate(spec, "P(Y=1 | do(X=1))", path, bootstrap=200, seed=0)
    truth = truth_at(model, "Y", "X", 1, 1)
    assert abs(estimate.value - truth) <= max(4 * estimate.std_error, 0.01), (estimate, truth)
    naive = DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=1))", path, bootstrap=0)  # = P(Y=1 | X=1)
    assert abs(naive.value - truth) > 4 * estimate.std_error  # confounding is real in these models


def test_average_treatment_effect_with_an_interval(tmp_path):
    model, path = simulate(tmp_path, FRONT_DOOR, 3, n=30000)
    estimate = DoCalculus().estimate(FRONT_DOOR, "E[Y | do(X=1)] - E[Y | do(X=0)]", path, bootstrap=200)
    truth = truth_at(model, "Y", "X", 1, 1) - truth_at(model, "Y", "X", 1, 0)
    assert abs(estimate.value - truth) <= max(4 * estimate.std_error, 0.01)
    low, high = estimate.interval
    assert low < estimate.value < high


def test_aggregated_counts_equal_raw_rows_and_an_exact_table_gives_the_exact_value(tmp_path):
    model, path = simulate(tmp_path, FRONT_DOOR, 3, n=5000)
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=int)
    cells, counts = np.unique(rows, axis=0, return_counts=True)
    counted = write_rows(tmp_path / "counts.csv", [*model.variables, "n"], [*cells.T, counts])
    raw = DoCalculus().estimate(FRONT_DOOR, "P(Y=1 | do(X=0))", path, bootstrap=50, seed=2)
    aggregated = DoCalculus().estimate(FRONT_DOOR, "P(Y=1 | do(X=0))", counted, weight_column="n", bootstrap=50, seed=2)
    assert aggregated.value == pytest.approx(raw.value, abs=1e-12)
    assert aggregated.std_error == pytest.approx(raw.std_error, rel=0.5)
    # the exact observational distribution as a weighted table gives the exact effect
    joint = model.observational()
    index = np.array(list(np.ndindex(joint.shape)))
    exact = write_rows(tmp_path / "exact.csv", [*model.variables, "p"], [*index.T, joint.ravel()])
    result = DoCalculus().estimate(FRONT_DOOR, "P(Y=1 | do(X=0))", exact, weight_column="p")
    assert result.value == pytest.approx(truth_at(model, "Y", "X", 1, 0), abs=1e-12)
    assert result.std_error is None and "not whole counts" in result.notes[0]


def test_query_values_match_numerically_and_text_levels_work(tmp_path):
    path = write_rows(tmp_path / "d.csv", ["X", "Y"], [["1.0", "0.0", "1", "0"] * 5, ["yes", "no", "yes", "yes"] * 5])
    result = DoCalculus().estimate("X -> Y", "P(Y=yes | do(X=1))", path, bootstrap=0)
    assert result.value == 1.0
    assert DoCalculus().estimate("X -> Y", "P(Y=yes | do(X=0.0))", path, bootstrap=0).value == 0.5
    with pytest.raises(InputError, match="no row has X=2 \\(values of X: 0, 1\\)"):
        DoCalculus().estimate("X -> Y", "P(Y=yes | do(X=2))", path)


def test_rows_missing_a_needed_value_are_dropped_with_a_count(tmp_path, capsys):
    path = write_rows(tmp_path / "d.csv", ["X", "Y", "Unused"],
                      [["1", "0", "", "1", "0", "NA"], ["1", "0", "1", "", "1", "0"], ["", "", "", "", "", ""]])
    result = DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=1))", path, bootstrap=0)
    assert (result.rows_used, result.rows_dropped) == (3, 3)
    assert "dropped 3 of 6 rows missing a value of X, Y" in capsys.readouterr().err


def test_positivity_failure_names_the_empty_conditional(tmp_path):
    # Z=1 never occurs with X=1: P(Y | X=1, Z=1) is undefined
    path = write_rows(tmp_path / "d.csv", ["Z", "X", "Y"], [[0, 0, 1, 1] * 3, [0, 1, 0, 0] * 3, [0, 1, 1, 0] * 3])
    with pytest.raises(InputError, match="positivity fails: P\\(Y \\| Z, X\\) conditions on Z=1, X=1") as caught:
        DoCalculus().estimate("Z -> X; Z -> Y; X -> Y", "P(Y=1 | do(X=1))", path)
    assert "\n" not in str(caught.value)


def test_linear_adjustment_on_continuous_data(tmp_path):
    rng = np.random.default_rng(0)
    n = 4000
    z = rng.normal(size=n)
    x = 0.8 * z + rng.normal(size=n)
    y = 2.0 * x - 1.5 * z + rng.normal(size=n)
    path = write_rows(tmp_path / "c.csv", ["Z", "X", "Y"], [z, x, y])
    graph = "Z -> X; Z -> Y; X -> Y"
    estimate = DoCalculus().estimate(graph, "E[Y | do(X=1)] - E[Y | do(X=0)]", path, estimator="linear",
                                     learner="linear")
    assert abs(estimate.value - 2.0) < 4 * estimate.std_error and estimate.std_error < 0.05
    assert "adjusting for Z" in estimate.method
    naive = DoCalculus().estimate("X -> Y", "E[Y | do(X=1)] - E[Y | do(X=0)]", path, estimator="linear",
                                  learner="linear")
    assert abs(naive.value - 2.0) > 10 * estimate.std_error
    # a front-door estimand: its estimators take a discrete treatment, and X here is continuous
    with pytest.raises(InputError, match="front-door estimators take a discrete treatment"):
        DoCalculus().estimate("X -> M; M -> Y; X <-> Y", "E[Y | do(X=1)] - E[Y | do(X=0)]",
                              write_rows(tmp_path / "m.csv", ["X", "M", "Y"], [x, z, y]))
    with pytest.raises(InputError, match="continuous data support expectations only"):
        DoCalculus().estimate(graph, "P(Y | do(X=1))", path)


def test_non_identifiable_queries_are_not_estimated(tmp_path):
    path = write_rows(tmp_path / "d.csv", ["X", "Y"], [[0, 1] * 5, [1, 0] * 5])
    with pytest.raises(InputError, match="not identifiable"):
        DoCalculus().estimate("X -> Y; X <-> Y", "P(Y=1 | do(X=1))", path)


def test_expectation_with_a_condition_without_value_labels_rows_by_the_condition(tmp_path):
    # Z comes after the outcome Y and has 3 levels: the rows are labelled by Z, not by Y
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 3000)
    y = (rng.random(3000) < 0.3 + 0.4 * x).astype(int)
    z = np.clip(y + rng.integers(0, 2, 3000) + x * rng.integers(0, 2, 3000), 0, 2)
    path = write_rows(tmp_path / "d.csv", ["X", "Y", "Z"], [x, y, z])
    graph = "X -> Y -> Z; X -> Z"
    result = DoCalculus().estimate(graph, "E[Y | do(X=1), Z]", path, bootstrap=0)
    assert [sorted(row) for row in result.distribution] == [["Z", "value"]] * 3
    for row in result.distribution:
        p = DoCalculus().estimate(graph, f"P(Y=1 | do(X=1), Z={row['Z']})", path, bootstrap=0)
        assert row["value"] == pytest.approx(p.value, abs=1e-12)


def test_a_continuous_confounder_of_binary_treatment_and_outcome_gets_linear_adjustment(tmp_path):
    rng = np.random.default_rng(2)
    z = rng.normal(size=4000)
    x = (rng.random(4000) < 1 / (1 + np.exp(-z))).astype(int)
    y = (rng.random(4000) < np.clip(0.4 + 0.2 * x + 0.1 * z, 0, 1)).astype(int)
    path = write_rows(tmp_path / "c.csv", ["Z", "X", "Y"], [np.round(z, 4), x, y])
    estimate = DoCalculus().estimate("Z -> X; Z -> Y; X -> Y", "E[Y | do(X=1)] - E[Y | do(X=0)]", path,
                                     learner="linear")
    assert "adjusting for Z" in estimate.method
    assert abs(estimate.value - 0.2) < max(4 * estimate.std_error, 0.01)


def test_linear_standard_error_of_one_expectation_counts_the_covariate_means():
    # E[Y | do(X=1)] = b0 + b1 + b_Z mean(Z): the spread of mean(Z) is part of its error
    from zoo_docalculus.estimate import estimate_linear
    from zoo_docalculus.query import parse_query
    from zoo_docalculus.table import Table

    graph, query = parse_graph("Z -> X; Z -> Y; X -> Y"), parse_query("E[Y | do(X=1)]")
    values, errors = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        z = rng.normal(size=300)
        x = 0.8 * z + rng.normal(size=300)
        y = 2.0 * x - 1.5 * z + rng.normal(size=300)
        cells = {name: column.astype(str).astype(object) for name, column in (("Z", z), ("X", x), ("Y", y))}
        estimate = estimate_linear(graph, query, Table("sim.csv", ["Z", "X", "Y"], cells, np.ones(300)))
        values.append(estimate.value)
        errors.append(estimate.std_error)
    assert np.mean(errors) == pytest.approx(np.std(values), rel=0.15)


def test_linear_adjustment_weights_counts_probabilities_and_zeros(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    x = 0.8 * z + rng.normal(size=200)
    y = 2.0 * x - 1.5 * z + rng.normal(size=200)
    graph, query = "Z -> X; Z -> Y; X -> Y", "E[Y | do(X=1)] - E[Y | do(X=0)]"
    counts = DoCalculus().estimate(graph, query, write_rows(tmp_path / "n.csv", ["Z", "X", "Y", "w"],
                                                            [z, x, y, np.ones(200)]), weight_column="w")
    # the same rows as an exact probability table: same value, and no (meaningless) standard error
    table = DoCalculus().estimate(graph, query, write_rows(tmp_path / "p.csv", ["Z", "X", "Y", "w"],
                                                           [z, x, y, np.full(200, 1 / 200)]), weight_column="w")
    assert table.value == pytest.approx(counts.value, abs=1e-9)
    assert table.std_error is None and "not whole counts" in table.notes[0]
    with pytest.raises(InputError, match="weights add up to 0"):
        DoCalculus().estimate(graph, query, write_rows(tmp_path / "z.csv", ["Z", "X", "Y", "w"],
                                                       [z, x, y, np.zeros(200)]), weight_column="w")


@pytest.mark.slow  # 50,000-row CSVs, read four times
def test_a_text_column_with_too_many_values_says_so_for_p_and_e_queries_alike(tmp_path):
    # an ID column of 50,000 strings: neither categories (too many) nor numbers (no regression);
    # both kinds of query get the same real reason instead of sending the user from one to the other
    ids = [f"id{i}" for i in range(50000)]
    path = write_rows(tmp_path / "ids.csv", ["X", "Y"], [ids, [i % 2 for i in range(50000)]])
    expected = (f"{path}: column 'X' is text with 50000 distinct values (e.g. 'id0', 'id1', 'id2', ...): too many "
                "categories for a discrete estimate (at most 20), and not numbers, so no regression either; recode "
                "or bin it into at most 20 categories, or drop it from the graph and the query")
    for query in ["P(Y=1 | do(X=id1))", "E[Y | do(X=id1)] - E[Y | do(X=id2)]", "E[Y | do(X=id1)]"]:
        with pytest.raises(InputError) as caught:
            DoCalculus().estimate("X -> Y", query, path, bootstrap=0)
        assert str(caught.value) == expected
    # also when a continuous column sends the query to linear adjustment
    z = np.random.default_rng(0).normal(size=50000)
    path = write_rows(tmp_path / "ids_z.csv", ["X", "Y", "Z"], [ids, [i % 2 for i in range(50000)], z])
    for query in ["P(Y=1 | do(X=id1))", "E[Y | do(X=id1)] - E[Y | do(X=id2)]"]:
        with pytest.raises(InputError, match="column 'X' is text with 50000 distinct values"):
            DoCalculus().estimate("Z -> X; Z -> Y; X -> Y", query, path, bootstrap=0, learner="linear")


def test_a_few_text_levels_with_continuous_data_never_advise_what_then_fails(tmp_path):
    rng = np.random.default_rng(3)
    z = rng.normal(size=300)
    x = (rng.random(300) < 1 / (1 + np.exp(-z))).astype(int)
    y = x + z + rng.normal(size=300)
    graph = "Z -> X; Z -> Y; X -> Y"
    text = write_rows(tmp_path / "t.csv", ["Z", "X", "Y"], [z, np.where(x == 1, "yes", "no"), y])
    # P(...) does not suggest E[...] (X is text, so linear adjustment fails too): bin instead
    with pytest.raises(InputError) as caught:
        DoCalculus().estimate(graph, "P(Y | do(X=yes))", text)
    message = str(caught.value)
    assert "continuous data support expectations only (column 'Z' holds 300 distinct numbers)" in message
    assert "column 'X' holds text ('yes', 'no')" in message and "bin 'Z', 'Y' into at most 20 values" in message
    assert "ask E[" not in message
    with pytest.raises(InputError, match="column 'X' holds text \\('yes', 'no'\\), but linear adjustment, used for "
                                         "continuous data .* takes numbers only; recode X as numbers \\(e.g. 0/1\\), "
                                         "or bin 'Z', 'Y' into at most 20 values"):
        DoCalculus().estimate(graph, "E[Y | do(X=yes)] - E[Y | do(X=no)]", text, estimator="linear")
    # the flexible estimators take text arms as they are
    arms = DoCalculus().estimate(graph, "E[Y | do(X=yes)] - E[Y | do(X=no)]", text, learner="linear")
    assert arms.estimator == "aipw" and abs(arms.value - 1) < 4 * arms.std_error
    # with numbers, P(...) suggests the contrast, and the contrast is answered
    numbers = write_rows(tmp_path / "n.csv", ["Z", "X", "Y"], [z, x, y])
    with pytest.raises(InputError, match="ask E\\[Y \\| do\\(X=1\\)\\] - E\\[Y \\| do\\(X=0\\)\\]"):
        DoCalculus().estimate(graph, "P(Y | do(X=1))", numbers)
    assert DoCalculus().estimate(graph, "E[Y | do(X=1)] - E[Y | do(X=0)]", numbers,
                                 learner="linear").value == pytest.approx(1, abs=0.3)
    # no back-door set: P(...) is not sent to E[...] either
    with pytest.raises(InputError) as caught:
        DoCalculus().estimate("X -> Z; Z -> Y; X <-> Y", "P(Y | do(X=1))", numbers)
    assert "no back-door adjustment set" in str(caught.value) and "ask E[" not in str(caught.value)


def test_a_column_mixing_numbers_and_text_is_refused_unless_declared_categorical(tmp_path):
    mixed = ["two", "3.5", "True", "1"] * 5
    path = write_rows(tmp_path / "data.csv", ["X", "Y"], [mixed, [i % 2 for i in range(20)]])
    with pytest.raises(InputError) as caught:
        DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=two))", path)
    assert str(caught.value) == (f"--data {path}: column 'X' mixes numbers (3.5, 1) and text (two, True); make every "
                                 "value a number, or pass --categorical X to read all its values as categories")
    result = DoCalculus().estimate("X -> Y", "P(Y | do(X))", path, bootstrap=0, categorical="X")
    assert sorted({row["X"] for row in result.distribution}) == ["1", "3.5", "True", "two"]
    assert DoCalculus().estimate("X -> Y", "P(Y=1 | do(X='3.5'))", path, categorical=["X"], bootstrap=0).value == 1.0
    # declared categories compare as written: '1' and '1.0' are two levels (as numbers they are one)
    ones = write_rows(tmp_path / "ones.csv", ["X", "Y"], [["1", "1.0", "0"] * 4, [1, 0, 0] * 4])
    assert DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=1))", ones, bootstrap=0).value == 0.5
    assert DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=1))", ones, bootstrap=0, categorical="X").value == 1.0
    # True/False written consistently are categories without a declaration
    flags = write_rows(tmp_path / "flags.csv", ["X", "Y"], [["True", "False"] * 5, [1, 0] * 5])
    assert DoCalculus().estimate("X -> Y", "P(Y=1 | do(X=True))", flags, bootstrap=0).value == 1.0
    with pytest.raises(InputError, match="--categorical X,Q: .* has no column 'Q'"):
        DoCalculus().estimate("X -> Y", "P(Y | do(X))", path, categorical="X,Q")


def test_one_row_is_too_few_rows_not_a_constant_column(tmp_path):
    path = write_rows(tmp_path / "one.csv", ["X", "Y"], [[1], [0]])
    with pytest.raises(InputError) as caught:
        DoCalculus().estimate("X -> Y", "P(Y | do(X))", path)
    assert str(caught.value) == (f"{path} has 1 row; plug-in estimation needs at least 2 rows; one row cannot show "
                                 "how the variables vary together: add rows")
    gaps = write_rows(tmp_path / "gaps.csv", ["X", "Y"], [[1, "", 0], [0, 1, ""]])
    with pytest.raises(InputError, match="gaps.csv has 3 rows, 1 of them complete; plug-in estimation needs at least 2"):
        DoCalculus().estimate("X -> Y", "P(Y | do(X))", gaps)


def test_a_trailing_delimiter_is_refused_with_the_line_and_the_fix_unless_the_header_has_one_too(tmp_path):
    from zoo_docalculus.table import read_table

    path = tmp_path / "data.csv"
    path.write_text("X,Y\n1,0\n0,1,\n1,1,\n")
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == (f"--data {path}: line 3 (and 1 more line) ends with a ',': a trailing delimiter "
                                 "gives it an extra empty field, 3 fields to the header's 2; remove the trailing ','")
    path.write_text("X;Y\n\n1;0;\n")  # line numbers count blank lines; the delimiter is the header's
    with pytest.raises(InputError, match="line 3 ends with a ';'.*remove the trailing ';'"):
        read_table(path)
    # the header ends with one too: an empty trailing column, dropped (also where a line omits it)
    path.write_text("X,Y,\n1,0,\n0,1\n1,1,\n")
    table = read_table(path)
    assert table.names == ["X", "Y"] and list(table.cells["Y"]) == ["0", "1", "1"]
    path.write_text("X,Y,\n1,0,\n0,1,7\n")
    with pytest.raises(InputError, match="the header ends with a ',', leaving its last column unnamed, but line 3 "
                                         "has '7' there; name that column"):
        read_table(path)
