"""Whether a model input is a digit at all, judged from its shape and from what both models make
of it: the "not a digit" answer for scribbles, dots, faces, letters and drawings.

:mod:`digit_core.digitness` refuses ink that cannot be one digit before any model sees it (noise,
solid blocks, lines of text). This module looks at the normalised ``(28, 28)`` input, the same
one the models get, enlarged three times so that thin strokes keep their gaps:

- crossings: how many strokes a row (or a column) of pixels cuts through. A digit's rows cut at
  most three strokes (a 4, an open 8); a W, an M, a hash or a sun cut four or more over many rows;
- closed loops: holes in the ink; digits have at most two (an 8);
- pieces: separate parts of some size; digits come in at most three (a 5 in two strokes, a
  broken stroke);
- fill: the share of the field that is ink; thick digits stay below 0.25;
- the models: the chance that both models, asked independently, name the same digit
  (``sum_d p_cnn(d) * p_ann(d)``); a real digit, even a badly written one, gets at least one
  digit that both find likely.

Every limit sits outside what 1,000 drawn digits (any pen, slant, size) and the 1,797 UCI digits of
other writers (read as uploaded files) reach, with a margin: the check errs on the side of
accepting, since refusing a real digit is worse than guessing at a doodle. ``python -m
bench.non_digits`` measures it. numpy and scipy only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import ndimage

from .preprocess import Prepared
from .spec import IMAGE_SIZE, NUM_CLASSES

NOT_A_DIGIT = "this does not look like a digit"
ZOOM = 3  # the 28x28 input is enlarged this much (bilinear) and cut at INK
INK = 0.4
MIN_HOLE = 6  # px of the enlarged image: smaller gaps are the pen's texture, not loops
# Limits, each beyond the digits measured (drawn / UCI at the 99.5th percentile and maximum):
ROWS_FOUR = 0.1  # share of the inked rows that cut 4+ strokes (digits: 0 / 0)
ROWS_THREE = 0.3  # share of the inked rows that cut 3+ strokes (digits: 0.016 / 0.051)
COLUMNS_FOUR = 0.25  # share of the inked columns that cut 4+ strokes (digits: 0.16 / 0.08)
COLUMNS_FIVE = 0.05  # share of the inked columns that cut 5+ strokes (digits: 0 / 0)
MAX_HOLES = 2
MAX_PIECES = 3  # pieces holding at least PIECE of the ink
PIECE = 0.03
MAX_FILL = 0.27  # share of the enlarged field that is ink (digits: 0.21 / 0.24)
MIN_SHARED = 0.1  # sum_d p_cnn(d) p_ann(d): drawn digits 0.65 at least, UCI 0.12 at 0.1 %


def _mask(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected a (28, 28) model input, got {image.shape}")
    return ndimage.zoom(image, ZOOM, order=1) > INK


def crossings(mask: np.ndarray, axis: int) -> np.ndarray:
    """How many separate runs of ink each row (``axis=1``) or column (``axis=0``) of a boolean
    ``(h, w)`` mask cuts: ``(h,)`` or ``(w,) int``."""
    lines = np.asarray(mask, dtype=bool) if axis == 1 else np.asarray(mask, dtype=bool).T
    return (lines[:, 1:] & ~lines[:, :-1]).sum(axis=1) + lines[:, 0]


def holes(mask: np.ndarray) -> int:
    """Closed loops: pieces of paper (4-connected) of at least :data:`MIN_HOLE` px that do not
    reach the border."""
    paper, count = ndimage.label(~mask)
    if count == 0:
        return 0
    border = np.unique(np.concatenate([paper[0], paper[-1], paper[:, 0], paper[:, -1]]))
    sizes = np.bincount(paper.ravel(), minlength=count + 1)
    inside = np.setdiff1d(np.arange(1, count + 1), border)
    return int((sizes[inside] >= MIN_HOLE).sum())


def pieces(mask: np.ndarray) -> int:
    """Separate (8-connected) parts of the ink holding at least :data:`PIECE` of it."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= PIECE * mask.sum()).sum())


def _share(counts: np.ndarray, least: int) -> float:
    inked = counts[counts > 0]
    return float((inked >= least).mean()) if len(inked) else 0.0


def shape_reason(image: np.ndarray) -> str | None:
    """Why the ``(28, 28)`` model input (float in [0, 1], ink bright) cannot be a digit by its
    shape, or None when it can."""
    mask = _mask(image)
    if not mask.any():
        return None
    rows, columns = crossings(mask, 1), crossings(mask, 0)
    if (
        _share(rows, 4) > ROWS_FOUR
        or _share(rows, 3) > ROWS_THREE
        or _share(columns, 4) > COLUMNS_FOUR
        or _share(columns, 5) > COLUMNS_FIVE
    ):
        return (
            f"{NOT_A_DIGIT}: lines across it meet more strokes than any digit's do, "
            "like a letter, a face or a drawing"
        )
    loops = holes(mask)
    if loops > MAX_HOLES:
        return f"{NOT_A_DIGIT}: it has {loops} closed loops, and a digit has at most two"
    parts = pieces(mask)
    if parts > MAX_PIECES:
        return f"{NOT_A_DIGIT}: it is in {parts} separate pieces, like a face or a drawing"
    if mask.mean() > MAX_FILL:
        return f"{NOT_A_DIGIT}: the ink covers too much of it, like a scribble"
    return None


def shared_belief(probabilities: Mapping[str, np.ndarray]) -> float:
    """The chance that every model, asked independently, names the same digit: ``sum_d prod_m
    p_m(d)`` over ``(10,)`` probability vectors (one model: its top probability)."""
    vectors = [np.asarray(p, dtype=np.float64).reshape(-1) for p in probabilities.values()]
    if not vectors:
        raise ValueError("no model's probabilities to judge")
    if any(v.shape != (NUM_CLASSES,) for v in vectors):
        raise ValueError(f"expected ({NUM_CLASSES},) probabilities per model")
    if len(vectors) == 1:
        return float(vectors[0].max())
    return float(np.prod(vectors, axis=0).sum())


def not_a_digit(image: np.ndarray, probabilities: Mapping[str, np.ndarray] | None = None) -> str | None:
    """Why the ``(28, 28)`` model input is not a digit, or None when it may be one.

    ``probabilities`` maps model names to their ``(10,)`` answers for ``image`` (the shipped ANN
    and CNN in the app); with two or more, an input that no digit gets from all of them together
    (:func:`shared_belief` below :data:`MIN_SHARED`) is refused too.
    """
    reason = shape_reason(image)
    if reason is not None or not probabilities or len(probabilities) < 2:
        return reason
    shared = shared_belief(probabilities)
    if shared < MIN_SHARED:
        names = " and ".join(sorted(probabilities))
        return (
            f"{NOT_A_DIGIT}: the {names} models do not agree on any digit for it "
            f"(the chance they name the same one is {shared:.0%})"
        )
    return None


def article(digit: int) -> str:
    """The article before a digit said aloud: "an" 8 (eight), "a" for the others."""
    return "an" if int(digit) == 8 else "a"


def refusal(prepared: Prepared, probabilities: Mapping[str, np.ndarray] | None = None) -> str | None:
    """The reason to refuse a :class:`digit_core.preprocess.Prepared` drawing as not a digit, or
    None: the ink's own check (:mod:`digit_core.digitness`) first, then :func:`not_a_digit`."""
    if prepared.blank:
        return None
    return prepared.not_a_digit or not_a_digit(prepared.image, probabilities)
