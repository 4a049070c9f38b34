"""Splitting a written number into its digits, left to right."""

import numpy as np

from digit_core.preprocess import to_mnist
from digit_core.segment import split_digits
from tests.support import strokes


def write_number(digits, size=(700, 200), width=16, gap=1.3):
    """Digits side by side on a transparent canvas, ``gap`` digit-widths apart (centre to centre)."""
    height = size[1] * 0.7
    step = height * 0.75 * gap
    first = (size[0] - step * (len(digits) - 1)) / 2
    lines = []
    for i, digit in enumerate(digits):
        for stroke in strokes.place(digit, strokes.Style(size=size[1], height=0.7, width=width)):
            lines.append([(x - size[1] / 2 + first + i * step, y) for x, y in stroke])
    return strokes.render(lines, size, width)


def test_digits_come_out_left_to_right_one_piece_each():
    pieces = split_digits(write_number([1, 9, 8, 4]))
    assert len(pieces) == 4
    lefts = [piece.box[1] for piece in pieces]
    assert lefts == sorted(lefts)
    assert all(not piece.prepared.blank and piece.prepared.image.shape == (28, 28) for piece in pieces)


def test_a_digit_drawn_in_two_strokes_stays_one_piece():
    # The 4 template has two separate strokes; the 5 and 7 are one stroke each.
    assert len(split_digits(write_number([4, 5, 4, 7]))) == 4


def test_each_piece_is_centred_like_a_single_digit():
    for piece in split_digits(write_number([0, 7])):
        image = piece.prepared.image
        rows, cols = np.mgrid[0:28, 0:28]
        cy, cx = (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_specks_are_not_digits():
    canvas = write_number([2, 3]).copy()
    canvas[5:7, 690:692] = 255  # a stray 2x2 dot of ink in the corner
    assert len(split_digits(canvas)) == 2


def test_blank_drawing_has_no_digits():
    assert split_digits(np.zeros((200, 700, 4), np.uint8)) == []


def test_a_piece_holds_only_its_own_strokes_when_a_neighbour_reaches_into_its_box():
    # A 7 and a slanted 1 whose boxes overlap by a quarter of the narrower: two digits, and the
    # 7's piece must not carry the part of the 1 that lies inside its box.
    seven = [
        [(x + 150, y) for x, y in s] for s in strokes.place(7, strokes.Style(size=200, height=0.7, width=14))
    ]
    one = [
        [(x + 220, y) for x, y in s]
        for s in strokes.place(1, strokes.Style(size=200, height=0.7, width=14, slant=0.6, variant=0.5))
    ]
    pieces = split_digits(strokes.render(seven + one, (700, 200), 14))
    alone = split_digits(strokes.render(seven, (700, 200), 14))[0].prepared.image
    assert len(pieces) == 2
    assert np.abs(pieces[0].prepared.image - alone).mean() < 0.005


def test_a_piece_is_prepared_exactly_like_the_same_digit_drawn_alone():
    # A plain 1 in a 40 px pen: its piece's border is all ink, which must not be taken for paper.
    one = strokes.place(1, strokes.Style(size=200, height=0.7, width=40, variant=0.5))
    canvas = strokes.render([[(x + 103, y) for x, y in s] for s in one], (700, 200), 40)
    piece = split_digits(canvas)[0].prepared.image
    assert np.abs(piece - to_mnist(canvas)).mean() < 0.005
