"""The scenes: mechanisms as specified, exact and deterministic renders, and the spec's reference numbers."""

import math

import numpy as np
import pytest

from zoo_core import InputError
from zoo_causalgen.scenes import fashion, pendulum


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(axis=1)
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-12))


def pixel(x: float, y: float, size: int = 64) -> tuple[int, int]:
    """(row, column) of the output pixel holding world point (x, y)."""
    return math.floor((21 - y) / 22 * size), math.floor(x / 20 * size)


# -- pendulum: mechanisms ----------------------------------------------------------------------

def test_pendulum_factors_supports_and_graph():
    model = pendulum.scm()
    assert model.factors == pendulum.FACTORS
    assert model.by_name["pendulum_angle"].support == (-0.628, 0.675)
    assert model.by_name["light_angle"].support == (0.942, 2.309)
    assert model.by_name["shadow_length"].support == (0.5, 20.0)
    assert model.by_name["shadow_position"].support == (0.0, 20.0)
    assert model.by_name["light_angle"].unit == "rad" and model.by_name["shadow_length"].unit == "world units"
    assert all(m.description for m in model.mechanisms)
    assert model.graph() == ("pendulum_angle -> shadow_length; light_angle -> shadow_length; "
                             "pendulum_angle -> shadow_position; light_angle -> shadow_position")


def test_pendulum_mechanisms_are_the_closed_forms():
    noise = {"pendulum_angle": np.array([0.3, -0.5, 0.0]), "light_angle": np.array([1.2, 2.2, math.pi / 2]),
             "shadow_length": np.array([0.7, -1.0, -9.0]), "shadow_position": np.array([-0.2, 1.5, 0.0])}
    for sigma in (1.0, 0.5):
        values = pendulum.scm(sigma).solve(noise)
        for i in range(3):
            t, p = noise["pendulum_angle"][i], noise["light_angle"][i]
            length = max(3, 9.5 * abs(math.cos(p - t)) / math.sin(p)) + sigma * noise["shadow_length"][i]
            position = 10 + 4.75 * math.sin(t) - (11 - 4.75 * math.cos(t)) / math.tan(p)
            assert values["shadow_length"][i] == pytest.approx(max(length, 0.5), abs=1e-12)
            assert values["shadow_position"][i] == pytest.approx(position + sigma * noise["shadow_position"][i],
                                                                 abs=1e-12)
    assert pendulum.scm(1.0).solve(noise)["shadow_length"][2] == 0.5  # clipped


def test_pendulum_abduction_recovers_the_noise_and_sigma_zero_gives_zeros():
    model = pendulum.scm(0.8)
    noise = model.sample_noise(np.random.default_rng(3), 200)
    values = model.solve(noise)
    unclipped = values["shadow_length"] > 0.5
    abducted = model.abduct(values)
    for name in pendulum.FACTORS:
        np.testing.assert_allclose(abducted[name][unclipped], noise[name][unclipped], atol=1e-9)
    flat = pendulum.scm(0.0)
    zero = flat.abduct(flat.solve(noise))
    assert not zero["shadow_length"].any() and not zero["shadow_position"].any()
    assert flat.by_name["shadow_length"].noise_logpdf(np.array([2.0]))[0] == -2.0


def test_do_on_a_root_keeps_the_noise_and_do_on_the_shadow_keeps_the_roots():
    noise = pendulum.scm().sample_noise(np.random.default_rng(0), 50)
    moved = pendulum.true_intervention(noise, {"light_angle": 1.0})
    again = pendulum.scm().solve({**noise, "light_angle": np.full(50, 1.0)})
    for name in pendulum.FACTORS:
        np.testing.assert_array_equal(moved[name], again[name])
    factual = pendulum.scm().solve(noise)
    for do in ({"shadow_length": 7.0}, {"shadow_position": 12.0}):
        changed = pendulum.true_intervention(noise, do)
        for name in pendulum.FACTORS:
            expected = np.full(50, do[name]) if name in do else factual[name]
            np.testing.assert_array_equal(changed[name], expected)


# -- pendulum: rendering -----------------------------------------------------------------------

VALUES = {"pendulum_angle": 0.3, "light_angle": 1.2, "shadow_length": 8.0, "shadow_position": 9.0}


def test_render_draws_the_spec_geometry():
    image = pendulum.render(VALUES)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert pendulum.line_width(64) == 11 and pendulum.line_width(96) == 16 and pendulum.line_width(1) == 1
    ball = (10 + 8 * math.sin(0.3), 10.5 - 8 * math.cos(0.3))
    assert tuple(image[pixel(*ball)]) == (178, 34, 34)
    assert tuple(image[pixel(10 + 10 / math.tan(1.2), 20.5)]) == (255, 165, 0)
    assert tuple(image[pixel(9.0, -0.5)]) == (0, 0, 0)  # the shadow's midpoint
    assert tuple(image[pixel(9.0 + 4.3, -0.5)]) == (255, 255, 255)  # past its end
    assert tuple(image[pixel(10.2, 10.0)]) == (0, 0, 0)  # the rod below the pivot
    assert tuple(image[0, 0]) == (255, 255, 255) and tuple(image[40, 63]) == (255, 255, 255)
    big = pendulum.render(VALUES, size=96)
    assert big.shape == (96, 96, 3) and tuple(big[pixel(*ball, size=96)]) == (178, 34, 34)


def test_render_is_deterministic_and_render_batch_matches():
    model = pendulum.scm()
    first = model.solve(model.sample_noise(np.random.default_rng(11), 12))
    second = model.solve(model.sample_noise(np.random.default_rng(11), 12))
    images = pendulum.render_batch(first, size=32)
    assert images.shape == (12, 32, 32, 3)
    assert images.tobytes() == pendulum.render_batch(second, size=32).tobytes()
    for i in range(12):
        np.testing.assert_array_equal(images[i], pendulum.render({k: v[i] for k, v in first.items()}, 32))


def test_do_on_the_shadow_leaves_pendulum_and_sun_pixels_unchanged():
    noise = pendulum.scm().sample_noise(np.random.default_rng(5), 40)
    factual = pendulum.true_images(noise)
    above_shadow = slice(0, 60)  # the shadow's band (y in about [-0.97, -0.03]) is rows 61-63
    for do in ({"shadow_length": 2.0}, {"shadow_length": 15.0}, {"shadow_position": 3.0}):
        changed = pendulum.true_images(noise, do)
        np.testing.assert_array_equal(changed[:, above_shadow], factual[:, above_shadow])
        assert (changed[:, 60:] != factual[:, 60:]).any(axis=(1, 2, 3)).all()


def test_cut_off_shadows_touch_the_edge_and_are_about_two_percent():
    model = pendulum.scm(1.0)
    values = model.solve(model.sample_noise(np.random.default_rng(0), 20000))
    cut = pendulum.shadow_cut_off(values)
    assert 0.015 < cut.mean() < 0.035  # 2.44% over 200,000 draws
    chosen = np.flatnonzero(cut)[:10]
    images = pendulum.render_batch({k: v[chosen] for k, v in values.items()})
    row = pixel(10, -0.5)[0]
    assert ((images[:, row, 0] == 0).all(axis=1) | (images[:, row, -1] == 0).all(axis=1)).all()


def test_reference_psnrs_of_the_spec():
    """do(light_angle = v), v from its prior, sigma 1, 64 x 64: a perfect renderer without abduction
    (U set to 0) scores a median of about 25.7 dB against the exact counterfactual, the factual
    image about 14.7 dB (measured here: 25.63 and 14.68 dB; 25.63 / 14.75 dB at 5,000 draws)."""
    rng = np.random.default_rng(0)
    model = pendulum.scm(1.0)
    noise = model.sample_noise(rng, 400)
    acted = {**noise, "light_angle": rng.uniform(*pendulum.PHI_PRIOR, 400)}  # do(phi = v): the root set to v
    exact = pendulum.render_batch(model.solve(acted))
    no_abduction = pendulum.render_batch(model.solve({**acted, "shadow_length": np.zeros(400),
                                                      "shadow_position": np.zeros(400)}))
    factual = pendulum.render_batch(model.solve(noise))
    assert np.median(psnr(no_abduction, exact)) == pytest.approx(25.7, abs=0.6)
    assert np.median(psnr(factual, exact)) == pytest.approx(14.7, abs=0.6)


# -- fashion -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def test_garments():
    try:
        return fashion.garments("test")
    except InputError as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")


def test_fashion_mechanisms():
    model = fashion.scm(1.0)
    assert model.factors == fashion.FACTORS and fashion.NOT_INTERVENABLE == ("garment_class",)
    assert model.graph() == "garment_class -> scale; scale -> brightness"
    assert model.by_name["garment_class"].support == (0.0, 9.0)
    noise = {"garment_class": np.array([0.0, 4.0, 7.0]), "scale": np.array([0.5, -1.0, 9.0]),
             "brightness": np.array([0.0, 2.0, -30.0])}
    values = model.solve(noise)
    np.testing.assert_allclose(values["scale"], [0.75 + 0.05, 0.8 - 0.1, 1.0])
    np.testing.assert_allclose(values["brightness"], [0.3 + 0.6 * 0.8, 0.3 + 0.6 * 0.7 + 0.2, 0.3])
    flat = fashion.scm(0.0).solve(noise)
    np.testing.assert_allclose(flat["scale"], [0.75, 0.8, 0.65])
    assert not fashion.scm(0.0).abduct(flat)["scale"].any()
    with pytest.raises(InputError, match="garment_class"):
        fashion.true_intervention(noise, {"garment_class": 3})


def test_fashion_counterfactual_is_the_same_garment_rendered_larger(test_garments):
    images, labels = test_garments
    values, noise = fashion.sample(np.random.default_rng(2), 60, split="test")
    index = noise["garment"].astype(int)
    np.testing.assert_array_equal(values["garment_class"], labels[index])
    larger = fashion.true_images(noise, {"scale": 0.95}, split="test")
    acted = fashion.true_intervention(noise, {"scale": 0.95})
    np.testing.assert_array_equal(acted["garment_class"], values["garment_class"])  # class preserved
    for i in range(60):
        brightness = np.clip(0.3 + 0.6 * 0.95 + 0.1 * noise["brightness"][i], 0.3, 1.0)
        by_hand = fashion.render({"scale": 0.95, "brightness": brightness}, images[index[i]])
        np.testing.assert_array_equal(larger[i], by_hand)
    # Abduction from the factual values gives the same counterfactual (no unit is clipped here).
    assert ((values["brightness"] > 0.3) & (values["brightness"] < 1.0)).all()
    abducted, _ = fashion.scm().counterfactual(values, {"scale": 0.95})
    np.testing.assert_allclose(abducted["brightness"], acted["brightness"], atol=1e-12)


def test_fashion_render_exactness_and_determinism(test_garments):
    images, _ = test_garments
    whole = fashion.render({"scale": 1.0, "brightness": 1.0}, images[0])
    assert whole.shape == (32, 32, 1) and whole.dtype == np.uint8
    np.testing.assert_array_equal(whole[2:30, 2:30, 0], images[0])  # scale 1: the garment itself, centred
    assert not whole[:2].any() and not whole[30:].any()
    half = fashion.render({"scale": 0.5, "brightness": 0.5}, images[0])
    rows, cols = np.nonzero(half[:, :, 0])
    assert rows.min() >= 9 and rows.max() <= 22 and cols.min() >= 9 and cols.max() <= 22  # side 14 at offset 9
    assert half.max() <= math.floor(images[0].max() * 0.5 + 0.5)
    first = fashion.sample(np.random.default_rng(9), 20, split="test")
    second = fashion.sample(np.random.default_rng(9), 20, split="test")
    for a, b in zip(first, second):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert (fashion.true_images(first[1], split="test").tobytes()
            == fashion.true_images(second[1], split="test").tobytes())
