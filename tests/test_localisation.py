"""Localisation scores against hand-made masks and heatmaps whose answers are known by construction."""
import numpy as np
import pytest

from core.explain.localisation import (
    LocalisationError,
    LocalisationTally,
    centre_gaussian,
    energy_inside,
    iou_at,
    localise,
    mask_problem,
    paired_comparison,
    pointing_hit,
    uniform_heatmap,
)


def left_half_mask(h: int = 20, w: int = 40) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[:, : w // 2] = True
    return mask


def test_energy_inside_known_answers():
    mask = left_half_mask()
    heat = np.zeros(mask.shape)
    heat[:, :20] = 3.0  # all mass inside
    assert energy_inside(heat, mask) == pytest.approx(1.0)
    heat[:, 20:] = 1.0  # 3 units per pixel inside, 1 outside: 3/4 of the mass inside
    assert energy_inside(heat, mask) == pytest.approx(0.75)
    assert energy_inside(uniform_heatmap(mask.shape), mask) == pytest.approx(0.5)  # = the mask's coverage
    assert energy_inside(np.zeros(mask.shape), mask) == pytest.approx(0.5)  # an empty map counts as uniform


def test_pointing_game_known_answers_and_ties():
    mask = left_half_mask()
    heat = np.zeros(mask.shape)
    heat[5, 3] = 1.0
    assert pointing_hit(heat, mask) == 1.0
    heat[5, 3], heat[5, 30] = 0.5, 1.0
    assert pointing_hit(heat, mask) == 0.0
    heat[5, 3] = 1.0  # one tied maximum inside, one outside: expected hit of a random tie-break
    assert pointing_hit(heat, mask) == pytest.approx(0.5)
    quarter = np.zeros((20, 40), bool)
    quarter[:10, :20] = True
    assert pointing_hit(uniform_heatmap(quarter.shape), quarter) == pytest.approx(0.25)


def test_iou_at_threshold_known_answers():
    mask = left_half_mask()
    heat = np.zeros(mask.shape)
    heat[:, :10] = 1.0  # region = left quarter, inside the mask: IoU = 200 / 400
    heat[:, 10:20] = 0.4  # below the 0.5 threshold, so not in the region
    assert iou_at(heat, mask, 0.5) == pytest.approx(0.5)
    assert iou_at(heat, mask, 0.3) == pytest.approx(1.0)  # now the region is the whole left half
    assert iou_at(uniform_heatmap(mask.shape), mask) == pytest.approx(0.5)
    with pytest.raises(LocalisationError, match="threshold"):
        iou_at(heat, mask, 0.0)


def test_localise_bundles_the_three_scores():
    mask = left_half_mask()
    heat = np.zeros(mask.shape)
    heat[:, 30:] = 1.0  # entirely outside the lesion
    result = localise(heat, mask)
    assert (result.energy_inside, result.pointing_hit, result.iou) == (0.0, 0.0, 0.0)


def test_bad_inputs_are_refused_with_a_reason():
    mask = left_half_mask()
    with pytest.raises(LocalisationError, match="same shape"):
        energy_inside(np.ones((10, 10)), mask)
    with pytest.raises(LocalisationError, match="non-negative"):
        energy_inside(-np.ones(mask.shape), mask)
    with pytest.raises(LocalisationError, match="finite"):
        pointing_hit(np.full(mask.shape, np.nan), mask)


def test_unreliable_masks_are_recognised():
    assert mask_problem(np.ones((8, 8), bool)) == "mask covers the whole frame"
    assert mask_problem(np.zeros((8, 8), bool)) == "empty mask"
    assert mask_problem(left_half_mask()) is None


def test_centre_gaussian_peaks_at_the_centre_and_is_symmetric():
    g = centre_gaussian((51, 81), sigma=0.2)
    assert g.shape == (51, 81) and g.max() == pytest.approx(1.0)
    assert np.unravel_index(g.argmax(), g.shape) == (25, 40)
    assert np.allclose(g, g[::-1, ::-1])
    # A centred disc holding the Gaussian's 1-sigma radius gets 1 - exp(-1/2) of its mass (2-D Gaussian).
    yy, xx = np.mgrid[0:501, 0:501]
    disc = (yy - 250) ** 2 + (xx - 250) ** 2 <= (0.1 * 501) ** 2
    assert energy_inside(centre_gaussian((501, 501), sigma=0.1), disc) == pytest.approx(1 - np.exp(-0.5), abs=0.01)


def test_tally_means_overall_and_per_group():
    mask = left_half_mask()
    inside = np.zeros(mask.shape)
    inside[:, :20] = 1.0
    outside = np.zeros(mask.shape)
    outside[:, 20:] = 1.0
    tally = LocalisationTally()
    tally.add("mel", localise(inside, mask), seconds=0.2)
    tally.add("nv", localise(outside, mask), seconds=0.4)
    tally.add("nv", localise(inside, mask), seconds=0.3)
    summary = tally.summary()
    assert list(summary) == ["all", "mel", "nv"]
    assert summary["all"]["n"] == 3 and summary["all"]["energy_inside"] == pytest.approx(2 / 3)
    assert summary["mel"]["pointing"] == 1.0 and summary["nv"]["pointing"] == pytest.approx(0.5)
    assert tally.seconds_per_image == pytest.approx(0.3)
    assert np.isnan(LocalisationTally().summary()["all"]["iou"])


def test_paired_comparison_known_answers():
    reference = np.array([0.5, 0.5, 0.5, 0.5])
    better = paired_comparison(np.array([0.6, 0.7, 0.5, 0.4]), reference)
    assert better.n == 4 and better.mean_difference == pytest.approx(0.05)
    assert (better.wins, better.losses) == (0.5, 0.25)  # one tie
    assert better.ci_low <= 0.05 <= better.ci_high
    # A constant shift: every resample has the same mean, so the interval collapses onto it.
    shifted = paired_comparison(reference + 0.1, reference)
    assert shifted.ci_low == pytest.approx(0.1) and shifted.ci_high == pytest.approx(0.1) and shifted.wins == 1.0
    # Pairing is what is tested: the same values in another order do not beat the reference on every image.
    worse_on_half = paired_comparison(np.array([0.9, 0.1, 0.9, 0.1]), np.array([0.1, 0.9, 0.1, 0.9]))
    assert worse_on_half.mean_difference == pytest.approx(0.0) and worse_on_half.wins == 0.5
    assert np.isnan(paired_comparison(np.array([]), np.array([])).mean_difference)
    with pytest.raises(LocalisationError, match="same length"):
        paired_comparison(np.ones(3), np.ones(4))

