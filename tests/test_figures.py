"""Overlays, mask outlines and figure grids: checked pixel by pixel against known inputs."""
import io

import numpy as np
import pytest
from PIL import Image

from core.explain.figures import figure_png, heatmap_colours, heatmap_overlay, mask_outline
from tests.support import skin_like


def test_colour_ramp_runs_from_dark_blue_to_red():
    ramp = heatmap_colours(np.array([0.0, 0.5, 1.0, -3.0, 7.0]))
    assert ramp.dtype == np.uint8 and ramp.shape == (5, 3)
    assert tuple(ramp[0]) == (0, 0, 130) and tuple(ramp[2]) == (170, 0, 0)
    assert tuple(ramp[3]) == tuple(ramp[0]) and tuple(ramp[4]) == tuple(ramp[2])  # clipped


def test_overlay_warms_where_the_heatmap_is_high_and_respects_opacity():
    image = skin_like(80, 60)
    heatmap = np.zeros((60, 80), np.float32)
    heatmap[:, 40:] = 1.0
    base = np.asarray(image).astype(int)
    out = np.asarray(heatmap_overlay(image, heatmap, 0.8)).astype(int)
    assert out.shape == base.shape
    hot, cold = out[:, 40:] - base[:, 40:], out[:, :40] - base[:, :40]
    assert hot[..., 0].mean() > cold[..., 0].mean() and hot[..., 2].mean() < cold[..., 2].mean()
    assert np.array_equal(np.asarray(heatmap_overlay(image, heatmap, 0.0)), np.asarray(image.convert("RGB")))
    with pytest.raises(ValueError, match="pixel grid"):
        heatmap_overlay(image, heatmap.T, 0.5)


def test_mask_outline_colours_the_boundary_only():
    image = Image.new("RGB", (40, 30), "black")
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:30] = True
    out = np.asarray(mask_outline(image, mask, colour=(0, 255, 0), width=2))
    green = (out == (0, 255, 0)).all(axis=-1)
    assert green[10, 15] and green[11, 15] and not green[12, 15]  # two-pixel boundary, then the interior
    assert not green[~mask].any()  # nothing drawn outside the lesion
    assert green.sum() == mask.sum() - 6 * 16  # the 6 x 16 core stays untouched


def test_figure_png_lays_tiles_out_in_a_grid():
    tiles = [(Image.new("RGB", (100, 50), c), f"tile {i} — Grad-CAM → mel") for i, c in enumerate(("red", "lime", "blue", "black"))]
    png = figure_png(tiles, columns=3, title="ISIC_0000000 — DermaDesk", tile_width=200)
    figure = Image.open(io.BytesIO(png))
    assert figure.format == "PNG"
    assert figure.width == 3 * (200 + 12) + 12  # three columns at 200 px with 12 px gaps
    pixels = np.asarray(figure.convert("RGB"))
    first_tile = pixels[figure.height // 4, 12 + 100]
    assert tuple(first_tile) == (255, 0, 0)  # tiles are pasted where the grid says
    with pytest.raises(ValueError, match="at least one tile"):
        figure_png([], columns=1)
