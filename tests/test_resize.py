"""--resize fit|crop|pad|stretch, pixel by pixel, on small synthetic images of odd sizes."""

from __future__ import annotations

import pytest
import torch

from zoo_core.resize import RESIZE_MODES, resize_to, scaled_size


def _columns(height: int, width: int) -> torch.Tensor:
    """(1, 1, H, W) whose column j holds the value j / 10 (distinct, inside [-1, 1])."""
    return (torch.arange(width, dtype=torch.float32) / 10).expand(1, 1, height, width).clone()


def _white(height: int, width: int, channels: int = 1) -> torch.Tensor:
    return torch.ones(1, channels, height, width)


@pytest.mark.parametrize("mode", RESIZE_MODES)
def test_an_image_of_the_right_size_is_left_alone(mode):
    image = _columns(5, 7)
    assert resize_to(image, (5, 7), mode) is image


def test_fit_letterboxes_a_tall_image_without_scaling_when_it_fits_one_way():
    out = resize_to(_white(5, 3), (5, 5), "fit")  # scale min(5/5, 5/3) = 1: pad the sides
    assert out.shape == (1, 1, 5, 5)
    assert torch.equal(out[..., 1:4], torch.ones(1, 1, 5, 3))
    assert torch.equal(out[..., [0, 4]], torch.full((1, 1, 5, 2), -1.0))  # black bars, one each side


def test_fit_shrinks_to_fit_inside_then_centres_with_black():
    out = resize_to(_white(7, 3), (4, 4), "fit")  # 7x3 (HxW) * 4/7 -> 4 x round(1.71) = 4x2
    assert scaled_size(7, 3, (4, 4), "fit") == (4, 2)
    assert torch.allclose(out[..., 1:3], torch.ones(1, 1, 4, 2))
    assert torch.equal(out[..., [0, 3]], torch.full((1, 1, 4, 2), -1.0))


def test_fit_grows_a_small_wide_image_until_its_width_fills():
    out = resize_to(_white(1, 3, channels=3), (5, 9), "fit")  # * 3 -> 3x9, one black row above and below
    assert out.shape == (1, 3, 5, 9)
    assert torch.allclose(out[..., 1:4, :], torch.ones(1, 3, 3, 9))
    assert torch.equal(out[..., [0, 4], :], torch.full((1, 3, 2, 9), -1.0))


def test_crop_keeps_the_centre_columns_of_a_wide_image():
    image = _columns(3, 7)
    out = resize_to(image, (3, 3), "crop")  # scale max(3/3, 3/7) = 1: cut 2 columns each side
    assert torch.equal(out, image[..., 2:5])


def test_crop_scales_to_cover_then_cuts_the_overhang():
    assert scaled_size(2, 4, (4, 4), "crop") == (4, 8)
    out = resize_to(_white(2, 4), (4, 4), "crop")
    assert out.shape == (1, 1, 4, 4) and torch.allclose(out, torch.ones(1, 1, 4, 4))  # no black: it covers


def test_crop_with_an_odd_overhang_puts_the_extra_pixel_at_the_end():
    image = _columns(3, 6)
    assert torch.equal(resize_to(image, (3, 3), "crop"), image[..., 1:4])  # 3 over: 1 left, 2 right


def test_pad_never_scales_it_pads_one_way_and_crops_the_other():
    image = _columns(3, 7)
    out = resize_to(image, (5, 5), "pad")
    assert torch.equal(out[..., 1:4, :], image[..., 1:6])  # columns 1..5 of 7, rows padded 1 each side
    assert torch.equal(out[..., [0, 4], :], torch.full((1, 1, 2, 5), -1.0))


def test_pad_of_an_odd_difference_puts_the_extra_black_row_at_the_bottom():
    out = resize_to(_white(2, 4), (5, 4), "pad")
    assert torch.equal(out[0, 0, :, 0], torch.tensor([-1.0, 1.0, 1.0, -1.0, -1.0]))


def test_stretch_ignores_the_aspect_ratio():
    image = torch.cat([torch.full((1, 1, 3, 3), -1.0), torch.ones(1, 1, 3, 3)], dim=-1)  # 3x6: black | white
    out = resize_to(image, (4, 4), "stretch")
    assert out.shape == (1, 1, 4, 4)
    assert torch.allclose(out[..., :1], torch.full((1, 1, 4, 1), -1.0), atol=1e-6)  # the halves stay halves
    assert torch.allclose(out[..., 3:], torch.ones(1, 1, 4, 1), atol=1e-6)
    assert abs(float(out[..., :2].mean()) + float(out[..., 2:].mean())) < 1e-6  # symmetric


def test_the_fill_value_is_used_for_padding_an_alpha_channel():
    out = resize_to(torch.ones(1, 1, 3, 1), (3, 3), "pad", fill=-1.0)
    assert torch.equal(out[0, 0, 0], torch.tensor([-1.0, 1.0, -1.0]))


def test_values_stay_in_range_when_shrinking_with_antialiasing():
    image = torch.rand(1, 3, 37, 23) * 2 - 1
    for mode in RESIZE_MODES:
        out = resize_to(image, (28, 28), mode)
        assert out.shape == (1, 3, 28, 28) and out.min() >= -1 and out.max() <= 1
