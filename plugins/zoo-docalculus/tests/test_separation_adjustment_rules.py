"""m-separation, adjustment sets and Pearl's rules, each checked against an independent truth:
path enumeration, brute force over subsets, and exact interventional distributions."""

import itertools

import numpy as np
import pytest

from zoo_core import InputError
from zoo_docalculus.adjustment import is_backdoor, is_frontdoor, minimal_backdoor_sets
from zoo_docalculus.graph import parse_graph
from zoo_docalculus.query import parse_query
from zoo_docalculus.rules import check_rule
from zoo_docalculus.separation import m_separated, parse_dsep
from zoo_docalculus.simulate import DiscreteModel, random_admg


def test_bidirected_collider_opens_when_conditioned_on():
    graph = parse_graph("A <-> B; B <-> C")
    assert m_separated(graph, {"A"}, {"C"})
    assert not m_separated(graph, {"A"}, {"C"}, {"B"})  # B is a collider on A <-> B <-> C
    mixed = parse_graph("A -> B; B <-> C; B -> D")
    assert m_separated(mixed, {"A"}, {"C"})
    assert not m_separated(mixed, {"A"}, {"C"}, {"D"})  # a descendant of the collider opens it too


def _paths(graph, a, b):
    """Every simple path from a to b as (nodes, edge marks): marks[i] = (head at left, head at right)."""
    edges = {}
    for u, v in graph.directed:
        edges.setdefault(u, []).append((v, (False, True)))
        edges.setdefault(v, []).append((u, (True, False)))
    for u, v in graph.bidirected:
        edges.setdefault(u, []).append((v, (True, True)))
        edges.setdefault(v, []).append((u, (True, True)))

    def walk(path, marks):
        if path[-1] == b:
            yield path, marks
            return
        for nxt, mark in edges.get(path[-1], []):
            if nxt not in path:
                yield from walk(path + [nxt], marks + [mark])

    yield from walk([a], [])


def _open(graph, path, marks, given):
    ancestors = graph.ancestors(given)
    for i in range(1, len(path) - 1):
        collider = marks[i - 1][1] and marks[i][0]
        if collider and path[i] not in ancestors:
            return False
        if not collider and path[i] in given:
            return False
    return True


def test_m_separation_matches_path_enumeration_on_random_graphs():
    checked = 0
    for seed in range(60):
        graph = random_admg(6, degree=2.5, bidirected=1.2, seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(5):
            a, b, *rest = rng.permutation(graph.nodes)
            given = set(rest[:int(rng.integers(0, 3))])
            truth = not any(_open(graph, p, m, given) for p, m in _paths(graph, a, b))
            assert m_separated(graph, {a}, {b}, given) == truth, (graph, a, b, given)
            checked += 1
    assert checked == 300


def test_m_separation_matches_path_enumeration_whatever_order_the_nodes_are_given_in():
    # the search explores a prefix of a topological order; a graph whose nodes are listed out
    # of causal order (and sets of sources and targets) must give the same answers
    from zoo_docalculus.graph import ADMG
    from zoo_docalculus.separation import m_connected_nodes

    for seed in range(40):
        base = random_admg(7, degree=2.5, bidirected=1.0, seed=100 + seed)
        rng = np.random.default_rng(seed)
        graph = ADMG(list(rng.permutation(base.nodes)), base.directed, base.bidirected)
        for _ in range(5):
            a, b, *rest = rng.permutation(graph.nodes)
            given = set(rest[:int(rng.integers(0, 4))])
            truth = not any(_open(graph, p, m, given) for p, m in _paths(graph, a, b))
            assert m_separated(graph, {a}, {b}, given) == truth, (graph, a, b, given)
            reached = m_connected_nodes(graph, {a}, given)  # no targets: the whole graph
            assert (b not in reached) == truth, (graph, a, b, given)


def test_dsep_statements_parse_and_reject_overlaps():
    assert parse_dsep("A, B _||_ C | D, E") == (["A", "B"], ["C"], ["D", "E"])
    assert parse_dsep("A _||_ C") == (["A"], ["C"], [])
    with pytest.raises(InputError, match="cannot read"):
        parse_dsep("A independent of C")
    with pytest.raises(InputError, match="both in the first set and conditioned on"):
        m_separated(parse_graph("A -> B"), {"A"}, {"B"}, {"A"})


def _brute_force_minimal(graph, x, y):
    allowed = [v for v in graph.nodes if v not in set(x) | set(y) | graph.descendants(x)]
    valid = [set(c) for r in range(len(allowed) + 1) for c in itertools.combinations(allowed, r)
             if is_backdoor(graph, x, y, c)]
    return sorted(sorted(v) for v in valid if not any(w < v for w in valid))


def test_minimal_adjustment_sets_equal_brute_force_and_never_hold_descendants_of_the_treatment():
    multiple = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 10))
        graph = random_admg(n, degree=float(rng.uniform(2, 4.5)), bidirected=float(rng.uniform(0, 0.8)), seed=seed)
        x, y = [graph.nodes[n - 2]], [graph.nodes[n - 1]]
        found = list(minimal_backdoor_sets(graph, x, y))
        assert sorted(sorted(s) for s in found) == _brute_force_minimal(graph, x, y), (graph, x, y)
        for adjustment in found:
            assert not set(adjustment) & graph.descendants(x)
        multiple += len(found) > 1
    assert multiple > 30


def test_mediators_are_never_adjusted_for():
    # pgmpy issue #3553's shape: a mediator M that also looks like a confounder of a confounder
    graph = parse_graph("X -> M; M -> Y; Z -> X; Z -> Y; M -> W; W -> Y; Z -> W")
    sets = list(minimal_backdoor_sets(graph, ["X"], ["Y"]))
    assert sets == [["Z"]]


def test_adjustment_set_edge_cases_and_the_cap():
    assert list(minimal_backdoor_sets(parse_graph("X -> Y"), ["X"], ["Y"])) == [[]]
    assert list(minimal_backdoor_sets(parse_graph("X -> Y; X <-> Y"), ["X"], ["Y"])) == []
    # k parallel two-node confounding paths have 2^k minimal sets
    k = 6
    edges = "; ".join(f"X <- A{i}; A{i} <- B{i}; B{i} -> Y" for i in range(k))
    graph = parse_graph(f"X -> Y; {edges}")
    assert len(list(minimal_backdoor_sets(graph, ["X"], ["Y"]))) == 2 ** k
    assert len(list(minimal_backdoor_sets(graph, ["X"], ["Y"], limit=5))) == 5


def test_front_door_criterion():
    graph = parse_graph("X -> M; M -> Y; X <-> Y")
    assert is_frontdoor(graph, ["X"], ["Y"], ["M"])
    assert not is_frontdoor(parse_graph("X -> M; M -> Y; X -> Y; X <-> Y"), ["X"], ["Y"], ["M"])  # a direct path
    assert not is_frontdoor(parse_graph("X -> M; M -> Y; X <-> M"), ["X"], ["Y"], ["M"])  # X-M confounded
    assert not is_frontdoor(parse_graph("X -> M; M -> Y; M <-> Y"), ["X"], ["Y"], ["M"])  # M-Y confounded


def test_rule_results_describe_the_mutilated_graph_and_separation():
    graph = parse_graph("Z -> X; X -> Y; Z -> Y; W -> Y")
    one = check_rule(graph, 1, parse_query("P(Y | do(X), Z, W)"), ["W"])
    assert not one.applies and str(one.after) == "P(Y | do(X), Z)"
    assert one.separation_text() == "Y _||_ W | Z, X" and one.graph_name == "G with edges into X removed"
    two = check_rule(graph, 2, parse_query("P(Y | do(X, Z))"), ["Z"])
    assert two.applies and str(two.after) == "P(Y | do(X), Z)"
    assert ("Z", "Y") not in two.graph.directed and ("Z", "X") not in two.graph.directed
    three = check_rule(parse_graph("Z -> X; X -> Y"), 3, parse_query("P(Y | do(X, Z))"), ["Z"])
    assert three.applies and str(three.after) == "P(Y | do(X))"
    with pytest.raises(InputError, match="rule 1 deletes observations"):
        check_rule(graph, 1, parse_query("P(Y | do(X, Z))"), ["Z"])
    with pytest.raises(InputError, match="rule 3 acts on interventions"):
        check_rule(graph, 3, parse_query("P(Y | do(X), Z)"), ["Z"])


def _exact(model, query):
    return model.effect(list(query.outcomes), list(query.treatments), list(query.conditions))


def test_whenever_a_rule_applies_both_sides_are_equal_in_random_models():
    applied = {1: 0, 2: 0, 3: 0}
    for seed in range(300):
        rng = np.random.default_rng(seed)
        graph = random_admg(6, degree=float(rng.uniform(1, 3)), bidirected=float(rng.uniform(0, 1)), seed=seed)
        y, x, z, w = (str(v) for v in rng.permutation(graph.nodes)[:4])
        rule = int(rng.integers(1, 4))
        query = parse_query(f"P({y} | do({x}), {z}, {w})" if rule == 1 else f"P({y} | do({x}, {z}), {w})")
        check = check_rule(graph, rule, query, [z])
        if not check.applies:
            continue
        applied[rule] += 1
        model = DiscreteModel.random(graph, seed=seed)
        before, after = _exact(model, check.before), _exact(model, check.after)
        shape = np.broadcast_shapes(before.shape, after.shape)
        np.testing.assert_allclose(np.broadcast_to(before, shape), np.broadcast_to(after, shape), atol=1e-9)
    assert min(applied.values()) > 10, applied


def test_a_rule_that_does_not_apply_is_a_real_difference():
    graph = parse_graph("Z -> X; X -> Y; Z -> Y")
    check = check_rule(graph, 3, parse_query("P(Y | do(X, Z))"), ["Z"])
    assert not check.applies  # Z -> Y: the action on Z matters
    model = DiscreteModel.random(graph, seed=1)
    before, after = _exact(model, check.before), _exact(model, check.after)
    assert np.abs(np.broadcast_to(before, (2, 2, 2)) - np.broadcast_to(after, (2, 2, 2))).max() > 1e-3


def test_python_api_rejects_unknown_names_and_rules_in_one_line():
    from zoo_docalculus.analyzer import DoCalculus

    dc = DoCalculus()
    with pytest.raises(InputError, match="--treatment: 'Q' is not a node"):
        dc.adjustment_sets("X -> Y", ["Q"], ["Y"])
    with pytest.raises(InputError, match="--backdoor: 'Q' is not a node"):
        dc.backdoor("X -> Y", ["X"], ["Y"], ["Q"])
    with pytest.raises(InputError, match="--front-door: 'Q' is not a node"):
        dc.front_door("X -> Y", ["X"], ["Y"], ["Q"])
    with pytest.raises(InputError, match="--rule 4: the do-calculus has rules 1, 2 and 3"):
        dc.rule("X -> Y", 4, "P(Y | do(X))", ["X"])
