"""Distorting model inputs (shift, rotation, pen, blur) and measuring accuracy as they grow."""

import numpy as np
import pytest
from scipy import ndimage

from digit_core.robustness import (
    AMOUNTS,
    Distortion,
    accuracy_curves,
    blur,
    distort,
    pen,
    rotate,
    shift,
)


def bar(vertical=True):
    """A 2 px wide bar, 12 px long, through the centre of the 28x28 field."""
    image = np.zeros((28, 28), np.float32)
    if vertical:
        image[8:20, 13:15] = 1.0
    else:
        image[13:15, 8:20] = 1.0
    return image


def centre(image):
    return np.array(ndimage.center_of_mass(image))


def test_a_shift_moves_the_digit_by_that_many_pixels():
    moved = shift(bar(), 3, -2)
    np.testing.assert_allclose(centre(moved) - centre(bar()), [-2, 3], atol=1e-4)
    assert moved.sum() == pytest.approx(bar().sum())  # nothing left the field


def test_a_shift_past_the_edge_loses_what_leaves_the_field():
    assert shift(bar(False), 12, 0).sum() < bar(False).sum()


def test_a_quarter_turn_lays_a_vertical_bar_flat():
    turned = rotate(bar(True), 90)
    np.testing.assert_allclose(turned, bar(False), atol=1e-5)


def test_a_thicker_pen_adds_ink_and_a_thinner_one_removes_it_but_keeps_every_stroke():
    image = bar()
    thick, thin = pen(image, 2), pen(image, -1)
    assert (thick > 0.5).sum() > (image > 0.5).sum()
    assert thin.sum() < image.sum()
    assert (thin[image > 0] > 0).all()  # no stroke disappears
    assert thin.max() == pytest.approx(image.max())  # thin, not faint


def test_blur_spreads_the_ink_and_keeps_its_peak():
    blurred = blur(bar(), 1.5)
    assert (blurred > 0.05).sum() > (bar() > 0.05).sum()
    assert blurred.max() == pytest.approx(1.0)


def test_distort_applies_every_change_and_leaves_an_image_alone_without_any():
    np.testing.assert_array_equal(distort(bar(), Distortion()), bar())
    moved = distort(bar(), Distortion(shift_x=2))
    np.testing.assert_allclose(centre(moved)[1] - centre(bar())[1], 2, atol=1e-4)
    stack = distort(np.stack([bar(), bar(False)]), Distortion(rotation=90))
    assert stack.shape == (2, 28, 28)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stroke": 9}, "stroke"),
        ({"blur": -1}, "blur"),
        ({"shift_x": float("nan")}, "finite"),
        ({"shift_y": 40}, "shift"),
    ],
)
def test_impossible_distortions_are_refused_by_name(fields, message):
    with pytest.raises(ValueError, match=message):
        Distortion(**fields)


def test_a_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        shift(np.zeros((10, 10)), 1, 1)


def test_accuracy_curves_count_right_answers_at_every_amount_and_report_progress():
    rng = np.random.default_rng(0)
    images = rng.random((20, 28, 28)).astype(np.float32)
    labels = np.arange(20) % 10

    def always_right(x):  # knows the labels: accuracy 1 whatever is done to the images
        return np.eye(10, dtype=np.float32)[labels[: len(x)]]

    def always_zero(x):
        return np.eye(10, dtype=np.float32)[np.zeros(len(x), int)]

    progress = []
    points = accuracy_curves(
        {"oracle": always_right, "zero": always_zero},
        images,
        labels,
        on_progress=lambda done, what: progress.append(done),
    )
    steps = sum(len(v) for v in AMOUNTS.values())
    assert len(points) == 2 * steps
    assert {p.accuracy for p in points if p.model == "oracle"} == {1.0}
    assert {p.accuracy for p in points if p.model == "zero"} == {0.1}  # 2 of the 20 labels are 0
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert [p.amount for p in points if p.model == "oracle" and p.distortion == "shift"] == list(
        AMOUNTS["shift"]
    )


def test_a_model_that_only_knows_the_centre_fails_as_digits_move():
    image = bar()
    images, labels = np.stack([image] * 10), np.ones(10, int)

    def centred(x):  # "1" when the ink's centre is within 1 px of the field's centre, else "0"
        near = np.array([np.abs(centre(i) - 13.5).max() <= 1 for i in x])
        return np.eye(10, dtype=np.float32)[near.astype(int)]

    points = accuracy_curves({"m": centred}, images, labels)
    shifted = {p.amount: p.accuracy for p in points if p.distortion == "shift"}
    assert shifted[0] == 1.0 and shifted[6] == 0.0
