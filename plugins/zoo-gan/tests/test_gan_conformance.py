"""zoo-gan passes zoo's conformance kit: every architecture and registry entry, tiny random weights."""

from zoo_core.testing.conformance import check_plugin


def test_zoo_gan_conforms():
    report = check_plugin("zoo-gan")
    report.assert_ok()
    checked = {subject for subject, _ in report.passed}
    assert {"dcgan", "cdcgan", "fashion-classifier", "dcgan-fashion", "cdcgan-fashion"} <= checked
    assert ("cdcgan-fashion", "state-dict round trip") in report.passed
