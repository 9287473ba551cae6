"""zoo-vae passes zoo's conformance kit. The Stable Diffusion VAEs are checked from shrunk configs:
at full size their random weights are 319 MiB (KL) and their images 512x512, so the registry
entries built from the published configs get the config and (TAESD) state-dict checks only."""

from zoo_core.testing.conformance import check_plugin

SMALL = {
    "autoencoder-kl": {"block_out_channels": [8, 16], "layers_per_block": 1, "norm_num_groups": 4, "sample_size": 16},
    "autoencoder-tiny": {"encoder_block_out_channels": [8, 8, 8, 8], "decoder_block_out_channels": [8, 8, 8, 8],
                         "num_encoder_blocks": [1, 1, 1, 1], "num_decoder_blocks": [1, 1, 1, 1], "sample_size": 32},
}


def test_zoo_vae_conforms():
    report = check_plugin("zoo-vae", configs=SMALL)
    report.assert_ok()
    for arch in ("conv-vae", "autoencoder-kl", "autoencoder-tiny", "conv-vae-fashion"):
        for check in ("state-dict round trip", "output shape", "dtype move", "encode", "determinism"):
            assert (arch, check) in report.passed, (arch, check)
    for entry in ("sd-vae-ft-mse", "sdxl-vae", "taesd", "taesdxl"):
        assert (entry, "config round trip") in report.passed
        assert any(subject == entry and check == "behaviour" for subject, check, _ in report.notes)
    assert ("taesd", "state-dict round trip") in report.passed
