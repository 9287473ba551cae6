"""Effect estimation on continuous and mixed data: the estimators against known truth, the
diagnostics, data as users hold it, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from zoo_core import InputError
from zoo_docalculus import synthetic
from zoo_docalculus.analyzer import DoCalculus
from zoo_docalculus.diagnostics import e_value, robustness_value

QUERY = "E[Y | do(T=1)] - E[Y | do(T=0)]"


def covers(estimate, truth) -> bool:
    return estimate.interval[0] <= truth <= estimate.interval[1]


@pytest.fixture(scope="module")
def confounded():
    return synthetic.confounded(2000, seed=3)


@pytest.fixture(scope="module")
def aipw_boosting(confounded):
    return DoCalculus().estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, learner="boosting")


@pytest.mark.slow
def test_aipw_recovers_a_nonlinear_confounded_effect(confounded, aipw_boosting):
    e = aipw_boosting
    assert e.estimator == "aipw" and e.target == "ate"
    assert covers(e, confounded.ate) and e.std_error < 0.2
    linear = e.diagnostics["linear"]
    assert linear["value"] is not None and "flagged" in e.diagnostics["misspecification"]


@pytest.mark.slow
def test_diagnostics_report_overlap_balance_and_sensitivity(confounded, aipw_boosting):
    d = aipw_boosting.diagnostics
    arms = {a["arm"]: a for a in d["overlap"]["arms"]}
    assert set(arms) == {"T=1", "T=0"}
    assert sum(a["rows"] for a in arms.values()) == 2000
    assert all(0 < a["propensity_min"] < a["propensity_max"] < 1 and a["effective_rows"] > 0 for a in arms.values())
    balance = {b["covariate"]: b for b in d["balance"]}
    assert set(balance) == {"X1", "X2", "X3", "X4", "X5"}
    # X1 drives the propensity: imbalanced before, much better after weighting
    assert abs(balance["X1"]["smd_before"]) > 0.3
    assert abs(balance["X1"]["smd_after"]) < abs(balance["X1"]["smd_before"]) / 2
    assert d["sensitivity"]["e_value"]["point"] > 1
    assert d["threads"] >= 1
    # everything JSON-serialisable, as zoo run --json prints it
    json.dumps(aipw_boosting.to_dict(), allow_nan=False)


@pytest.mark.slow
def test_att_and_atc_differ_from_the_ate_when_effects_are_heterogeneous(confounded):
    est = DoCalculus()
    att = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, learner="boosting", target="att")
    atc = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, learner="boosting", target="atc")
    assert abs(confounded.att - confounded.atc) > 0.1  # the simulation's effect varies with the propensity
    assert covers(att, confounded.att) and covers(atc, confounded.atc)
    assert att.target == "att" and atc.target == "atc"


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["ipw", "matching"])
def test_ipw_and_matching_land_near_the_truth(confounded, estimator):
    e = DoCalculus().estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, learner="boosting",
                              estimator=estimator, target="att")
    assert e.estimator == estimator
    assert abs(e.value - confounded.att) < 4 * e.std_error, (e.value, e.std_error, confounded.att)


@pytest.mark.slow
def test_matching_on_covariates_and_the_regression_plug_in(confounded):
    est = DoCalculus()
    m = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, estimator="matching", match_on="covariates",
                     neighbours=3, target="att")
    assert "covariates (Mahalanobis)" in m.method and abs(m.value - confounded.att) < 4 * m.std_error
    r = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, estimator="regression", learner="boosting")
    assert r.std_error is None and r.interval is None and any("--bootstrap" in n for n in r.notes)
    assert abs(r.value - confounded.ate) < 0.4


def test_a_linear_truth_gets_the_same_answer_from_linear_and_aipw():
    rng = np.random.default_rng(1)
    n = 3000
    z = rng.normal(size=(n, 2))
    t = (rng.random(n) < 1 / (1 + np.exp(-z[:, 0]))).astype(int)
    y = 2.0 * t + z @ np.array([1.0, -1.0]) + rng.normal(size=n)
    data = {"Z1": z[:, 0], "Z2": z[:, 1], "T": t, "Y": y}
    graph = "Z1 -> T; Z1 -> Y; Z2 -> Y; T -> Y"
    e = DoCalculus().estimate(graph, QUERY, data, learner="linear")
    assert covers(e, 2.0) and e.diagnostics["misspecification"]["flagged"] is False
    assert "Z1" in e.method and "Z2" not in e.method  # the minimal back-door set


@pytest.mark.slow
def test_effect_modifiers_give_conditional_effects_with_intervals(confounded):
    e = DoCalculus().estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, learner="boosting",
                              effect_modifiers="X2, X5")
    by = {c["modifier"]: c for c in e.conditional}
    # the effect is 1 + 0.5 X2 + 1{X4 > 0} + 0.8 sin(1.5 X1): slope 0.5 in X2, and X5 does not modify it
    x2 = by["X2"]
    assert x2["kind"] == "linear" and abs(x2["slope"] - 0.5) < 4 * x2["slope_std_error"]
    assert [p["value"] for p in x2["at_quartiles"]] == sorted(p["value"] for p in x2["at_quartiles"])
    levels = {g["value"]: g for g in by["X5"]["groups"]}
    assert set(levels) == {0, 1}
    assert abs(levels[0]["effect"] - levels[1]["effect"]) < 4 * math.hypot(levels[0]["std_error"], levels[1]["std_error"])


@pytest.mark.slow
def test_a_continuous_treatment_gets_the_doubly_robust_kernel_estimate():
    sim = synthetic.dose_response(3000, seed=0)
    query = "E[Y | do(D=0.5)] - E[Y | do(D=-0.5)]"
    e = DoCalculus().estimate(synthetic.DOSE_GRAPH, query, sim.columns, learner="boosting")
    assert "Kennedy" in e.method and covers(e, sim.ate), (e.value, e.interval, sim.ate)
    linear = e.diagnostics["linear"]
    assert linear["value"] is not None
    with pytest.raises(InputError, match="needs a discrete treatment; D is continuous"):
        DoCalculus().estimate(synthetic.DOSE_GRAPH, query, sim.columns, estimator="ipw")
    with pytest.raises(InputError, match="outside the treatment's observed range"):
        DoCalculus().estimate(synthetic.DOSE_GRAPH, "E[Y | do(D=40)] - E[Y | do(D=0)]", sim.columns)


def test_a_root_treatment_with_a_nonlinear_effect_is_not_linearised():
    # the pendulum case in miniature: X is a root (nothing to adjust for), Y is non-linear in X
    rng = np.random.default_rng(5)
    x = rng.uniform(0.9, 2.3, 3000)
    y = np.maximum(3, 9.5 * np.abs(np.cos(x - 0.2)) / np.sin(x)) + rng.normal(size=3000)
    truth = float(np.maximum(3, 9.5 * np.abs(np.cos(1.2 - 0.2)) / np.sin(1.2))
                  - np.maximum(3, 9.5 * np.abs(np.cos(2.0 - 0.2)) / np.sin(2.0)))
    e = DoCalculus().estimate("X -> Y", "E[Y | do(X=1.2)] - E[Y | do(X=2.0)]", {"X": x, "Y": y})
    assert covers(e, truth), (e.value, e.interval, truth)
    lin = DoCalculus().estimate("X -> Y", "E[Y | do(X=1.2)] - E[Y | do(X=2.0)]", {"X": x, "Y": y}, estimator="linear")
    assert not covers(lin, truth)
    assert lin.diagnostics["misspecification"]["flagged"] is True
    assert lin.diagnostics["flexible"]["value"] == pytest.approx(e.value)


@pytest.mark.slow
def test_the_front_door_doubly_robust_estimator_with_a_continuous_mediator():
    rng = np.random.default_rng(2)
    n = 4000
    u = rng.normal(size=n)  # hidden confounder of X and Y
    x = (rng.random(n) < 1 / (1 + np.exp(-u))).astype(int)
    m = 1.5 * x + np.sin(u * 0) + rng.normal(size=n)  # M depends on X only
    y = np.tanh(m) * 2 + 1.5 * u + rng.normal(size=n) * 0.5
    # truth: E[Y | do(X=x)] = E[2 tanh(1.5 x + e)] with e ~ N(0, 1)
    e = rng.normal(size=400000)
    truth = float(np.mean(2 * np.tanh(1.5 + e)) - np.mean(2 * np.tanh(e)))
    graph = "X -> M; M -> Y; X <-> Y"
    data = {"X": x, "M": m, "Y": y}
    dr = DoCalculus().estimate(graph, "E[Y | do(X=1)] - E[Y | do(X=0)]", data, learner="boosting")
    assert "front-door" in dr.method and covers(dr, truth), (dr.value, dr.interval, truth)
    plug = DoCalculus().estimate(graph, "E[Y | do(X=1)] - E[Y | do(X=0)]", data, estimator="regression",
                                 learner="boosting")
    assert plug.interval is None and abs(plug.value - truth) < 0.15
    with pytest.raises(InputError, match="front-door formula .* where aipw .* and regression"):
        DoCalculus().estimate(graph, "E[Y | do(X=1)] - E[Y | do(X=0)]", data, estimator="ipw")


def test_data_as_a_dataframe_a_mapping_a_csv_and_a_stata_file_give_the_same_estimate(tmp_path, confounded):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(confounded.columns)
    kw = dict(learner="linear")
    est = DoCalculus()
    from_frame = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, frame, **kw)
    from_dict = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, confounded.columns, **kw)
    frame.to_csv(tmp_path / "d.csv", index=False)
    from_csv = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, tmp_path / "d.csv", **kw)
    frame.to_stata(tmp_path / "d.dta", write_index=False)
    from_dta = est.estimate(synthetic.CONFOUNDED_GRAPH, QUERY, str(tmp_path / "d.dta"), **kw)
    assert from_frame.value == pytest.approx(from_dict.value, rel=1e-12)
    assert from_frame.value == pytest.approx(from_csv.value, rel=1e-9)
    assert from_frame.value == pytest.approx(from_dta.value, rel=1e-5)  # Stata stores float64 too; text round-trip


def test_zoo_core_run_takes_a_dataframe(confounded):
    pandas = pytest.importorskip("pandas")
    import zoo_core

    result = zoo_core.run("do-calculus", data=pandas.DataFrame(confounded.columns), treatment="T", outcome="Y",
                          covariates="all", learner="linear")
    doc = result.to_dict() if hasattr(result, "to_dict") and callable(result.to_dict) else result.to_json()
    text = json.dumps(doc)
    assert '"estimator": "aipw"' in text and '"diagnostics"' in text


def test_the_cli_shorthand_and_the_plot(tmp_path, confounded, zoo):
    pandas = pytest.importorskip("pandas")
    path = tmp_path / "d.csv"
    pandas.DataFrame(confounded.columns).to_csv(path, index=False)
    plot = tmp_path / "overlap.png"
    code, out, err = zoo("run", "do-calculus", "--data", str(path), "--treatment", "T", "--outcome", "Y",
                         "--covariates", "all", "--learner", "linear", "--target", "att", "--plot", str(plot))
    assert code == 0, err
    assert "E[Y | do(T=1)] - E[Y | do(T=0)] [ATT] =" in out
    assert "overlap: T=1:" in out and "balance:" in out and "linear adjustment for comparison" in out
    assert "sensitivity: E-value" in out and f"wrote {plot}" in out
    from PIL import Image

    with Image.open(plot) as image:
        assert image.format == "PNG" and image.width > 600
    # never over an existing file
    code, out, err = zoo("run", "do-calculus", "--data", str(path), "--treatment", "T", "--outcome", "Y",
                         "--covariates", "all", "--plot", str(plot))
    assert code != 0 and "the file exists" in err and "Traceback" not in err
    code, out, err = zoo("run", "do-calculus", "--data", str(path), "--treatment", "T", "--outcome", "Y",
                         "--covariates", "X1,X2,X3,X4,X5", "--learner", "linear", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["estimator"] == "aipw" and "overlap" in doc["diagnostics"] and doc["interval"][0] < doc["value"]


# -- bad input -------------------------------------------------------------------------------

def _two_arms(n=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(int)
    return {"Z": z, "T": t, "Y": z + t + rng.normal(size=n)}


GRAPH = "Z -> T; Z -> Y; T -> Y"


def test_an_empty_treatment_arm_is_named(tmp_path):
    data = _two_arms()
    with pytest.raises(InputError, match="no row has T=2, so that arm is empty"):
        DoCalculus().estimate(GRAPH, "E[Y | do(T=2)] - E[Y | do(T=0)]", data, estimator="aipw")


def test_perfect_separation_names_the_covariate():
    data = _two_arms()
    data["Z"] = data["T"] * 10 + np.random.default_rng(0).random(400)
    with pytest.raises(InputError) as caught:
        DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw")
    assert "covariate 'Z' separates the arms of T perfectly" in str(caught.value) and "\n" not in str(caught.value)


def test_a_constant_covariate_is_left_out_with_a_warning(capsys):
    data = _two_arms()
    data["C"] = np.full(400, 3.0)
    e = DoCalculus().estimate("Z -> T; Z -> Y; C -> T; C -> Y; T -> Y", QUERY, data, estimator="aipw", learner="linear")
    assert covers(e, 1.0)
    assert "covariate 'C' is constant (3) in the rows used; left out" in capsys.readouterr().err


def test_missing_values_drop_rows_with_a_warning_naming_the_column(capsys):
    data = _two_arms()
    z = data["Z"].copy()
    z[:25] = np.nan
    data["Z"] = z
    e = DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw", learner="linear")
    assert e.rows_used == 375 and e.rows_dropped == 25
    assert "dropped 25 of 400 rows missing a value (of Z (25))" in capsys.readouterr().err


def test_a_text_outcome_is_refused_with_the_fix():
    data = _two_arms()
    data["Y"] = np.where(data["Y"] > 0, "high", "low")
    with pytest.raises(InputError, match="the outcome column 'Y' holds text .*recode Y as numbers"):
        DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw")


def test_options_are_checked_before_any_work():
    data = _two_arms()
    for kwargs, message in [({"target": "ato"}, "--target 'ato'"), ({"folds": 1}, "--folds 1"),
                            ({"trim": 0.7}, "--trim 0.7"), ({"learner": "svm"}, "--learner 'svm'")]:
        with pytest.raises(InputError, match=message):
            DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw", **kwargs)


def test_a_non_binary_treatment_needs_a_query(tmp_path, zoo):
    path = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    path.write_text("T,Y,Z\n" + "\n".join(f"{i % 3},{rng.normal()},{rng.normal()}" for i in range(60)))
    code, out, err = zoo("run", "do-calculus", "--data", str(path), "--treatment", "T", "--outcome", "Y",
                         "--covariates", "all")
    assert code != 0 and "--treatment T: has 3 values, not two; give --query" in err


def test_e_value_and_robustness_value_match_the_published_examples():
    # VanderWeele & Ding (2017): an observed risk ratio of 3.9 has E-value 7.26
    assert e_value(2.9, None, 1.0, means=(3.9, 1.0), binary=True)["point"] == pytest.approx(7.26, abs=0.01)
    # Cinelli & Hazlett (2020), Darfur: t = 4.18 on 783 dof gives RV = 13.9%
    assert robustness_value(4.18, 783)["rv"] == pytest.approx(0.139, abs=0.001)


def test_a_contrast_of_two_values_of_a_multi_valued_treatment():
    rng = np.random.default_rng(4)
    n = 3000
    z = rng.normal(size=n)
    t = np.digitize(z + rng.normal(size=n), [-0.5, 0.5])  # 0, 1 or 2, confounded by z
    y = np.array([0.0, 1.0, 3.0])[t] + 2 * z + rng.normal(size=n)
    data = {"Z": z, "T": t, "Y": y}
    e = DoCalculus().estimate(GRAPH, "E[Y | do(T=2)] - E[Y | do(T=0)]", data, learner="linear")
    assert covers(e, 3.0) and e.potential_outcomes is not None and set(e.potential_outcomes) == {"2", "0"}
    naive = y[t == 2].mean() - y[t == 0].mean()
    assert not e.interval[0] <= naive <= e.interval[1]  # adjustment matters here


def test_bootstrap_on_request_refits_and_gives_a_percentile_interval():
    data = _two_arms(300, seed=2)
    e = DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw", learner="linear", bootstrap=30)
    assert any("30 bootstrap replicates" in n for n in e.notes)
    assert e.interval[0] < e.value < e.interval[1] and covers(e, 1.0)
    influence = DoCalculus().estimate(GRAPH, QUERY, data, estimator="aipw", learner="linear")
    assert e.std_error == pytest.approx(influence.std_error, rel=0.5)


def test_covariates_all_names_a_column_a_graph_cannot_hold(tmp_path, zoo):
    path = tmp_path / "d.csv"
    path.write_text("T,Y,age (years)\n" + "\n".join(f"{i % 2},{i},{i * 3 % 7}" for i in range(40)))
    code, out, err = zoo("run", "do-calculus", "--data", str(path), "--treatment", "T", "--outcome", "Y",
                         "--covariates", "all")
    assert code != 0 and "column 'age (years)' is not a name a causal graph can hold" in err
    assert "--covariates A,B,C" in err and "Traceback" not in err
