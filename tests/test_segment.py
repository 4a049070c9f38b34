"""Splitting a written number into its digits, left to right."""

import numpy as np

from digit_core import strokes
from digit_core.segment import split_digits


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
