"""What the Train page shows of a network learning, as data: the strip's fixed digits and their
readings, and how a race ended."""

import numpy as np
import pytest

from digit_core.watching import lap, strip_indices, strip_reading, verdict
from ui.watch import RIGHT, STRIP_COLUMNS, WRONG, strip_picture


def test_the_strip_is_two_of_each_digit_the_first_in_the_test_set_and_always_the_same():
    labels = np.array([3, 1, 3, 0, 9, 1, 2, 0, 3] + list(range(10)) * 3)
    chosen = strip_indices(labels)
    assert len(chosen) == 20 and list(chosen) == sorted(chosen)
    assert sorted(labels[chosen].tolist()) == sorted(list(range(10)) * 2)
    for digit in range(10):  # the first two of that digit, no later one
        assert [i for i in chosen if labels[i] == digit] == list(np.flatnonzero(labels == digit)[:2])
    assert list(strip_indices(labels.copy())) == list(chosen)


def test_a_reading_gives_each_images_guess_and_confidence():
    probabilities = np.full((3, 10), 0.02)
    probabilities[[0, 1, 2], [7, 2, 2]] = 0.82
    reading = strip_reading(41, 2, probabilities)
    assert reading == {"step": 41, "epoch": 2, "guesses": [7, 2, 2], "confidence": [0.82, 0.82, 0.82]}


HISTORY = [
    {"epoch": 1, "val_accuracy": 0.91, "elapsed": 4.0},
    {"epoch": 2, "val_accuracy": 0.95, "elapsed": 8.5},
    {"epoch": 3, "val_accuracy": 0.94, "elapsed": 12.0},
]


def test_a_lap_says_when_the_best_validation_accuracy_was_reached():
    one = lap("cnn", HISTORY, 0.953, 12.5)
    assert (one.best_val_accuracy, one.best_val_at, one.epochs) == (0.95, 8.5, 3)
    assert lap("ann", [], None, None).best_val_accuracy is None
    tied = lap("cnn", [*HISTORY, {"epoch": 4, "val_accuracy": 0.95, "elapsed": 16.0}], 0.95, 16.5)
    assert (tied.best_val_at, tied.epochs) == (16.0, 4)  # the later of two equal epochs, as kept


@pytest.mark.parametrize(
    ("cnn", "ann", "expected"),
    [
        (
            (0.99, 20.0),
            (0.97, 10.0),
            "The CNN reads 2.00 points more of the test set than the ANN, and took 2.0× as long",
        ),
        (
            (0.99, 8.0),
            (0.97, 10.0),
            "The CNN reads 2.00 points more of the test set than the ANN, and it trained in less time.",
        ),
        (
            (0.96, 20.0),
            (0.97, 10.0),
            "The ANN reads 1.00 points more of the test set than the CNN, and it trained in less time.",
        ),
        (
            (0.97, 20.0),
            (0.97, 10.0),
            "The CNN and the ANN tie on the test set; the ANN trained 2.0× as fast.",
        ),
    ],
)
def test_the_verdict_names_the_more_accurate_and_what_it_cost(cnn, ann, expected):
    laps = [lap("cnn", HISTORY, cnn[0], cnn[1]), lap("ann", HISTORY, ann[0], ann[1])]
    assert verdict(laps).startswith(expected)


def test_a_race_where_one_failed_has_no_winner():
    assert "no winner" in verdict([lap("cnn", HISTORY, 0.99, 5.0), lap("ann", [], None, None)])


def test_the_strip_picture_frames_right_guesses_green_and_wrong_ones_red_and_thicker():
    images = np.full((20, 28, 28), 255, np.uint8)  # blank paper: only the frames have colour
    labels = list(range(10)) * 2
    guesses = [label if k % 3 else (label + 1) % 10 for k, label in enumerate(labels)]
    picture = np.asarray(strip_picture(images, labels, guesses))
    rows = 20 // STRIP_COLUMNS
    cell_w, cell_h = picture.shape[1] // STRIP_COLUMNS, picture.shape[0] // rows
    for k, (label, guess) in enumerate(zip(labels, guesses)):
        left, top = (k % STRIP_COLUMNS) * cell_w + 3, (k // STRIP_COLUMNS) * cell_h
        colour = RIGHT if guess == label else WRONG
        expected = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        assert picture[top + 1, left + 1].tolist() == expected, k  # the frame
        # 4 px in: paper inside a right one's 3 px frame, still frame in a wrong one's 6 px
        assert picture[top + 4, left + 30].tolist() == ([255] * 3 if guess == label else expected), k
