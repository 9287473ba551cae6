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


def test_the_architectures_own_examples_run_under_the_kit():
    """zoo plugins --check runs each analyzer with its declared example (no options supplied here)."""
    report = check_plugin("zoo-docalculus")
    report.assert_ok()
    assert {("do-calculus", "analyze"), ("pc", "analyze")} <= set(report.passed)
    assert not [n for n in report.notes if n[1] == "analyze"]


def test_the_shipped_pc_example_is_what_its_recipe_writes():
    import importlib.util
    from pathlib import Path

    import zoo_docalculus

    recipe = Path(__file__).resolve().parent.parent / "recipes" / "make_pc_example.py"
    spec = importlib.util.spec_from_file_location("make_pc_example", recipe)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert zoo_docalculus.PC_EXAMPLE.read_text() == module.example_rows()
