"""The "not a digit" answer: shape measures on hand-made masks, the models' shared belief computed
by hand, and the refusal on our drawn digits and non-digit drawings."""

import numpy as np
import pytest

from digit_core.inference import predict
from digit_core.nondigit import (
    NOT_A_DIGIT,
    article,
    crossings,
    holes,
    not_a_digit,
    pieces,
    refusal,
    shape_reason,
    shared_belief,
)
from digit_core.preprocess import prepare
from digit_core.registry import load_model
from tests.support import non_digits, strokes


def test_crossings_count_the_runs_of_ink_on_each_row_and_column():
    mask = np.array(
        [
            [1, 0, 1, 1, 0, 1],
            [0, 0, 0, 0, 0, 0],
            [1, 1, 1, 1, 1, 1],
        ],
        bool,
    )
    assert crossings(mask, 1).tolist() == [3, 0, 1]
    assert crossings(mask, 0).tolist() == [2, 1, 2, 2, 1, 2]


def test_holes_count_closed_loops_and_pieces_count_separate_parts():
    ring = np.zeros((20, 20), bool)
    ring[4:16, 4:16] = True
    ring[7:13, 7:13] = False
    assert holes(ring) == 1 and pieces(ring) == 1
    eight = np.zeros((30, 20), bool)
    eight[2:28, 4:16] = True
    eight[5:12, 7:13] = False
    eight[17:25, 7:13] = False
    assert holes(eight) == 2
    open_cup = ring.copy()
    open_cup[7:10, 4:7] = False  # a gap to the outside: no longer a loop
    open_cup[7:13, 4:7] = False
    assert holes(open_cup) == 0
    dots = np.zeros((20, 20), bool)
    for y, x in ((2, 2), (2, 15), (15, 2), (15, 15)):
        dots[y : y + 3, x : x + 3] = True
    assert pieces(dots) == 4


def test_shared_belief_is_the_chance_that_both_models_name_the_same_digit():
    a = np.array([0.5, 0.5] + [0.0] * 8)
    b = np.array([0.2, 0.0, 0.8] + [0.0] * 7)
    assert shared_belief({"ann": a, "cnn": b}) == pytest.approx(0.5 * 0.2)
    assert shared_belief({"cnn": b}) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="no model"):
        shared_belief({})
    with pytest.raises(ValueError, match=r"\(10,\)"):
        shared_belief({"a": np.ones(3), "b": np.ones(3)})


def test_models_that_agree_on_no_digit_refuse_it_and_say_so():
    image = prepare(strokes.draw_digit(1, strokes.Style())).image
    sure = np.eye(10)[1]
    assert not_a_digit(image, {"ann": sure, "cnn": sure}) is None
    reason = not_a_digit(image, {"ann": np.eye(10)[1], "cnn": np.eye(10)[7]})
    assert reason.startswith(NOT_A_DIGIT) and "do not agree on any digit" in reason
    assert not_a_digit(image, {"cnn": np.full(10, 0.1)}) is None  # one model alone never refuses


def test_a_cross_hatch_is_refused_for_its_crossings():
    drawing = non_digits.draw("cross-hatch", strokes.Style(width=12))
    reason = shape_reason(prepare(drawing).image)
    assert reason is not None and "meet more strokes than any digit's" in reason


def test_shape_reason_wants_a_model_input():
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        shape_reason(np.zeros((10, 10)))


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name) for name in ("ann", "cnn")}


def judged(models, images):
    prepared = [prepare(image) for image in images]
    stack = np.stack([p.image for p in prepared])
    answers = {name: predict(model, stack) for name, model in models.items()}
    return [refusal(p, {n: a[i] for n, a in answers.items()}) for i, p in enumerate(prepared)]


def test_no_drawn_digit_is_refused_whatever_the_pen_size_or_slant(models):
    rng = np.random.default_rng(11)
    images = [strokes.draw_digit(k % 10, strokes.random_style(rng), rng) for k in range(300)]
    reasons = judged(models, images)
    assert [r for r in reasons if r] == []


def test_many_non_digits_are_refused_with_a_reason(models):
    drawings = non_digits.drawings(per_name=3, seed=3)
    reasons = judged(models, [image for _, image in drawings])
    refused = {name for (name, _), reason in zip(drawings, reasons) if reason}
    assert {"dot", "smiley", "spiral", "wave", "cross-hatch"} <= refused
    assert sum(r is not None for r in reasons) >= 0.3 * len(reasons)  # bench.non_digits: 41 %
    assert all(r.startswith(NOT_A_DIGIT) for r in reasons if r)


def test_an_8_takes_an():
    assert [article(d) for d in range(10)] == ["a"] * 8 + ["an", "a"]
