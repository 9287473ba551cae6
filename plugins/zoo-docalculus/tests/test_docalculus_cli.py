"""`zoo run do-calculus`: the JSON contract other tools script against, text output, one-line
errors, and a start-up that never imports torch."""

import json
import subprocess
import sys

import numpy as np
import pytest

FRONT_DOOR = "X -> M; M -> Y; X <-> Y"


def run_json(zoo, *args):
    code, out, err = zoo("run", "do-calculus", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_identifiable_query_json(zoo):
    doc = run_json(zoo, "--graph", FRONT_DOOR, "--query", "P(Y | do(X))")
    assert doc["identifiable"] is True
    assert doc["estimand"] == "sum_{M} P(M | X) sum_{X'} P(X') P(Y | X', M)"
    assert doc["latex"] == r"\sum_{M} P(M \mid X) \sum_{X'} P(X') P(Y \mid X', M)"
    assert "value" not in doc and doc["run"]["model"] == "do-calculus"


def test_non_identifiable_query_exits_0_with_the_hedge(zoo):
    doc = run_json(zoo, "--graph", "Z -> X; X -> Y; X <-> Y", "--query", "P(Y | do(X))")
    assert doc["identifiable"] is False and doc["estimand"] is None
    assert doc["witness"]["hedge"] == [["X", "Y"], ["Y"]] and doc["witness"]["roots"] == ["Y"]
    code, out, _ = zoo("run", "do-calculus", "--graph", "X -> Y; X <-> Y", "--query", "P(Y | do(X))")
    assert code == 0 and "not identifiable" in out and "F = {X, Y} and F' = {Y}" in out


def test_several_outcomes_treatments_and_conditions(zoo, tmp_path):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"nodes": ["Z", "X1", "X2", "Y", "W"],
                                 "directed": [["Z", "X1"], ["X1", "X2"], ["X2", "Y"], ["Z", "Y"], ["Y", "W"]],
                                 "bidirected": []}))
    doc = run_json(zoo, "--graph", str(graph), "--query", "P(Y, W | do(X1, X2), Z)")
    assert doc["identifiable"] is True and doc["estimand"] == "P(Y | Z, X2) P(W | Y)"


def test_text_output_with_latex(zoo):
    code, out, _ = zoo("run", "do-calculus", "--graph", "Z -> X; Z -> Y; X -> Y", "--query", "P(Y | do(X))", "--latex")
    assert code == 0
    assert out.splitlines() == ["P(Y | do(X)) is identifiable:", "  sum_{Z} P(Z) P(Y | Z, X)",
                                r"LaTeX: \sum_{Z} P(Z) P(Y \mid Z, X)"]


def test_estimation_json_has_value_and_std_error(zoo, tmp_path):
    from zoo_docalculus.graph import parse_graph
    from zoo_docalculus.simulate import DiscreteModel

    model = DiscreteModel.random(parse_graph(FRONT_DOOR), seed=3)
    data = model.sample(5000, seed=1)
    path = tmp_path / "d.csv"
    path.write_text("X,M,Y\n" + "".join(f"{x},{m},{y}\n" for x, m, y in zip(data["X"], data["M"], data["Y"])))
    doc = run_json(zoo, "--graph", FRONT_DOOR, "--query", "P(Y=1 | do(X=0))", "--data", str(path),
                   "--bootstrap", "50", "--seed", "1")
    assert 0 < doc["value"] < 1 and 0 < doc["std_error"] < 0.05 and doc["rows_used"] == 5000
    again = run_json(zoo, "--graph", FRONT_DOOR, "--query", "P(Y=1 | do(X=0))", "--data", str(path),
                     "--bootstrap", "50", "--seed", "1")
    assert again["std_error"] == doc["std_error"]  # seeded bootstrap
    partial = run_json(zoo, "--graph", FRONT_DOOR, "--query", "P(Y | do(X=0))", "--data", str(path), "--bootstrap", "20")
    assert partial["value"] is None and [row["Y"] for row in partial["distribution"]] == [0, 1]
    assert sum(row["value"] for row in partial["distribution"]) == pytest.approx(1.0)


def test_dsep_adjustment_front_door_and_rules_json(zoo):
    assert run_json(zoo, "--graph", "A <-> B; B <-> C", "--dsep", "A _||_ C | B")["separated"] is False
    assert run_json(zoo, "--graph", "A <-> B; B <-> C", "--dsep", "A _||_ C")["separated"] is True
    doc = run_json(zoo, "--graph", "Z1 -> X; Z1 -> Z2; Z2 -> Y; X -> Y", "--adjustment-sets",
                   "--treatment", "X", "--outcome", "Y")
    assert doc["adjustment_sets"] == [["Z1"], ["Z2"]] and doc["complete"] is True
    capped = run_json(zoo, "--graph", "Z1 -> X; Z1 -> Z2; Z2 -> Y; X -> Y", "--adjustment-sets",
                      "--treatment", "X", "--outcome", "Y", "--max-sets", "1")
    assert len(capped["adjustment_sets"]) == 1 and capped["complete"] is False
    assert run_json(zoo, "--graph", FRONT_DOOR, "--front-door", "M", "--treatment", "X", "--outcome", "Y")["front_door"]
    backdoor = ["--graph", "Z -> X; Z -> Y; X -> M; M -> Y", "--treatment", "X", "--outcome", "Y"]
    assert run_json(zoo, *backdoor, "--backdoor", "Z")["backdoor"] is True
    assert run_json(zoo, *backdoor, "--backdoor", "Z, M")["backdoor"] is False  # M descends from X
    assert run_json(zoo, *backdoor, "--backdoor", "")["backdoor"] is False  # the empty set is a question too
    assert run_json(zoo, "--graph", "X -> Y", "--treatment", "X", "--outcome", "Y", "--backdoor", "")["backdoor"] is True
    rule = run_json(zoo, "--graph", "Z -> X; X -> Y; Z -> Y", "--rule", "2", "--query", "P(Y | do(X, Z))", "--on", "Z")
    assert rule["applies"] is True and rule["result"] == "P(Y | do(X), Z)"
    assert rule["separation"]["statement"] == "Y _||_ Z | X"
    assert rule["graph"]["name"] == "G with edges into X removed and edges out of Z removed"
    assert rule["graph"]["directed"] == [["X", "Y"]]


@pytest.mark.parametrize("args, message", [
    (["--graph", "A -> B; B -> A", "--query", "P(B | do(A))"], "cycle: A -> B -> A"),
    (["--graph", "X -> Y", "--query", "P(Y | do(Q))"], "'Q' is not a node of the graph"),
    (["--graph", "X -> Y", "--query", "Y given X"], "cannot read 'Y given X'"),
    (["--graph", "X -> Y; Z -> Y", "--query", "P(Y | do(X) Z)"],
     "--query: cannot read 'P(Y | do(X) Z)' at column 13: separate the conditions with commas: P(Y | do(X), Z)"),
    (["--graph", "X -> Y"], "nothing to answer"),
    (["--graph", "X -> Y", "--dsep", "X _||_ Y", "--adjustment-sets"], "ask one question per run"),
    (["--graph", "X -> Y", "--adjustment-sets"], "needs --treatment X and --outcome Y"),
    (["--graph", "X -> Y", "--rule", "1", "--query", "P(Y | do(X))"], "--rule needs --query"),
    (["--graph", "X -> Y", "--query", "P(Y | do(X))", "--data", "missing.csv"], "no such file"),
    (["--graph", "X -> Y; X <-> Y", "--query", "P(Y=1 | do(X=1))", "--data", "{csv}"], "not identifiable"),
    (["--graph", "X -> Y", "--query", "P(Y=1 | do(X=1))", "--data", "{csv}", "--weight-column", "w"], "no such column"),
    (["--graph", "X -> W", "--query", "P(W=1 | do(X=1))", "--data", "{csv}"], "no column 'W'"),
    (["--graph", "X -> Y", "--query", "P(Y=1 | do(X=1))", "--data", "{csv}", "--seed", "-1"], "--seed -1: must be between 0 and"),
    (["--graph", "Z -> X; Z -> E; X -> E", "--query", "P(E=1 | do(X=1))", "--data", "{csv}"], "column 'E' has no values"),
    (["--graph", "Z -> X; Z -> Y; X -> Y", "--query", "P(Y=1 | do(X=1))", "--data", "{csv}"], "no row has a value"),
])
def test_bad_input_is_one_line_exit_1(zoo, tmp_path, args, message):
    csv_file = tmp_path / "d.csv"
    csv_file.write_text("X,Y,Z,E\n0,1,,\n1,,0,\n")
    args = [a.replace("{csv}", str(csv_file)) for a in args]
    code, out, err = zoo("run", "do-calculus", *args)
    assert code == 1 and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("content, args, message", [
    # an ID column: text with too many values for categories, and no number for a regression
    ("X,Y\n" + "".join(f"id{i},{i % 2}\n" for i in range(5000)), ["--query", "P(Y=1 | do(X=id1))"],
     "column 'X' is text with 5000 distinct values (e.g. 'id0', 'id1', 'id2', ...): too many categories for a "
     "discrete estimate (at most 20), and not numbers, so no regression either; recode or bin it into at most 20 "
     "categories, or drop it from the graph and the query"),
    ("X,Y\n" + "".join(f"id{i},{i % 2}\n" for i in range(5000)), ["--query", "E[Y | do(X=id1)] - E[Y | do(X=id2)]"],
     "column 'X' is text with 5000 distinct values"),
    ("X,Y\n" + "".join(f"{v},{i % 2}\n" for i, v in enumerate(["two", "3.5", "True", "1"] * 5)),
     ["--query", "P(Y=1 | do(X=two))"],
     "column 'X' mixes numbers (3.5, 1) and text (two, True); make every value a number, or pass --categorical X "
     "to read all its values as categories"),
    ("X,Y\n1,0\n", ["--query", "P(Y | do(X))"], "d.csv has 1 row; plug-in estimation needs at least 2 rows"),
    ("X,Y\n1,0\n0,1,\n", ["--query", "P(Y | do(X))"],
     "line 3 ends with a ',': a trailing delimiter gives it an extra empty field, 3 fields to the header's 2; "
     "remove the trailing ','"),
    ("X,Y\n1,0\n0,1\n", ["--query", "P(Y | do(X))", "--categorical", "W"], "--categorical W: "),
])
def test_bad_data_is_one_line_exit_1(zoo, tmp_path, content, args, message):
    csv_file = tmp_path / "d.csv"
    csv_file.write_text(content)
    code, out, err = zoo("run", "do-calculus", "--graph", "X -> Y", "--data", str(csv_file), *args)
    assert code == 1 and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_categorical_declares_a_mixed_column_categories(zoo, tmp_path):
    csv_file = tmp_path / "d.csv"
    csv_file.write_text("X,Y\n" + "".join(f"{v},{i % 2}\n" for i, v in enumerate(["two", "3.5", "True", "1"] * 5)))
    doc = run_json(zoo, "--graph", "X -> Y", "--query", "P(Y=1 | do(X=two))", "--data", str(csv_file),
                   "--categorical", "X", "--bootstrap", "0")
    assert doc["value"] == 0.0 and doc["rows_used"] == 20
    code, _, err = zoo("run", "do-calculus", "--graph", "X -> Y", "--query", "P(Y | do(X))", "--categorical", "X")
    assert code == 1 and "--categorical names columns of --data" in err


@pytest.mark.parametrize("question", [["--query", "P(Y | do(X))"], ["--dsep", "X _||_ Y | M"],
                                      ["--adjustment-sets", "--treatment", "M", "--outcome", "Y"],
                                      ["--rule", "2", "--query", "P(Y | do(M))", "--on", "M"]])
def test_graph_questions_import_neither_torch_nor_numpy(question):
    # start-up is a feature: a question the graph alone answers loads no estimation code
    sniff = ("import sys\nfrom zoo_core.cli import main\n"
             f"code = main(['run', 'do-calculus', '--graph', 'X -> M; M -> Y; X <-> Y', *{question!r}])\n"
             "print('LOADED=' + ','.join(m for m in ('torch', 'numpy', 'scipy', 'zoo_docalculus.estimate') "
             "if m in sys.modules), file=sys.stderr)\nsys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", sniff], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "LOADED=\n" in result.stderr and result.stdout.strip()


@pytest.mark.parametrize("question", [["--query", "P(V1 | do(V0))"], ["--dsep", "V0 _||_ V2"],
                                      ["--adjustment-sets", "--treatment", "V0", "--outcome", "V1"]])
def test_a_cycle_through_thousands_of_nodes_is_named_like_a_small_one(zoo, question):
    """Issue 21.3: a cycle of >= 1,000 nodes ended in 'unexpected RecursionError' (graph.py:89)."""
    n = 3000
    graph = "; ".join(f"V{i} -> V{(i + 1) % n}" for i in range(n))
    code, out, err = zoo("run", "do-calculus", "--graph", graph, *question)
    assert code == 1 and "cycle: V0 -> V1 -> " in err and f"-> V{n - 1} -> V0;" in err, err
    assert f"({n + 1 - 12} more)" in err and err.count("\n") == 1 and "Recursion" not in err


def test_names_in_any_script_parse_in_graphs_and_queries_alike(zoo):
    """Issue 21.11: the graph parser refused 'température' while pc accepts it as a column."""
    answer = run_json(zoo, "--graph", "saison -> température; température -> glaces; saison -> glaces",
                      "--query", "P(glaces | do(température))")
    assert answer["identifiable"] is True and "saison" in answer["estimand"]
    assert run_json(zoo, "--graph", "温度 -> 売上", "--dsep", "温度 _||_ 売上")["separated"] is False


def test_a_node_named_do_is_refused_in_the_graph_where_a_query_could_not_name_it(zoo, tmp_path):
    """Issue 21.11: a node named 'do' parsed in a graph but not in a query."""
    code, _, err = zoo("run", "do-calculus", "--graph", "do -> Y", "--query", "P(Y | do(do))")
    assert code == 1 and "a node cannot be named 'do'" in err and err.count("\n") == 1
    graph = tmp_path / "g.json"
    graph.write_text('{"directed": [["do", "Y"]]}')
    code, _, err = zoo("run", "do-calculus", "--graph", str(graph), "--query", "P(Y)")
    assert code == 1 and "a node cannot be named 'do'" in err


@pytest.mark.parametrize("model", ["pc", "fci"])
def test_a_one_column_csv_is_refused_from_its_header_before_it_is_read(zoo, tmp_path, model):
    """Issue 21.11: a 10 MB one-column CSV made pc use 1.47 GB and 12 s to say it needs two columns."""
    data = tmp_path / "one.csv"
    data.write_text("température\n" + "1.5\n" * 2_000_000)
    code, _, err = zoo("run", model, "--data", str(data))
    assert code == 1 and "needs at least 2 columns, found 1 in its header ('température')" in err, err
    weighted = tmp_path / "w.csv"
    weighted.write_text("A;w\n1;2\n")
    code, _, err = zoo("run", model, "--data", str(weighted), "--weight-column", "w")
    assert code == 1 and "found 1 in its header ('A')" in err


def test_bootstrap_notes_and_standard_errors_agree_when_a_stratum_is_empty(zoo, tmp_path):
    """Issue 21.11: '100% of bootstrap replicates hit an empty cell and were left out', yet standard
    errors were printed for the X=0 rows. X=1 never occurs with Z=1: its rows are undefined in the data
    and in every replicate; that empties no row the data define, so no replicate is left out."""
    rng = np.random.default_rng(1)
    z = rng.integers(0, 2, 400)
    x = np.where(z == 1, 0, rng.integers(0, 2, 400))
    y = (x + z + rng.integers(0, 2, 400)) % 2
    data = tmp_path / "d.csv"
    data.write_text("X,Y,Z\n" + "".join(f"{a},{b},{c}\n" for a, b, c in zip(x, y, z)))
    doc = run_json(zoo, "--graph", "Z -> X; Z -> Y; X -> Y", "--query", "P(Y | do(X))", "--data", str(data))
    rows = doc["distribution"]
    assert [r["std_error"] is not None for r in rows] == [True, True, False, False]
    assert [r["value"] is not None for r in rows] == [True, True, False, False]
    assert not any("left out" in note for note in doc.get("notes", []))
    code, out, err = zoo("run", "do-calculus", "--graph", "Z -> X; Z -> Y; X -> Y", "--query", "P(Y | do(X))",
                         "--data", str(data))
    assert code == 0 and "left out" not in out and out.count("std. error") == 2, out
