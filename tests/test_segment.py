"""Splitting a written number into its digits, left to right."""

import numpy as np
import pytest

from digit_core.preprocess import to_mnist
from digit_core.segment import cut_columns, separate, split_digits
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


def touching_number(digits, gap=60, size=(700, 200), width=16):
    """Digits ``gap`` px apart, centre to centre: close enough that their strokes touch."""
    lines = []
    for i, digit in enumerate(digits):
        for stroke in strokes.place(digit, strokes.Style(size=size[1], height=0.7, width=width)):
            lines.append([(x + 100 + i * gap, y) for x, y in stroke])
    return strokes.render(lines, size, width)


@pytest.fixture(scope="module")
def read():
    from digit_core.inference import predict
    from digit_core.registry import load_model

    model = load_model("cnn")
    return lambda images: predict(model, images)


def digits_read(pieces, read):
    return "".join(str(int(np.argmax(read(p.prepared.image[np.newaxis])[0]))) for p in pieces)


def test_touching_digits_are_one_piece_without_a_reader():
    assert len(split_digits(touching_number([4, 7]))) == 1


@pytest.mark.parametrize("digits", [[4, 7], [2, 3], [3, 5], [5, 6]])
def test_touching_digits_are_cut_where_the_model_reads_both_sides_best(digits, read):
    pieces = split_digits(touching_number(digits), read=read)
    assert digits_read(pieces, read) == "".join(map(str, digits))
    assert all(p.split and not p.unsure for p in pieces)
    lefts = [p.box[1] for p in pieces]
    assert lefts == sorted(lefts)


@pytest.mark.parametrize("digit", [0, 2, 4, 5, 7, 8])
def test_a_single_digit_drawn_wide_is_not_cut(digit, read):
    style = strokes.Style(size=200, height=0.7, width=16, aspect=1.3)
    image = strokes.render(strokes.place(digit, style), (300, 200), 16)
    pieces = split_digits(image, read=read)
    assert len(pieces) == 1 and not pieces[0].split


def test_cut_columns_are_the_thinnest_and_stay_off_the_edges():
    ink = np.zeros((40, 100), np.float32)
    ink[:, 10:45] = 1.0
    ink[18:22, 45:60] = 1.0  # a thin bridge between two blocks
    ink[:, 60:90] = 1.0
    columns = cut_columns(ink[:, 10:90], count=3)
    assert 35 <= columns[0] < 50  # the thinnest is on the bridge
    assert all(0.15 * 80 <= c <= 0.85 * 80 for c in columns)


def constant_reader(whole, sides):
    """A reader sure ``whole`` of the first image (the uncut piece) and ``sides`` of the rest."""

    def read(images):
        confidence = np.full(len(images), sides, np.float32)
        confidence[0] = whole
        out = np.zeros((len(images), 10), np.float32)
        out[:, 0] = confidence
        out[:, 1] = 1 - confidence
        return out

    return read


def test_a_piece_is_cut_only_when_its_sides_read_more_surely_than_the_whole():
    image = touching_number([4, 7])
    cut = split_digits(image, read=constant_reader(whole=0.4, sides=0.95))
    assert len(cut) >= 2 and all(p.split for p in cut)
    kept = split_digits(image, read=constant_reader(whole=0.99, sides=0.6))
    assert len(kept) == 1 and not kept[0].split and not kept[0].unsure


def test_when_the_reader_cannot_tell_the_piece_is_marked_unsure():
    # Two strokes joined by a bridge, as wide as a broad digit: read just as surely whole as cut.
    ink = np.zeros((40, 44), np.float32)
    ink[:, 4:12] = 1.0
    ink[:, 32:40] = 1.0
    ink[18:22, 12:32] = 1.0
    ink = ink[:, 4:40]  # 36 wide, 40 tall: an aspect of 0.9, between one digit and two
    (piece,) = separate(ink, (0, 0), constant_reader(whole=0.9, sides=0.9))
    assert piece.unsure and not piece.split
    (sure,) = separate(ink, (0, 0), constant_reader(whole=0.99, sides=0.5))
    assert not sure.unsure  # must not: doubt a piece read far more surely whole


def test_the_sides_of_a_clean_cut_are_not_doubted():
    # The same undecidable ink as above, met as one side of a cut already made (depth 1): kept
    # whole without doubt, or every clean cut of a touching 4 and 7 would be flagged.
    ink = np.zeros((40, 44), np.float32)
    ink[:, 4:12] = 1.0
    ink[:, 32:40] = 1.0
    ink[18:22, 12:32] = 1.0
    (piece,) = separate(ink[:, 4:40], (0, 0), constant_reader(whole=0.9, sides=0.9), depth=1)
    assert not piece.unsure and not piece.split
