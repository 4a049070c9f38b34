"""Metrics from predicted probabilities, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digit_core.evaluation import (
    Mistake,
    cell,
    confusion_csv,
    confusion_matrix,
    disagreements,
    evaluate,
    format_report,
    from_confusion,
    per_class_csv,
    row_normalised,
)

# Eight images of digits 0, 1 and 2, worked out by hand:
#   index:      0    1    2    3    4    5    6    7
#   true:       0    0    0    1    1    2    2    2
#   predicted:  0    0    1    1    1    2    0    0
#   confidence .8   .95  .6   .7   .9   .85  .9   .7   (probability given to the predicted digit)
TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2])
PREDICTED = [0, 0, 1, 1, 1, 2, 0, 0]
CONFIDENCE = [0.8, 0.95, 0.6, 0.7, 0.9, 0.85, 0.9, 0.7]

# Rows true digit, columns predicted digit (only the 0..2 corner; everything else is 0).
EXPECTED_CONFUSION_CORNER = [
    [2, 1, 0],
    [0, 2, 0],
    [2, 0, 1],
]
# precision = hits / times predicted: 0 -> 2/4, 1 -> 2/3, 2 -> 1/1
EXPECTED_PRECISION = [0.5, 2 / 3, 1.0] + [0.0] * 7
# recall = hits / support: 0 -> 2/3, 1 -> 2/2, 2 -> 1/3
EXPECTED_RECALL = [2 / 3, 1.0, 1 / 3] + [0.0] * 7
# f1 = 2PR / (P + R): 0 -> (2/3)/(7/6) = 4/7, 1 -> (4/3)/(5/3) = 4/5, 2 -> (2/3)/(4/3) = 1/2
EXPECTED_F1 = [4 / 7, 4 / 5, 1 / 2] + [0.0] * 7
EXPECTED_SUPPORT = [3, 2, 3] + [0] * 7


def probabilities_for(predicted, confidence) -> np.ndarray:
    """Rows that give ``confidence`` to ``predicted`` and share the rest equally among the others."""
    rows = []
    for p, c in zip(predicted, confidence, strict=True):
        row = np.full(10, (1 - c) / 9)
        row[p] = c
        rows.append(row)
    return np.array(rows)


@pytest.fixture
def probs() -> np.ndarray:
    return probabilities_for(PREDICTED, CONFIDENCE)


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    expected = np.zeros((10, 10), dtype=np.int64)
    expected[:3, :3] = EXPECTED_CONFUSION_CORNER

    got = confusion_matrix(TRUE, np.array(PREDICTED))

    assert got.shape == (10, 10)
    np.testing.assert_array_equal(got, expected)


def test_evaluate_matches_hand_computed_metrics(probs):
    result = evaluate(probs, TRUE)

    assert result.accuracy == pytest.approx(5 / 8)
    assert result.count == 8
    assert result.confusion[:3, :3].tolist() == EXPECTED_CONFUSION_CORNER
    assert result.confusion.sum() == 8
    np.testing.assert_allclose(result.precision, EXPECTED_PRECISION)
    np.testing.assert_allclose(result.recall, EXPECTED_RECALL)
    np.testing.assert_allclose(result.f1, EXPECTED_F1)
    assert result.support.tolist() == EXPECTED_SUPPORT


def test_loss_is_mean_cross_entropy_of_the_true_digit(probs):
    # Independent: the probability of the true digit is the confidence when right, else (1 - c) / 9.
    expected = 0.0
    for t, p, c in zip(TRUE, PREDICTED, CONFIDENCE, strict=True):
        expected -= math.log(c if t == p else (1 - c) / 9)
    expected /= len(TRUE)

    assert evaluate(probs, TRUE).loss == pytest.approx(expected, rel=1e-12)


def test_confident_total_mistake_costs_a_finite_loss():
    probs = np.zeros((2, 10))
    probs[0, 3] = 1.0  # true 3, right
    probs[1, 4] = 1.0  # true 5, gets probability 0
    loss = evaluate(probs, np.array([3, 5])).loss
    assert math.isfinite(loss)
    assert loss == pytest.approx(-math.log(1e-7) / 2)


def test_mistakes_come_most_confident_first_with_true_and_predicted_digits(probs):
    mistakes = evaluate(probs, TRUE).mistakes

    assert [(m.index, m.true, m.predicted) for m in mistakes] == [(6, 2, 0), (7, 2, 0), (2, 0, 1)]
    assert [m.confidence for m in mistakes] == pytest.approx([0.9, 0.7, 0.6])
    assert all(isinstance(m, Mistake) for m in mistakes)


def test_no_mistakes_when_every_prediction_is_right():
    labels = np.array([0, 1, 2])
    result = evaluate(probabilities_for(labels, [0.9, 0.9, 0.9]), labels)
    assert result.mistakes == []
    assert result.accuracy == 1.0


def test_precision_is_zero_not_nan_for_a_digit_never_predicted():
    # Digit 1 appears twice but is never predicted.
    labels = np.array([0, 1, 1, 2])
    result = evaluate(probabilities_for([0, 0, 2, 2], [0.8] * 4), labels)

    assert result.precision[1] == 0.0
    assert result.recall[1] == 0.0
    assert result.f1[1] == 0.0
    assert not np.isnan(result.precision).any() and not np.isnan(result.f1).any()
    assert result.precision[0] == pytest.approx(0.5) and result.precision[2] == pytest.approx(0.5)


def test_per_class_rows_are_json_ready_and_match_arrays(probs):
    rows = evaluate(probs, TRUE).per_class()
    assert [r["digit"] for r in rows] == list(range(10))
    assert rows[0] == {
        "digit": 0,
        "precision": pytest.approx(0.5),
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(4 / 7),
        "support": 3,
    }
    assert all(type(r["support"]) is int and type(r["f1"]) is float for r in rows)


@pytest.mark.parametrize(
    ("probabilities", "labels", "message"),
    [
        (
            np.full((3, 9), 1 / 9),
            np.array([0, 1, 2]),
            r"probabilities must have shape \(N, 10\), got \(3, 9\)",
        ),
        (np.full((3,), 0.1), np.array([0, 1, 2]), r"probabilities must have shape \(N, 10\)"),
        (np.full((3, 10), 0.1), np.array([0, 1]), r"labels must have shape \(3,\), got \(2,\)"),
        (np.full((3, 10), 0.1), np.array([[0, 1, 2]]), r"labels must have shape \(3,\)"),
        (np.full((3, 10), 0.1), np.array([0, 1, 10]), r"labels must be integers in 0\.\.9"),
        (np.full((3, 10), 0.1), np.array([0, -1, 2]), r"labels must be integers in 0\.\.9"),
        (np.full((3, 10), 0.1), np.array([0.0, 1.0, 2.0]), r"labels must be integers"),
        (np.zeros((0, 10)), np.zeros((0,), dtype=np.int64), "empty"),
    ],
    ids=[
        "nine-columns",
        "one-dimensional",
        "too-few-labels",
        "labels-2d",
        "label-10",
        "label-negative",
        "float-labels",
        "empty",
    ],
)
def test_evaluate_rejects_bad_input_with_a_clear_message(probabilities, labels, message):
    with pytest.raises(ValueError, match=message):
        evaluate(probabilities, labels)


def test_confusion_matrix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(np.array([0, 1, 2]), np.array([0, 1]))


def test_confusion_matrix_rejects_digits_out_of_range():
    with pytest.raises(ValueError):
        confusion_matrix(np.array([0]), np.array([12]))


def test_format_report_shows_accuracy_and_one_row_per_digit(probs):
    report = format_report(evaluate(probs, TRUE))
    lines = report.splitlines()

    assert "accuracy 62.5000%" in lines[0]
    assert "errors 3 of 8" in lines[0]
    assert lines[1].split() == ["digit", "precision", "recall", "f1", "support"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == 10
    assert [int(r[0]) for r in rows] == list(range(10))
    assert rows[0] == ["0", "0.5000", "0.6667", "0.5714", "3"]
    assert rows[9] == ["9", "0.0000", "0.0000", "0.0000", "0"]


def test_metrics_from_a_confusion_matrix_match_those_from_probabilities():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    probabilities = rng.dirichlet(np.ones(10), 300)
    full = evaluate(probabilities, labels)
    card = from_confusion(full.confusion.tolist(), loss=full.loss)
    assert card.accuracy == full.accuracy and card.loss == full.loss and card.mistakes == []
    np.testing.assert_allclose(card.f1, full.f1)
    with pytest.raises(ValueError, match="10, 10"):
        from_confusion([[1, 2], [3, 4]])


def test_row_normalised_rates_sum_to_one_per_seen_digit():
    confusion = np.zeros((10, 10), np.int64)
    confusion[3, 3], confusion[3, 5] = 3, 1
    rates = row_normalised(confusion)
    assert rates[3, 3] == 0.75 and rates[3, 5] == 0.25
    assert rates[0].sum() == 0  # a digit never seen stays at zero, not NaN


def test_cell_lists_exactly_its_images_most_confident_first():
    labels = np.array([4, 4, 9, 4, 4])
    probabilities = np.full((5, 10), 0.01)
    probabilities[0, 9], probabilities[1, 4], probabilities[2, 4] = 0.6, 0.9, 0.8
    probabilities[3, 9], probabilities[4, 9] = 0.95, 0.7
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    assert cell(probabilities, labels, 4, 9).tolist() == [3, 4, 0]
    assert cell(probabilities, labels, 9, 4).tolist() == [2]
    assert cell(probabilities, labels, 7, 7).tolist() == []


def test_disagreements_say_who_was_right():
    labels = np.array([1, 2, 3, 4])
    first, second = np.eye(10)[[1, 2, 5, 6]], np.eye(10)[[1, 7, 3, 8]]
    found = disagreements(first, second, labels)
    assert [(d.index, d.first, d.second, d.right) for d in found] == [
        (1, 2, 7, "first"),
        (2, 5, 3, "second"),
        (3, 6, 8, "neither"),
    ]


def test_csv_exports_hold_the_matrix_and_the_per_digit_metrics():
    probabilities = np.eye(10)[[0, 1, 1, 2]]
    result = evaluate(probabilities, np.array([0, 1, 2, 2]))
    lines = confusion_csv(result.confusion).splitlines()
    assert lines[0].startswith("true,predicted_0") and len(lines) == 11
    assert lines[3] == "2,0,1,1,0,0,0,0,0,0,0"
    rows = per_class_csv(result).splitlines()
    assert rows[0] == "digit,precision,recall,f1,support" and rows[3] == "2,1.000000,0.500000,0.666667,2"
