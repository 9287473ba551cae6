"""Reading causal diagrams and queries: every accepted spelling, and one-line errors for the rest."""

import json

import pytest

from zoo_core import InputError
from zoo_docalculus.graph import parse_graph
from zoo_docalculus.query import Contrast, parse_query, parse_query_or_contrast


def test_inline_text_with_chains_reversed_arrows_and_bidirected_edges():
    graph = parse_graph("Z -> X -> Y; Y <- W; X <-> Y; Lonely")
    assert set(graph.nodes) == {"Z", "X", "Y", "W", "Lonely"}
    assert graph.directed == {("Z", "X"), ("X", "Y"), ("W", "Y")}
    assert graph.bidirected == {("X", "Y")}
    assert graph.topological_order.index("Z") < graph.topological_order.index("X") < graph.topological_order.index("Y")


def test_text_and_json_files(tmp_path):
    text = tmp_path / "g.txt"
    text.write_text("# a front-door graph\nX -> M\nM -> Y\nX <-> Y  # latent confounder\n")
    assert parse_graph(str(text)) == parse_graph("X -> M; M -> Y; X <-> Y")
    spec = tmp_path / "g.json"
    spec.write_text(json.dumps({"nodes": ["X", "M", "Y", "Q"], "directed": [["X", "M"], ["M", "Y"]],
                                "bidirected": [["X", "Y"]]}))
    graph = parse_graph(str(spec))
    assert graph.nodes == ("X", "M", "Y", "Q") and graph.bidirected == {("X", "Y")}
    # saved by an editor that writes a byte-order mark (and Windows line ends)
    text.write_bytes(b"\xef\xbb\xbfX -> M\r\nM -> Y\r\nX <-> Y\r\n")
    assert parse_graph(str(text)) == parse_graph("X -> M; M -> Y; X <-> Y")
    spec.write_bytes(b"\xef\xbb\xbf" + spec.read_bytes())
    assert parse_graph(str(spec)) == graph


@pytest.mark.parametrize("spec, message", [
    ("A -> B; B -> C; C -> A", "cycle: A -> B -> C -> A"),
    ("A -> A", "self-loop on A"),
    ("A => B", "cannot read 'A => B'"),
    ("A -> 1B", "cannot read"),
    ("", "the graph is empty"),
    ("missing.json", "no such file"),
])
def test_bad_graphs_are_one_line_errors(spec, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_graph(spec)
    assert "\n" not in str(caught.value)


def test_bad_lines_in_a_file_are_named_by_line(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("X -> Y\nY -> Z\nZ --> W\n")
    with pytest.raises(InputError, match=r"g.txt: line 3: cannot read 'Z --> W'"):
        parse_graph(str(path))


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON"),
    ('{"nodes": ["A"], "directed": [["A", "B"]]}', "'B', which is not in \"nodes\""),
    ('{"directed": [["A"]]}', "list of \\[from, to\\] pairs"),
    ('{"edges": []}', "unknown key 'edges'"),
])
def test_bad_json_graphs(tmp_path, content, message):
    path = tmp_path / "g.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        parse_graph(str(path))


def test_queries_with_several_outcomes_treatments_conditions_and_values():
    query = parse_query("P(Y, W | do(X1, X2), Z)")
    assert list(query.outcomes) == ["Y", "W"] and list(query.treatments) == ["X1", "X2"]
    assert list(query.conditions) == ["Z"]
    valued = parse_query("P(Y=1 | do(X=0), Z=1.0)")
    assert valued.variables == {"Y": "1", "X": "0", "Z": "1.0"}
    assert str(valued) == "P(Y=1 | do(X=0), Z=1.0)"
    assert parse_query("P(Y)").treatments == {}


def test_contrasts_are_expectations_that_differ_only_in_treatment_values():
    contrast = parse_query_or_contrast("E[Y | do(X=1)] - E[Y | do(X=0)]")
    assert isinstance(contrast, Contrast)
    assert contrast.treated.treatments == {"X": "1"} and contrast.control.treatments == {"X": "0"}
    with pytest.raises(InputError, match="same outcome"):
        parse_query_or_contrast("E[Y | do(X=1)] - E[W | do(X=0)]")
    reordered = parse_query_or_contrast("E[Y | do(X=1, W=0)] - E[Y | do(W=0, X=0)]")  # order does not matter
    assert reordered.control.treatments == {"W": "0", "X": "0"}
    with pytest.raises(InputError, match="value for every treatment"):
        parse_query_or_contrast("E[Y | do(X)] - E[Y | do(X=0)]")


@pytest.mark.parametrize("text, message", [
    ("Y | do(X)", "cannot read"),
    ("P(Y | X | Z)", "more than one"),
    ("P(| do(X))", "names no outcome"),
    ("P(Y | do(Y))", "both an outcome and a treatment"),
    ("P(Y | do(X), X)", "both a treatment and a condition"),
    ("P(do(X) | Y)", "belongs after"),
    ("P(Y | dox(X))", "do\\(X, Z=1\\)"),
    ("E[Y, W | do(X=1)]", "one outcome"),
    ("P(Y | do(X)", "ends before its closing '\\)'"),
    ("P(Y | X=)", "X= needs a value"),
    ("P(Y | X='a)", "never closed"),
    ("P(1 | X)", "'1' is not a variable name"),
])
def test_bad_queries(text, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_query_or_contrast(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text, column, fix", [
    ("P(Y | do(X) Z)", 13, "separate the conditions with commas: P(Y | do(X), Z)"),
    ("P(Y | Z do(X))", 9, "separate the conditions with commas: P(Y | Z, do(X))"),
    ("P(Y X | do(Z))", 5, "separate the outcomes with commas: P(Y, X | do(Z))"),
    ("P(Y | do(X Z))", 12, "separate the treatments with commas: P(Y | do(X, Z))"),
    ("E[Y | do(X=1)] - E[Y | do(X=0) Z]", 32,  # a column of the whole contrast, and the whole contrast fixed
     "separate the conditions with commas: E[Y | do(X=1)] - E[Y | do(X=0), Z]"),
])
def test_a_missing_comma_is_refused_at_its_column_with_the_fixed_query(text, column, fix):
    with pytest.raises(InputError) as caught:
        parse_query_or_contrast(text)
    assert str(caught.value) == f"--query: cannot read {text!r} at column {column}: {fix}"


@pytest.mark.parametrize("text, column", [
    ("P(Y | X | Z)", 9), ("P(| do(X))", 3), ("P(Y | do(Y))", 10), ("P(Y | do(X), X)", 14),
    ("P(do(X) | Y)", 3), ("P(Y | dox(X))", 7), ("E[Y, W | do(X=1)]", 6), ("E[Y=1 | do(X)]", 5),
    ("P(Y | do(X)", 12), ("P(Y) Z", 6), ("P(Y ; X)", 5), ("  Y given X", 3), ("P(Y, Y)", 6),
    ("E[Y | do(X=1)] - E[Y | do(X=0)] - E[Y | do(X=2)]", 33),
])
def test_query_errors_say_the_column_of_the_problem(text, column):
    with pytest.raises(InputError, match=f"^--query: cannot read .* at column {column}: ") as caught:
        parse_query_or_contrast(text)
    assert "\n" not in str(caught.value) and "^" not in str(caught.value)


def test_quoted_values_may_hold_commas_and_spaces_and_print_so_they_read_back():
    query = parse_query("P(Y='a, b' | do(X=\"it's\", W=-1), Z=\"x y\")")
    assert query.outcomes == {"Y": "a, b"}
    assert query.treatments == {"X": "it's", "W": "-1"} and query.conditions == {"Z": "x y"}
    assert str(query) == "P(Y='a, b' | do(X=\"it's\", W=-1), Z='x y')"
    assert parse_query(str(query)) == query
