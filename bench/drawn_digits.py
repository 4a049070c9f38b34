"""Accuracy of registry models on the project's own drawn digits (tests.support.strokes), not MNIST.

Each drawing (random_style with a fixed seed, digits 0..9 in turn) is rendered four ways from the
same strokes, so the renderings differ only in how they look: the app's canvas (black ink on
transparent), white on black, dark ink on white paper, and a simulated phone photo saved as JPEG
(quality 80) and decoded with preprocess.load_image, as an upload would be. Every rendering goes
through preprocess.prepare; a drawing it finds blank counts as wrong (predicted "-1").
"""

from __future__ import annotations

import argparse
import io
from collections import Counter

import numpy as np
from PIL import Image

from bench import common
from digit_core.inference import predict
from digit_core.preprocess import load_image, prepare
from tests.support import strokes

RENDERINGS = ("canvas", "white-on-black", "paper", "photo")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cnn", "ann"], help="registry names or .keras paths")
    parser.add_argument("--count", type=int, default=1000, help="drawings (each rendered four ways)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawing styles and photos")
    parser.add_argument(
        "--untrained",
        action="store_true",
        help="use freshly built cnn/ann models (checks the code path only)",
    )
    return common.parse_args(parser, {"count": 20})


def jpeg(rgb: np.ndarray, quality: int = 80) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return load_image(buffer.getvalue())  # the upload path: bytes in, RGBA out


def make_inputs(count: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Labels, the prepared (count, 28, 28) inputs per rendering, and which of them came out blank."""
    rng = np.random.default_rng(seed)
    photo_rng = np.random.default_rng(seed + 1)  # separate, so photos never change the drawings
    labels = np.arange(count) % 10
    images = {r: np.zeros((count, 28, 28), np.float32) for r in RENDERINGS}
    blank = {r: np.zeros(count, bool) for r in RENDERINGS}
    for i, digit in enumerate(labels):
        style = strokes.random_style(rng)
        lines = strokes.place(int(digit), style, rng)  # placed once: every rendering shares them
        canvas = strokes.render(lines, style.size, style.width)  # draw_digit's default colours
        rendered = {
            "canvas": canvas,
            "white-on-black": strokes.render(
                lines, style.size, style.width, ink=(255, 255, 255, 255), paper=(0, 0, 0, 255)
            ),
            "paper": strokes.render(
                lines, style.size, style.width, ink=(20, 20, 20, 255), paper=(255, 255, 255, 255)
            ),
            "photo": jpeg(strokes.photo(canvas, photo_rng)),
        }
        for name, image in rendered.items():
            prepared = prepare(image)
            images[name][i], blank[name][i] = prepared.image, prepared.blank
    return labels, images, blank


def score(model, labels, images, blank) -> dict:
    out = {"renderings": {}, "per_digit": {}, "confusions": []}
    confusions: Counter = Counter()
    by_rendering: dict[tuple[int, int], Counter] = {}
    for name in RENDERINGS:
        predicted = predict(model, images[name]).argmax(axis=1)
        predicted[blank[name]] = -1
        right = predicted == labels
        out["renderings"][name] = {"accuracy": float(right.mean()), "blank": int(blank[name].sum())}
        out["per_digit"][name] = [float(right[labels == d].mean()) for d in range(10)]
        for true, guess in zip(labels[~right], predicted[~right], strict=True):
            pair = (int(true), int(guess))
            confusions[pair] += 1
            by_rendering.setdefault(pair, Counter())[name] += 1
    out["accuracy"] = float(np.mean([r["accuracy"] for r in out["renderings"].values()]))
    out["confusions"] = [
        {"true": t, "predicted": p, "count": n, "by_rendering": dict(by_rendering[t, p])}
        for (t, p), n in confusions.most_common(10)
    ]
    return out


def report(name: str, result: dict) -> None:
    print(f"{name}: accuracy over all renderings {result['accuracy']:.2%}")
    print(f"  {'digit':<7}" + "".join(f"{r:>16}" for r in RENDERINGS))
    for d in range(10):
        print(f"  {d:<7}" + "".join(f"{result['per_digit'][r][d]:16.1%}" for r in RENDERINGS))
    print(f"  {'all':<7}" + "".join(f"{result['renderings'][r]['accuracy']:16.2%}" for r in RENDERINGS))
    print(f"  {'blank':<7}" + "".join(f"{result['renderings'][r]['blank']:16d}" for r in RENDERINGS))
    print("  most common confusions (true -> predicted: count, by rendering):")
    if not result["confusions"]:
        print("    none")
    for c in result["confusions"]:
        where = ", ".join(
            f"{r} {n}"
            for r, n in sorted(c["by_rendering"].items(), key=lambda item: RENDERINGS.index(item[0]))
        )
        print(f"    {c['true']} -> {c['predicted']:>2}: {c['count']:4d}  ({where})")
    print()


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    labels, images, blank = make_inputs(args.count, args.seed)
    print(
        f"{args.count} drawings (digits 0-9 in turn, random_style seed {args.seed}), "
        f"{len(RENDERINGS)} renderings each{' -- UNTRAINED models' if args.untrained else ''}\n"
    )
    results = {}
    for name, model in common.load_models(args.models, args.untrained).items():
        results[name] = score(model, labels, images, blank)
        report(name, results[name])
    common.write_json(
        args.json, {"benchmark": "drawn_digits", "machine": info, "args": vars(args), "results": results}
    )


if __name__ == "__main__":
    main()
