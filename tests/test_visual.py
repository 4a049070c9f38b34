"""Colour scales, their legends and grids of small images."""

import numpy as np
import pytest

from digit_core.visual import SCALES, colour_bar, colourise, feature_grid, saliency_bar, template_grid, tile


def test_colourise_puts_low_on_the_first_colour_and_high_on_the_last():
    out = colourise(np.array([[-1.0, 0.0, 0.5, 2.0]]), "weight", -1.0, 1.0)
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == SCALES["weight"][0]  # most negative: blue
    assert tuple(out[0, 1]) == SCALES["weight"][2]  # zero: white, the middle stop
    assert tuple(out[0, 3]) == SCALES["weight"][-1]  # clipped above high: red


def test_colourise_refuses_unknown_scales_and_empty_ranges():
    with pytest.raises(ValueError, match="unknown colour scale"):
        colourise(np.zeros(3), "rainbow")
    with pytest.raises(ValueError, match="high must be above low"):
        colourise(np.zeros(3), "response", 1.0, 1.0)


def test_legends_run_from_the_first_colour_to_the_last():
    bar = colour_bar("response", width=50, height=4)
    assert bar.shape == (4, 50, 3)
    assert tuple(bar[0, 0]) == SCALES["response"][0] and tuple(bar[0, -1]) == SCALES["response"][-1]
    heat = saliency_bar(width=20, height=2)
    assert tuple(heat[0, -1]) != tuple(heat[0, 0])


def test_tile_lays_images_out_row_by_row_with_gaps():
    images = [np.full((2, 3, 3), k, np.uint8) for k in range(5)]
    grid = tile(images, columns=2, gap=1, background=9)
    assert grid.shape == (3 * 2 + 2, 2 * 3 + 1, 3)
    assert grid[0, 0, 0] == 0 and grid[0, 4, 0] == 1 and grid[3, 0, 0] == 2 and grid[6, 0, 0] == 4
    assert grid[2, 0, 0] == 9 and grid[6, 4, 0] == 9  # a gap, and the empty sixth place
    with pytest.raises(ValueError, match="same shape"):
        tile([np.zeros((2, 2, 3), np.uint8), np.zeros((3, 2, 3), np.uint8)], 2)


def test_feature_grid_shows_the_strongest_maps_first_on_one_scale():
    maps = np.zeros((3, 4, 4), np.float32)
    maps[0] += 0.1
    maps[2] += 1.0
    order = np.array([2, 0, 1])
    grid = feature_grid(maps, order, count=2, columns=2, size=8)
    assert grid.shape == (8, 8 * 2 + 2, 3)
    assert tuple(grid[0, 0]) == SCALES["response"][-1]  # the strongest map, first, at the top colour
    assert tuple(grid[0, 10]) != SCALES["response"][-1]  # the weaker one is darker on the same scale


def test_template_grid_shows_positive_weights_red_and_negative_blue():
    weights = np.zeros((2, 28, 28), np.float32)
    weights[0, 0, 0], weights[0, 0, 1] = 1.0, -1.0
    grid = template_grid(weights, np.array([0]), columns=1, scale=1)
    assert tuple(grid[0, 0]) == SCALES["weight"][-1] and tuple(grid[0, 1]) == SCALES["weight"][0]
