"""zoo-docalculus passes zoo's conformance kit: torch-free imports, and analyze() answering a query."""

from zoo_core.testing.conformance import check_plugin


def test_zoo_docalculus_conforms(tmp_path):
    data = tmp_path / "xy.csv"
    data.write_text("X,Y\n" + "".join(f"{i % 2},{(i // 2) % 2}\n" for i in range(40)))
    report = check_plugin("zoo-docalculus", analyze={
        "do-calculus": {"graph": "Z -> X; X -> Y; Z -> Y", "query": "P(Y | do(X))"},
        "pc": {"data": str(data)},
    })
    report.assert_ok()
    for subject in ("do-calculus", "pc"):
        assert (subject, "analyze") in report.passed and (subject, "no torch on import") in report.passed
    assert ("zoo-docalculus", "no torch on import") in report.passed
