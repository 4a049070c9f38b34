"""Batched random distortions that make MNIST look more like real handwriting.

Works on ``(B, 28, 28, 1)`` float32 batches in [0, 1] inside a ``tf.data`` pipeline: a random
stroke-width change (pens differ), then one affine warp per image combining rotation, shear,
zoom and shift (people write slanted, off-centre, big and small).
"""

from __future__ import annotations

import math

import tensorflow as tf

from .config import AugmentConfig
from .spec import IMAGE_SIZE

_CENTRE = (IMAGE_SIZE - 1) / 2.0


def _dilate(images: tf.Tensor, size: int) -> tf.Tensor:
    return tf.nn.max_pool2d(images, ksize=size, strides=1, padding="SAME")


def _erode(images: tf.Tensor, size: int) -> tf.Tensor:
    return -tf.nn.max_pool2d(-images, ksize=size, strides=1, padding="SAME")


def vary_stroke(images: tf.Tensor, probability: float, seed: int | None = None) -> tf.Tensor:
    """Thicken (by 1 or 2 px) or thin (by 1 px) the strokes of a random part of the batch."""
    if probability <= 0:
        return images
    batch = tf.shape(images)[0]
    choice = tf.random.uniform([batch, 1, 1, 1], seed=seed)
    thick = tf.where(tf.random.uniform([batch, 1, 1, 1]) < 0.5, _dilate(images, 2), _dilate(images, 3))
    # A plain 2x2 erosion erases 1-2 px strokes; blend with the original to keep them.
    thin = 0.5 * (images + _erode(images, 2))
    out = tf.where(choice < probability / 2, thick, images)
    return tf.where((choice >= probability / 2) & (choice < probability), thin, out)


def _affine_transforms(batch: tf.Tensor, config: AugmentConfig, seed: int | None) -> tf.Tensor:
    """Per-image ``(B, 8)`` projective transforms mapping output to input pixel coordinates."""

    def uniform(limit: float) -> tf.Tensor:
        return tf.random.uniform([batch], -limit, limit, seed=seed)

    angle = uniform(config.rotation * math.pi / 180.0)
    shear = uniform(config.shear)
    scale = 1.0 + uniform(config.zoom)
    tx, ty = uniform(config.shift), uniform(config.shift)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Forward map M = R(angle) @ Shear @ scale; the op wants the inverse (output -> input).
    m00, m01 = scale * cos, scale * (cos * shear - sin)
    m10, m11 = scale * sin, scale * (sin * shear + cos)
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    # input = M^-1 (output - centre - t) + centre
    ox, oy = -_CENTRE - tx, -_CENTRE - ty
    a2 = i00 * ox + i01 * oy + _CENTRE
    b2 = i10 * ox + i11 * oy + _CENTRE
    zeros = tf.zeros_like(angle)
    return tf.stack([i00, i01, a2, i10, i11, b2, zeros, zeros], axis=1)


def augment_batch(images: tf.Tensor, config: AugmentConfig, seed: int | None = None) -> tf.Tensor:
    """Distort a ``(B, 28, 28, 1)`` float32 batch in [0, 1]; returns the same shape and range."""
    images = vary_stroke(images, config.stroke, seed)
    transforms = _affine_transforms(tf.shape(images)[0], config, seed)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.clip_by_value(warped, 0.0, 1.0)
