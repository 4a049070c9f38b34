"""Robustness, the classic ANN vs CNN lesson: move, turn, thicken or blur a digit and see which
network still reads it.

:func:`distort` changes model inputs (``(28, 28)`` images in [0, 1], already centred as MNIST's),
so a shift really moves the digit off-centre instead of being undone by the preprocessing.
:func:`accuracy_curves` measures a set of models on test digits as each distortion grows. The
models are passed in as prediction functions, so this module needs no TensorFlow (numpy and
scipy only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .spec import IMAGE_SIZE

THIN_FLOOR = 0.4  # thinning keeps this share of every stroke, so that no stroke disappears
# The amounts each curve is measured at: px of shift, degrees of rotation, px of pen (negative
# thinner). Shifts and turns go in a random direction per image (fixed by the seed).
AMOUNTS: dict[str, tuple[float, ...]] = {
    "shift": (0, 1, 2, 3, 4, 5, 6),
    "rotation": (0, 5, 10, 15, 20, 25, 30, 35, 40, 45),
    "stroke": (-1, 0, 1, 2, 3),
}
UNITS = {"shift": "px", "rotation": "°", "stroke": "px"}
TITLES = {"shift": "shifted by", "rotation": "rotated by", "stroke": "pen thinner (−) or thicker (+) by"}


@dataclass(frozen=True)
class Distortion:
    """What is done to a digit, in the 28x28 field: moved ``shift_x`` px right and ``shift_y`` px
    down, turned ``rotation`` degrees anticlockwise about the centre, its pen made ``stroke`` px
    thicker (negative: thinner), and blurred with a Gaussian of ``blur`` px."""

    shift_x: float = 0.0
    shift_y: float = 0.0
    rotation: float = 0.0
    stroke: int = 0
    blur: float = 0.0

    def __post_init__(self) -> None:
        for name in ("shift_x", "shift_y", "rotation", "blur"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)}")
        if abs(self.shift_x) > IMAGE_SIZE or abs(self.shift_y) > IMAGE_SIZE:
            raise ValueError(f"a shift must be within the {IMAGE_SIZE} px field")
        if not -3 <= self.stroke <= 4:
            raise ValueError(f"stroke must be -3 .. 4 px, got {self.stroke}")
        if not 0 <= self.blur <= 5:
            raise ValueError(f"blur must be 0 .. 5 px, got {self.blur}")

    @property
    def none(self) -> bool:
        return self == Distortion()


def _as_stack(images: np.ndarray) -> tuple[np.ndarray, bool]:
    images = np.asarray(images, dtype=np.float32)
    single = images.ndim == 2
    stack = images[np.newaxis] if single else images
    if stack.ndim != 3 or stack.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected (28, 28) or (N, 28, 28) images, got {np.shape(images)}")
    return stack, single


def shift(images: np.ndarray, dx: float | np.ndarray, dy: float | np.ndarray) -> np.ndarray:
    """Move ``(N, 28, 28)`` images ``dx`` px right and ``dy`` px down (one value, or one per
    image), bilinear for fractions; what leaves the field is lost, what enters is black."""
    stack, single = _as_stack(images)
    dxs = np.broadcast_to(np.asarray(dx, np.float32), (len(stack),))
    dys = np.broadcast_to(np.asarray(dy, np.float32), (len(stack),))
    out = np.empty_like(stack)
    for i, (image, x, y) in enumerate(zip(stack, dxs, dys)):
        out[i] = ndimage.shift(image, (float(y), float(x)), order=1, mode="constant", cval=0.0)
    out = np.clip(out, 0.0, 1.0)
    return out[0] if single else out


def rotate(images: np.ndarray, degrees: float | np.ndarray) -> np.ndarray:
    """Turn images ``degrees`` anticlockwise about the field's centre (one angle, or one per
    image), bilinear."""
    stack, single = _as_stack(images)
    angles = np.broadcast_to(np.asarray(degrees, np.float32), (len(stack),))
    out = np.empty_like(stack)
    for angle in np.unique(angles):
        chosen = angles == angle
        out[chosen] = ndimage.rotate(stack[chosen], float(angle), axes=(2, 1), reshape=False, order=1)
    out = np.clip(out, 0.0, 1.0)
    return out[0] if single else out


def pen(images: np.ndarray, px: int) -> np.ndarray:
    """Thicken strokes by ``px`` px (a grey dilation by a ``px + 1`` square) or, for negative
    ``px``, thin them (a grey erosion that keeps :data:`THIN_FLOOR` of every stroke, stretched
    back to the image's own peak, so a thin pen is thin, not faint)."""
    stack, single = _as_stack(images)
    if px > 0:
        out = ndimage.grey_dilation(stack, size=(1, px + 1, px + 1))
    elif px < 0:
        eroded = ndimage.grey_erosion(stack, size=(1, 1 - px, 1 - px))
        out = np.maximum(eroded, THIN_FLOOR * stack)
        peak = stack.max(axis=(1, 2), keepdims=True)
        top = out.max(axis=(1, 2), keepdims=True)
        out = np.where(top > 0, out * peak / np.maximum(top, 1e-6), out)
    else:
        out = stack.copy()
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return out[0] if single else out


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``sigma`` px, stretched back to each image's own peak (as a camera's
    out-of-focus digit looks once its contrast is stretched)."""
    stack, single = _as_stack(images)
    if sigma <= 0:
        return (stack[0] if single else stack).copy()
    out = ndimage.gaussian_filter(stack, sigma=(0, sigma, sigma), mode="constant")
    peak = stack.max(axis=(1, 2), keepdims=True)
    top = out.max(axis=(1, 2), keepdims=True)
    out = np.clip(np.where(top > 0, out * peak / np.maximum(top, 1e-6), out), 0.0, 1.0).astype(np.float32)
    return out[0] if single else out


def distort(images: np.ndarray, distortion: Distortion) -> np.ndarray:
    """Apply ``distortion`` to one ``(28, 28)`` image or ``(N, 28, 28)`` images in [0, 1]: pen
    first (on the upright digit), then rotation, shift and blur. Same shape, ``float32``."""
    out, single = _as_stack(images)
    if distortion.stroke:
        out = pen(out, distortion.stroke)
    if distortion.rotation:
        out = rotate(out, distortion.rotation)
    if distortion.shift_x or distortion.shift_y:
        out = shift(out, distortion.shift_x, distortion.shift_y)
    if distortion.blur:
        out = blur(out, distortion.blur)
    out = np.asarray(out, np.float32)
    return out[0] if single else out.copy()


@dataclass(frozen=True)
class CurvePoint:
    """One model's accuracy on the test digits under one amount of one distortion."""

    model: str
    distortion: str  # a key of AMOUNTS
    amount: float
    accuracy: float


Predict = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 -> (N, 10) probabilities


def distorted_sets(images: np.ndarray, seed: int = 0) -> list[tuple[str, float, np.ndarray]]:
    """Every ``(distortion, amount, images)`` that :func:`accuracy_curves` measures: each image
    shifted in its own random direction, turned in its own random sense, its pen varied."""
    stack, _ = _as_stack(images)
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, len(stack))
    sense = rng.choice([-1.0, 1.0], len(stack))
    sets = []
    for amount in AMOUNTS["shift"]:
        sets.append(("shift", float(amount), shift(stack, amount * np.cos(angle), amount * np.sin(angle))))
    for amount in AMOUNTS["rotation"]:
        sets.append(("rotation", float(amount), rotate(stack, amount * sense)))
    for amount in AMOUNTS["stroke"]:
        sets.append(("stroke", float(amount), pen(stack, int(amount))))
    return sets


def accuracy_curves(
    models: Mapping[str, Predict],
    images: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    on_progress: Callable[[float, str], None] | None = None,
) -> list[CurvePoint]:
    """Each model's accuracy on ``images`` ``(N, 28, 28)`` in [0, 1] with ``labels`` ``(N,)`` as
    every distortion of :data:`AMOUNTS` grows (see :func:`distorted_sets`).

    ``models`` maps a name to a function giving ``(N, 10)`` probabilities. ``on_progress(done,
    what)`` is called after each step with the share done, 0..1, and what was measured.
    """
    stack, _ = _as_stack(images)
    labels = np.asarray(labels)
    if labels.shape != (len(stack),):
        raise ValueError(f"labels must have shape ({len(stack)},), got {labels.shape}")
    if len(stack) == 0:
        raise ValueError("no test digits to measure on")
    if not models:
        raise ValueError("no models to measure")
    sets = distorted_sets(stack, seed)
    steps, done = len(sets) * len(models), 0
    points = []
    for distortion, amount, distorted in sets:
        for name, predict in models.items():
            right = np.argmax(predict(distorted), axis=1) == labels
            points.append(CurvePoint(name, distortion, amount, float(right.mean())))
            done += 1
            if on_progress is not None:
                on_progress(done / steps, f"{name}, {TITLES[distortion]} {amount:g} {UNITS[distortion]}")
    return points
