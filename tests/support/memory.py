"""The Draw page's per-stroke work, repeated, with the process's memory measured before and after:
used by ``tests/test_memory.py`` (1,000 strokes in CI) and ``bench/memory.py`` (longer runs).

Each stroke on the Draw & Predict page runs, in the server process, ``prepare`` on the canvas's
RGBA image, ``predict_prepared`` with the cached model, ``explain`` (Grad-CAM for the CNN) and the
two images shown beside the answer (``enlarge``, ``overlay``).
"""

from __future__ import annotations

import gc
import time

import numpy as np

from . import strokes
from .server import rss_kib

WARMUP = 100  # first calls trace the compiled functions and grow TensorFlow's pools
COUNT = 1000


def rss_mib() -> float:
    """This process's resident memory (VmRSS) in MiB."""
    return rss_kib("self") / 1024.0


def canvas_images() -> list[np.ndarray]:
    """What the canvas sends: white ink on black, ``(280, 280, 4) uint8``; every digit, three places."""
    return [
        strokes.draw_digit(
            digit,
            strokes.Style(size=280, height=0.7, width=18, centre=(cx, 0.5)),
            ink=(255, 255, 255, 255),
            paper=(0, 0, 0, 255),
        )
        for digit in range(10)
        for cx in (0.4, 0.5, 0.6)
    ]


def stroke_work(model, image: np.ndarray) -> int:
    """What the Draw page computes for one stroke; returns the digit read."""
    from digit_core.predictions import predict_prepared
    from digit_core.preprocess import prepare
    from digit_core.saliency import explain
    from digit_core.visual import enlarge, overlay

    prepared = prepare(image)
    prediction = predict_prepared(model, [prepared])[0]
    heat, _method = explain(model, prepared.image)
    enlarge(prepared.image, 6)
    enlarge(overlay(prepared.image, heat), 6)
    return prediction.digit


def measure(model, count: int = COUNT, warmup: int = WARMUP, every: int | None = None) -> dict:
    """RSS (MiB) and live Python objects after ``warmup`` strokes and after ``count`` more, with
    RSS samples every ``every`` strokes; also the digits read wrong (a check that it ran)."""
    images = canvas_images()
    digits = [digit for digit in range(10) for _ in range(3)]
    for i in range(warmup):
        stroke_work(model, images[i % len(images)])
    gc.collect()
    before, objects_before = rss_mib(), len(gc.get_objects())
    samples, wrong = [(0, before)], 0
    start = time.perf_counter()
    for i in range(count):
        k = (warmup + i) % len(images)
        wrong += stroke_work(model, images[k]) != digits[k]
        if every and (i + 1) % every == 0:
            samples.append((i + 1, rss_mib()))
    seconds = time.perf_counter() - start
    gc.collect()
    after, objects_after = rss_mib(), len(gc.get_objects())
    return {
        "warmup": warmup,
        "count": count,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "rss_growth_mib": after - before,
        "objects_before": objects_before,
        "objects_after": objects_after,
        "objects_growth": objects_after - objects_before,
        "samples": samples,
        "wrong": wrong,
        "ms_per_stroke": seconds / count * 1000.0,
    }
