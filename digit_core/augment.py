"""Batched random distortions that make MNIST look like other writers, pens and scanners.

Works on ``(B, 28, 28, 1)`` float32 batches in [0, 1] inside a ``tf.data`` pipeline, with
TensorFlow ops only and few of them (it runs on every training batch). In order, an image may get:

1. a different pen: dilation by 1..``dilate_max`` px towards ``stroke_max_width`` (a thick
   marker) or a 2x2 erosion that keeps a faint core (a fine pen, never erasing a stroke);
2. one geometric resampling that combines a tight crop (a side cut off, the box's aspect changed,
   then the digit fitted to the 20 px box and centred by mass again, as the app does), an elastic
   distortion (a smooth random displacement field) and the affine warp (rotation, shear, zoom,
   shift; every image). A single bilinear sampling, so blur does not pile up;
3. low resolution: the digit's box brought down to 8-16 px and back up (smooth or blocky), then
   its contrast stretched so stroke cores are full ink again, as an enlarged low-resolution scan
   looks after the app's preprocessing;
4. pure black-and-white ink: thresholded, then lightly anti-aliased.

Probabilities and sizes live in :class:`~digit_core.config.AugmentConfig`. With ``seed`` the draws
are stateless and every call gives the same result; without it they come from TensorFlow's
global seed (``keras.utils.set_random_seed``) and differ from batch to batch. The resizes and the
anti-aliasing are linear and separable, so they run as ``M @ image @ M.T`` with 28x28 matrices
made once; the morphology runs with the batch as channels, which pooling handles much faster.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from .config import AugmentConfig
from .spec import DIGIT_BOX, IMAGE_SIZE

_CENTRE = (IMAGE_SIZE - 1) / 2.0  # the rotation centre, between the middle pixels
_MASS_CENTRE = IMAGE_SIZE / 2.0  # where the app (and MNIST) puts the centre of mass
_INK = 0.1  # a pixel above this counts as ink when measuring the digit's box
_THIN_FLOOR = 0.4  # erosion keeps this share of every stroke, so thin strokes survive
_BINARIZE_THRESHOLDS = (0.2, 0.5)  # the ink threshold of a black-and-white scan, drawn per image

# One column of uniform draws per decision, fixed, so switching one distortion off leaves the
# others' draws (with a seed) as they were.
_DRAWS = (
    ("stroke", "thin", "widen")  # pen
    + ("crop", "side", "cut", "aspect")  # tight crop
    + ("angle", "shear", "zoom", "shift_x", "shift_y", "elastic")  # shape
    + ("low_res", "blocky", "level", "contrast", "binarize", "threshold")  # scanner
)


class _Draws:
    """Uniform draws in [0, 1), one ``(B,)`` row per decision, looked up by name."""

    def __init__(self, values: tf.Tensor):
        self.values = values  # (len(_DRAWS), B)
        self.rows = dict(zip(_DRAWS, tf.unstack(values, num=len(_DRAWS))))  # one op, not one per look-up

    @classmethod
    def new(cls, batch: tf.Tensor, seed: int | None) -> _Draws:
        shape = [len(_DRAWS), batch]
        return cls(
            tf.random.uniform(shape) if seed is None else tf.random.stateless_uniform(shape, [seed, 0])
        )

    def __getitem__(self, name: str) -> tf.Tensor:
        return self.rows[name]

    def part(self, index: tf.Tensor) -> _Draws:
        return _Draws(tf.gather(self.values, index, axis=1))


def _on_part(images: tf.Tensor, chosen: tf.Tensor, draws: _Draws, change: Callable) -> tf.Tensor:
    """``change(part, part_draws)`` on the images where ``chosen`` is True; the rest unchanged.

    Working on the chosen part only keeps a rare distortion cheap.
    """
    index = tf.where(chosen)[:, 0]
    changed = change(tf.gather(images, index), draws.part(index))
    return tf.tensor_scatter_nd_update(images, index[:, None], changed)


def _per_image(values: tf.Tensor) -> tf.Tensor:
    return tf.reshape(values, [-1, 1, 1, 1])


def _restore_peak(images: tf.Tensor) -> tf.Tensor:
    """Scale each image so its brightest pixel is 1 again (blank images stay blank)."""
    peak = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
    return images / tf.where(peak > 1e-3, peak, 1.0)


def _apply(matrices: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
    """``M @ image @ M.T`` for ``(B or 1, 28, 28)`` matrices and ``(B, 28, 28, 1)`` images."""
    out = tf.matmul(tf.matmul(matrices, images[..., 0]), matrices, transpose_b=True)
    return out[..., tf.newaxis]


# -- pen width -------------------------------------------------------------------------------


def _stroke_width(images: tf.Tensor) -> tf.Tensor:
    """Per image ``(B,)``: mean stroke width in px of the ink above 0.5, ``2 area / perimeter``.

    The measure the app's preprocessing uses.
    """
    mask = tf.pad(tf.cast(images[..., 0] > 0.5, tf.float32), [[0, 0], [1, 1], [1, 1]])
    area = tf.reduce_sum(mask, axis=[1, 2])
    perimeter = tf.reduce_sum(tf.abs(mask[:, 1:] - mask[:, :-1]), axis=[1, 2]) + tf.reduce_sum(
        tf.abs(mask[:, :, 1:] - mask[:, :, :-1]), axis=[1, 2]
    )
    return 2 * area / tf.maximum(perimeter, 1.0)


def _stroke(
    images: tf.Tensor,
    probability: float,
    thin_share: float,
    dilate_max: int,
    max_width: float,
    draws: _Draws,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Images with a different pen for a random part of the batch, and the ``(B,)`` changed mask."""
    changed = draws["stroke"] < probability
    if probability <= 0:
        return images, changed

    def pen(part: tf.Tensor, draws: _Draws) -> tf.Tensor:
        thinner = draws["thin"] < thin_share
        # Widen by k px, k uniform in 1..k_max, where k_max keeps the new width near max_width (a
        # digit already drawn with a broad pen gets less) but is at least 1 and at most dilate_max.
        room = tf.clip_by_value(tf.floor(max_width - _stroke_width(part)), 1.0, float(dilate_max))
        widen = tf.floor(draws["widen"] * room) + 1
        # Pooling is far faster with the batch as channels: (B, 28, 28, 1) -> (1, 28, 28, B).
        planes = tf.transpose(part, [3, 1, 2, 0])
        # Each 2x2 max filter widens strokes by 1 px (and shifts by half a pixel, which the refit
        # that follows a pen change undoes by centring the mass).
        thick, grown = planes, planes
        for k in range(1, dilate_max + 1):
            grown = tf.nn.max_pool2d(grown, ksize=2, strides=1, padding="SAME")
            thick = tf.where(widen == k, grown, thick)
        # A plain 2x2 erosion erases 1-2 px strokes: keep a faint core of each, restore the peak.
        eroded = -tf.nn.max_pool2d(-planes, ksize=2, strides=1, padding="SAME")
        thin = tf.maximum(eroded, _THIN_FLOOR * planes)
        out = tf.transpose(tf.where(thinner, thin, thick), [3, 1, 2, 0])
        return tf.where(_per_image(thinner), _restore_peak(out), out)

    return _on_part(images, changed, draws, pen), changed


def vary_stroke(
    images: tf.Tensor,
    probability: float,
    seed: int | None = None,
    *,
    thin_share: float = AugmentConfig.stroke_thin,
    dilate_max: int = AugmentConfig.dilate_max,
    max_width: float = AugmentConfig.stroke_max_width,
) -> tf.Tensor:
    """Thicken (by 1..``dilate_max`` px) or thin (by about 1 px) the strokes of part of a batch.

    ``images`` is ``(B, 28, 28, 1)`` float32 in [0, 1]; each image changes with ``probability``,
    thinner for a ``thin_share`` of those. Thickening aims at most at ``max_width`` px (a digit
    already drawn broad is widened less), but always by 1 px at least. Thinning never erases a
    stroke: what a 2x2 erosion would remove keeps 40 % of its ink and the image's peak goes back
    to 1. Unlike :func:`augment_batch`, the digit's box is not fitted to 20 px again afterwards.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    draws = _Draws.new(tf.shape(images)[0], seed)
    return _stroke(images, probability, thin_share, dilate_max, max_width, draws)[0]


# -- geometry: tight crop, elastic, affine -- one sampling -----------------------------------


def _ink_box(images: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Per image ``(B,)``: first and last ink row and column (float32), and whether it has ink."""
    grid = tf.range(IMAGE_SIZE, dtype=tf.float32)
    rows = tf.reduce_max(images, axis=[2, 3]) > _INK  # (B, 28)
    cols = tf.reduce_max(images, axis=[1, 3]) > _INK
    big = float(IMAGE_SIZE)
    y0 = tf.reduce_min(tf.where(rows, grid, big), axis=1)
    y1 = tf.reduce_max(tf.where(rows, grid, -1.0), axis=1)
    x0 = tf.reduce_min(tf.where(cols, grid, big), axis=1)
    x1 = tf.reduce_max(tf.where(cols, grid, -1.0), axis=1)
    return y0, y1, x0, x1, y1 >= y0


def _crop_and_refit(
    images: tf.Tensor, config: AugmentConfig, cut: tf.Tensor, refit: tf.Tensor, draws: _Draws
) -> tf.Tensor:
    """Cut a side off the ``cut`` images; per image mapping that fits the box to 20 px again.

    Returns the images and ``(centre_y, centre_x, scale_y, scale_x)``: input coordinate =
    centre + (output - 14) / scale. The identity (centre 14, scale 1) outside ``refit``.
    """
    y0, y1, x0, x1, has_ink = _ink_box(images)
    height, width = y1 - y0 + 1, x1 - x0 + 1
    grid = tf.range(IMAGE_SIZE, dtype=tf.float32)[None]
    if config.crop > 0:
        side = tf.floor(draws["side"] * 4)  # top, bottom, left, right
        cut_f = tf.cast(cut, tf.float32)
        depth_y = cut_f * draws["cut"] * config.crop_cut * height
        depth_x = cut_f * draws["cut"] * config.crop_cut * width
        top, bottom = tf.where(side == 0, depth_y, 0.0), tf.where(side == 1, depth_y, 0.0)
        left, right = tf.where(side == 2, depth_x, 0.0), tf.where(side == 3, depth_x, 0.0)
        # Soft edges, so a cut at a fraction of a pixel dims that pixel instead of rounding.
        keep_rows = tf.clip_by_value(grid - (y0 + top)[:, None] + 1, 0, 1) * tf.clip_by_value(
            (y1 - bottom)[:, None] - grid + 1, 0, 1
        )
        keep_cols = tf.clip_by_value(grid - (x0 + left)[:, None] + 1, 0, 1) * tf.clip_by_value(
            (x1 - right)[:, None] - grid + 1, 0, 1
        )
        keep = keep_rows[:, :, None, None] * keep_cols[:, None, :, None]
        images = tf.where(_per_image(cut), images * keep, images)
        height, width = height - top - bottom, width - left - right
        limit = math.log1p(config.crop_aspect)
        ratio = tf.exp(cut_f * (2 * draws["aspect"] - 1) * limit)  # height/width changes by this
    else:
        ratio = tf.ones_like(height)
    stretch_y, stretch_x = tf.sqrt(ratio), tf.math.rsqrt(ratio)
    fit = DIGIT_BOX / tf.maximum(tf.maximum(height * stretch_y, width * stretch_x), 1.0)
    row_mass, col_mass = tf.reduce_sum(images, axis=[2, 3]), tf.reduce_sum(images, axis=[1, 3])
    mass = tf.reduce_sum(row_mass, axis=1)
    use = refit & has_ink & (mass > 1e-3)
    mass = tf.where(use, mass, 1.0)
    centre_y = tf.where(use, tf.reduce_sum(row_mass * grid, axis=1) / mass, _MASS_CENTRE)
    centre_x = tf.where(use, tf.reduce_sum(col_mass * grid, axis=1) / mass, _MASS_CENTRE)
    scale_y, scale_x = tf.where(use, fit * stretch_y, 1.0), tf.where(use, fit * stretch_x, 1.0)
    return images, (centre_y, centre_x, scale_y, scale_x)


def _affine_transforms(config: AugmentConfig, draws: _Draws) -> tf.Tensor:
    """Per-image ``(B, 6)`` affine maps from output to input pixel coordinates (x first)."""

    def uniform(name: str, limit: float) -> tf.Tensor:
        return (2 * draws[name] - 1) * limit

    angle = uniform("angle", config.rotation * math.pi / 180.0)
    shear = uniform("shear", config.shear)
    scale = 1.0 + uniform("zoom", config.zoom)
    tx, ty = uniform("shift_x", config.shift), uniform("shift_y", config.shift)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Forward map M = R(angle) @ Shear @ scale; sampling needs the inverse (output -> input).
    m00, m01 = scale * cos, scale * (cos * shear - sin)
    m10, m11 = scale * sin, scale * (sin * shear + cos)
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    # input = M^-1 (output - centre - t) + centre
    ox, oy = -_CENTRE - tx, -_CENTRE - ty
    a2 = i00 * ox + i01 * oy + _CENTRE
    b2 = i10 * ox + i11 * oy + _CENTRE
    return tf.stack([i00, i01, a2, i10, i11, b2], axis=1)


@functools.lru_cache(maxsize=8)
def _upsampling_matrix(points: int) -> np.ndarray:
    """``(28, points)``: bicubic interpolation from ``points`` control points, as ``tf.image.resize``."""
    with tf.init_scope():  # eager even while a tf.data function is being traced
        basis = tf.reshape(tf.eye(points), [points, points, 1, 1])
        columns = tf.image.resize(basis, [IMAGE_SIZE, 1], method="bicubic")  # column j: e_j resized
        return tf.reshape(columns, [points, IMAGE_SIZE]).numpy().T.astype(np.float32)


def _elastic_field(
    batch: tf.Tensor, alpha: float, sigma: float, seed: int | None
) -> tuple[tf.Tensor, tf.Tensor]:
    """A smooth random displacement field in pixels: ``(dy, dx)``, each ``(B, 28, 28)`` float32.

    Normal displacements with standard deviation ``alpha`` at control points about ``sigma`` px
    apart, interpolated bicubically to every pixel (as ``R @ points @ R.T``, much faster on a CPU
    than resizing).
    """
    points = max(2, round(IMAGE_SIZE / sigma) + 1)
    shape = [batch, 2, points, points]
    if seed is None:
        coarse = tf.random.normal(shape, stddev=alpha)
    else:
        coarse = tf.random.stateless_normal(shape, [seed, 1], stddev=alpha)
    upsample = tf.constant(_upsampling_matrix(points))
    field = tf.matmul(tf.matmul(upsample, coarse), upsample, transpose_b=True)
    return tf.unstack(field, num=2, axis=1)


def _sample(images: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor) -> tf.Tensor:
    """Bilinear sampling of ``(B, 28, 28, 1)`` images at ``(B, 28, 28)`` input coordinates, 0 outside."""
    # A zero border of 2 px or more: a coordinate clamped into it reads only zeros.
    stride = IMAGE_SIZE + 5  # padded width: 2 left, 3 right
    padded = tf.pad(images[..., 0], [[0, 0], [2, 4], [2, 3]])  # (B, 34, 33)
    flat = tf.reshape(padded, [-1])
    # Plane k, entry n: the k-th pixel of the 2x2 neighbourhood whose top-left pixel is n, so one
    # gather fetches all four (planes, not a last axis of 4: TensorFlow is slow on those).
    end = tf.size(flat) - stride - 1
    quads = tf.stack([flat[:end], flat[1 : end + 1], flat[stride : end + stride], flat[stride + 1 :]])
    ys = tf.clip_by_value(ys, -2.0, IMAGE_SIZE + 0.0)
    xs = tf.clip_by_value(xs, -2.0, IMAGE_SIZE + 0.0)
    top, left = tf.floor(ys), tf.floor(xs)
    wy, wx = ys - top, xs - left
    base = tf.range(tf.shape(images)[0])[:, None, None] * ((IMAGE_SIZE + 6) * stride) + (2 * stride + 2)
    corner = base + tf.cast(top, tf.int32) * stride + tf.cast(left, tf.int32)
    top_left, top_right, bottom_left, bottom_right = tf.unstack(tf.gather(quads, corner, axis=1), num=4)
    upper = top_left + wx * (top_right - top_left)
    lower = bottom_left + wx * (bottom_right - bottom_left)
    return (upper + wy * (lower - upper))[..., tf.newaxis]


# -- scanners: low resolution, black-and-white ink -------------------------------------------


@functools.lru_cache(maxsize=8)
def _low_res_matrices(low: int, high: int) -> np.ndarray:
    """``(1 + 2 L, 28, 28)``: the identity, then per level down-then-up (smooth, blocky).

    Level n brings the digit's 20 px box to n px (the 28 px field to ``28 n / 20``) by area
    averaging, then back up bilinearly or by nearest neighbour, exactly as ``tf.image.resize``.
    """
    with tf.init_scope():  # eager even when called while tracing a tf.data function
        basis = tf.reshape(tf.eye(IMAGE_SIZE), [IMAGE_SIZE, IMAGE_SIZE, 1, 1])
        fields = sorted({round(IMAGE_SIZE * n / DIGIT_BOX) for n in range(low, high + 1)})
        out = [np.eye(IMAGE_SIZE, dtype=np.float32)]
        for field in fields:
            small = tf.image.resize(basis, [field, 1], method="area")
            for method in ("bilinear", "nearest"):
                column_j = tf.image.resize(small, [IMAGE_SIZE, 1], method=method)  # op applied to e_j
                out.append(tf.reshape(column_j, [IMAGE_SIZE, IMAGE_SIZE]).numpy().T)
    return np.stack(out).astype(np.float32)


def _low_resolution(images: tf.Tensor, config: AugmentConfig, draws: _Draws) -> tf.Tensor:
    """Bring the digit's box of a random part of the batch to 8-16 px and back, contrast stretched."""
    if config.low_res <= 0:
        return images
    matrices = tf.constant(_low_res_matrices(config.low_res_min, config.low_res_max))
    levels = (matrices.shape[0] - 1) // 2

    def scan(part: tf.Tensor, draws: _Draws) -> tf.Tensor:
        blocky = tf.cast(draws["blocky"] < config.low_res_blocky, tf.int32)
        level = tf.minimum(tf.cast(draws["level"] * levels, tf.int32), levels - 1)
        out = _restore_peak(tf.maximum(_apply(tf.gather(matrices, 1 + 2 * level + blocky), part), 0.0))
        # The app stretches an upload's contrast so that stroke cores reach 1 (preprocess's
        # _normalise_contrast): blurred strokes come back crisper than the peak alone gives.
        full = _per_image(config.low_res_full_ink + draws["contrast"] * (1.0 - config.low_res_full_ink))
        return tf.clip_by_value((out - 0.25 * full) / (0.75 * full), 0.0, 1.0)

    return _on_part(images, draws["low_res"] < config.low_res, draws, scan)


def _blur_matrix() -> np.ndarray:
    """The 1-D [1, 2, 1] / 4 filter with zero padding, as a 28x28 matrix."""
    eye = functools.partial(np.eye, IMAGE_SIZE, dtype=np.float32)
    return eye() / 2 + (eye(k=1) + eye(k=-1)) / 4


def _binarize(images: tf.Tensor, probability: float, draws: _Draws) -> tf.Tensor:
    """Pure black-and-white ink for a random part of the batch, edges lightly anti-aliased."""
    if probability <= 0:
        return images
    blur = tf.constant(_blur_matrix())[None]

    def black_and_white(part: tf.Tensor, draws: _Draws) -> tf.Tensor:
        low, high = _BINARIZE_THRESHOLDS
        ink = tf.cast(part > _per_image(low + draws["threshold"] * (high - low)), tf.float32)
        return _restore_peak(0.5 * ink + 0.5 * _apply(blur, ink))

    return _on_part(images, draws["binarize"] < probability, draws, black_and_white)


def augment_batch(images: tf.Tensor, config: AugmentConfig, seed: int | None = None) -> tf.Tensor:
    """Distort a ``(B, 28, 28, 1)`` float32 batch in [0, 1]; returns the same shape, dtype and range.

    With every probability and every affine range at 0 the images come back unchanged.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    batch = tf.shape(images)[0]
    draws = _Draws.new(batch, seed)
    images, restroked = _stroke(
        images, config.stroke, config.stroke_thin, config.dilate_max, config.stroke_max_width, draws
    )

    # Output pixel p -> affine(p) [+ elastic displacement] -> refit to the 20 px box -> input pixel.
    cut = draws["crop"] < config.crop
    if config.crop > 0 or config.stroke > 0:
        images, (centre_y, centre_x, scale_y, scale_x) = _crop_and_refit(
            images, config, cut, cut | restroked, draws
        )
    else:
        centre_y = centre_x = tf.fill([batch], _MASS_CENTRE)
        scale_y = scale_x = tf.ones([batch])
    a0, a1, a2, b0, b1, b2 = tf.unstack(_affine_transforms(config, draws), axis=1)
    # Affine then refit is one affine map: TensorFlow's projective transform samples it fast.
    transforms = tf.stack(
        [a0 / scale_x, a1 / scale_x, centre_x + (a2 - _MASS_CENTRE) / scale_x,
         b0 / scale_y, b1 / scale_y, centre_y + (b2 - _MASS_CENTRE) / scale_y,
         tf.zeros_like(a0), tf.zeros_like(a0)],
        axis=1,
    )  # fmt: skip
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[IMAGE_SIZE, IMAGE_SIZE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    if config.elastic > 0 and config.elastic_alpha > 0:
        # The elastic part is sampled again from the originals, its output coordinates displaced
        # by a smooth field before the same map, so it too is interpolated only once.
        bent = tf.where(draws["elastic"] < config.elastic)[:, 0]
        part = tf.gather(transforms, bent)
        dy, dx = _elastic_field(tf.size(bent), config.elastic_alpha, config.elastic_sigma, seed)
        grid = tf.range(IMAGE_SIZE, dtype=tf.float32)
        out_y, out_x = grid[None, :, None], grid[None, None, :]
        t = [tf.reshape(part[:, i], [-1, 1, 1]) for i in range(6)]
        xs = t[0] * (out_x + dx) + t[1] * (out_y + dy) + t[2]
        ys = t[3] * (out_x + dx) + t[4] * (out_y + dy) + t[5]
        warped = tf.tensor_scatter_nd_update(warped, bent[:, None], _sample(tf.gather(images, bent), ys, xs))

    images = _low_resolution(warped, config, draws)
    images = _binarize(images, config.binarize, draws)
    return tf.clip_by_value(images, 0.0, 1.0)
