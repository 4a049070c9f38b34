"""Stroke width of MNIST's training digits, measured the way digit_core.preprocess.prepare does.

prepare() moves a drawing's stroke width into MNIST's range (STROKE_MIN/MAX/TARGET in
preprocess.py); this script measures that range. Each digit goes through ink_map ->
_normalise_contrast -> crop to the ink -> resize so the longer side is DIGIT_BOX * WORK_SCALE (80 px,
BILINEAR, as prepare does for inputs smaller than that) -> stroke_width(work > 0.5) / WORK_SCALE.
Every figure is cross-checked against prepare()'s own ``stroke_scale``.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from bench import common
from digit_core import preprocess
from digit_core.spec import DIGIT_BOX

PERCENTILES = (5, 10, 25, 50, 75, 90, 95)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--count", type=int, default=3000, help="training images measured")
    parser.add_argument("--seed", type=int, default=0, help="which training images (random sample)")
    return common.parse_args(parser, {"count": 200})


def width_at_work_scale(image: np.ndarray) -> float | None:
    """Stroke width in 20 px-box pixels, or None for a blank image. Mirrors prepare() step by step."""
    ink, _, _ = preprocess.ink_map(preprocess.as_rgba(image))
    ink = preprocess._normalise_contrast(ink)
    if ink is None or not (ink > 0).any():
        return None
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    size20 = (max(1, round(width * scale)), max(1, round(height * scale)))
    size80 = (size20[0] * preprocess.WORK_SCALE, size20[1] * preprocess.WORK_SCALE)
    work = preprocess._float_image(crop).resize(size80, Image.Resampling.BILINEAR)
    work = np.clip(np.asarray(work, dtype=np.float32), 0, 1)
    return preprocess.stroke_width(work > 0.5) / preprocess.WORK_SCALE


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    mnist = common.mnist()
    rng = np.random.default_rng(args.seed)
    count = min(args.count, len(mnist.train_images))
    picks = rng.choice(len(mnist.train_images), count, replace=False)
    widths, blank, disagree = [], 0, 0
    for index in picks:
        image = mnist.train_images[index]
        width = width_at_work_scale(image)
        if width is None:
            blank += 1
            continue
        widths.append(width)
        # The library's own figure: if these ever differ, this script no longer mirrors prepare().
        if abs(preprocess.prepare(image).stroke_scale - width) > 1e-9:
            disagree += 1
    values = np.array(widths)
    table = {p: float(np.percentile(values, p)) for p in PERCENTILES}

    print(
        f"MNIST training digits: {len(values)} measured ({blank} blank), sample seed {args.seed}, "
        f"data from {mnist.source}"
    )
    print(
        f"stroke width in px at the {DIGIT_BOX} px box scale (2 * area / perimeter at "
        f"{DIGIT_BOX * preprocess.WORK_SCALE} px, divided by {preprocess.WORK_SCALE}):"
    )
    for p, value in table.items():
        print(f"  p{p:<3}{value:6.2f}")
    print(f"  mean{values.mean():6.2f}")
    print(f"  disagreements with prepare().stroke_scale: {disagree}")
    print("\nconstants in preprocess.py and the percentile each stands for:")
    print(f"  STROKE_MIN    {preprocess.STROKE_MIN:5.2f}   p5  here {table[5]:.2f}")
    print(f"  STROKE_MAX    {preprocess.STROKE_MAX:5.2f}   p95 here {table[95]:.2f}")
    print(f"  STROKE_TARGET {preprocess.STROKE_TARGET[0]:5.2f}   p25 here {table[25]:.2f}")
    print(f"                {preprocess.STROKE_TARGET[1]:5.2f}   p75 here {table[75]:.2f}")
    common.write_json(
        args.json,
        {
            "benchmark": "stroke_width",
            "machine": info,
            "args": vars(args),
            "measured": len(values),
            "blank": blank,
            "disagreements": disagree,
            "mean": float(values.mean()),
            "percentiles": {f"p{p}": v for p, v in table.items()},
            "constants": {
                "STROKE_MIN": preprocess.STROKE_MIN,
                "STROKE_MAX": preprocess.STROKE_MAX,
                "STROKE_TARGET": list(preprocess.STROKE_TARGET),
            },
        },
    )


if __name__ == "__main__":
    main()
