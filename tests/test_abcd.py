"""ABCD measurements against hand-made shapes whose answers are known."""
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.segmentation import abcd
from core.segmentation.metrics import dice_iou

H, W = 256, 341
YY, XX = np.mgrid[0:H, 0:W]
SKIN = (225, 180, 160)
BROWN = (120, 70, 40)


def paint(mask, colour=BROWN, blur=0.0):
    """Skin-coloured frame with `mask` painted in `colour`; `blur` softens the edge (a gradual border)."""
    weight = ndimage.gaussian_filter(mask.astype(float), blur) if blur else mask.astype(float)
    img = np.array(SKIN) * (1 - weight[..., None]) + np.array(colour) * weight[..., None]
    return Image.fromarray(img.round().astype(np.uint8))


CIRCLE = (YY - 128) ** 2 + (XX - 170) ** 2 <= 60**2
ELLIPSE = ((YY - 128) / 50.0) ** 2 + ((XX - 170) / 90.0) ** 2 <= 1
# A bite out of the top edge on the minor axis: still mirror-symmetric left-right, not top-bottom.
NOTCHED = ELLIPSE & ~((YY - 80) ** 2 + (XX - 170) ** 2 < 30**2)


def test_circle_is_symmetric_with_a_smooth_round_border():
    r = abcd.measure(paint(CIRCLE), CIRCLE)
    assert r.asymmetry_axes == 0 and max(r.asymmetry_shares) < 0.02
    assert r.compactness == pytest.approx(1.0, abs=0.05)
    assert r.solidity > 0.97
    assert r.diameter_px == pytest.approx(121, abs=1.5)


def test_ellipse_is_symmetric_but_a_notch_breaks_one_axis_and_the_border():
    plain = abcd.measure(paint(ELLIPSE), ELLIPSE)
    notched = abcd.measure(paint(NOTCHED), NOTCHED)
    assert plain.asymmetry_axes == 0
    assert notched.asymmetry_axes == 1
    assert notched.solidity < plain.solidity - 0.08
    assert notched.compactness > plain.compactness + 0.2


def test_an_off_axis_bite_makes_both_axes_asymmetric():
    bitten = ELLIPSE & ~((YY - 90) ** 2 + (XX - 220) ** 2 < 30**2)
    assert abcd.measure(paint(bitten), bitten).asymmetry_axes == 2


def test_sharp_edges_are_abrupt_in_all_segments_and_a_blurred_edge_in_none():
    assert abcd.measure(paint(CIRCLE), CIRCLE).border_abrupt_segments == 8
    assert abcd.measure(paint(CIRCLE, blur=12), CIRCLE).border_abrupt_segments == 0


def test_colours_are_counted_by_area():
    img = np.array(paint(CIRCLE, (170, 110, 70)))
    img[CIRCLE & (XX < 150)] = (90, 50, 25)  # dark brown, about a third of the lesion
    img[CIRCLE & (YY < 95)] = (30, 25, 25)  # black cap
    img[CIRCLE & (YY > 165)] = (110, 110, 130)  # blue-grey cap
    r = abcd.measure(Image.fromarray(img), CIRCLE)
    assert set(r.colours) == {"light brown", "dark brown", "black", "blue-grey"}
    assert abcd.measure(paint(CIRCLE), CIRCLE).colours == ("dark brown",)
    speck = np.array(paint(CIRCLE))
    speck[CIRCLE & ((YY - 128) ** 2 + (XX - 170) ** 2 < 8**2)] = (235, 235, 235)  # under 5 % of the lesion
    assert "white" not in abcd.measure(Image.fromarray(speck), CIRCLE).colours


def test_diameter_in_millimetres_from_the_field_of_view():
    r = abcd.measure(paint(CIRCLE), CIRCLE, field_of_view_mm=20.0)
    assert r.diameter_mm == pytest.approx(121 * 20.0 / W, abs=0.1)
    assert abcd.measure(paint(CIRCLE), CIRCLE).diameter_mm is None


def test_tds_range_follows_the_stolz_weights_and_its_reading():
    r = abcd.measure(paint(CIRCLE), CIRCLE)  # A 0, B 8, C 1
    assert r.tds_partial == pytest.approx(0.1 * 8 + 0.5 * 1)
    assert r.tds_range == pytest.approx((r.tds_partial + 0.5, r.tds_partial + 2.5))
    assert "benign range" in r.tds_reading()
    features = [row[0] for row in r.plain_words()]
    assert features == ["A: asymmetry", "B: border", "C: colours", "D: diameter", "Stolz TDS"]


def test_large_images_are_measured_on_a_smaller_grid_with_the_same_answers():
    big_circle = ndimage.zoom(CIRCLE.astype(np.uint8), 4, order=0).astype(bool)
    r = abcd.measure(paint(big_circle), big_circle)
    assert r.asymmetry_axes == 0
    assert r.diameter_px == pytest.approx(4 * 121, rel=0.02)


def test_mask_and_image_must_match():
    with pytest.raises(ValueError, match="differ in size"):
        abcd.measure(paint(CIRCLE), CIRCLE[:100])


def test_dice_and_iou():
    assert dice_iou(CIRCLE, CIRCLE) == (1.0, 1.0)
    half = CIRCLE & (XX < 170)
    dice, iou = dice_iou(half, CIRCLE)
    assert dice == pytest.approx(2 * half.sum() / (half.sum() + CIRCLE.sum()))
    assert iou == pytest.approx(half.sum() / CIRCLE.sum())
    assert dice_iou(np.zeros((4, 4), bool), np.zeros((4, 4), bool)) == (1.0, 1.0)
    assert dice_iou(np.zeros((4, 4), bool), np.ones((4, 4), bool)) == (0.0, 0.0)
