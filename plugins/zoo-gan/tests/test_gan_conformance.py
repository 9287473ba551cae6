"""zoo-gan passes zoo's conformance kit: every architecture and registry entry, tiny random weights."""

import pytest

from zoo_core.testing.conformance import check_plugin


@pytest.mark.slow  # every zoo-gan architecture built and checked (about 9 s on 2 loaded cores)
def test_zoo_gan_conforms():
    # the upscalers' real configs are too big to build with random weights here: checked small
    report = check_plugin("zoo-gan", configs={
        "rrdbnet": {"num_feat": 16, "num_block": 2, "num_grow_ch": 8},
        "aurasr": {"dim": 8, "image_size": 64, "input_image_size": 16, "self_attn_dim_head": 8, "self_attn_heads": 2,
                   "style_network": {"dim_in": 16, "dim_out": 32, "depth": 2}, "mid_attn_depth": 1,
                   "attn_depths": [1, 1, 1, 1, 2]}})
    report.assert_ok()
    checked = {subject for subject, _ in report.passed}
    assert {"dcgan", "cdcgan", "fashion-classifier", "dcgan-fashion", "cdcgan-fashion", "rrdbnet", "aurasr"} <= checked
    assert ("cdcgan-fashion", "state-dict round trip") in report.passed
    assert {("rrdbnet", "value range"), ("aurasr", "any size"), ("aurasr", "determinism")} <= set(report.passed)
    # Real-ESRGAN's real config (64 MiB of float32) is checked as it is; AuraSR-v2's (2.5 GB) is noted as too big
    assert ("real-esrgan-x4plus", "any size") in report.passed
    assert ("aura-sr-v2", "behaviour") in {(s, c) for s, c, _ in report.notes}
