"""Single-image latency of a canvas drawing -> probabilities, and batch throughput.

Compares digit_core.inference.predict (one compiled tf.function per model) with plain
``model.predict(x, verbose=0)``, which builds a data pipeline on every call, after the same
preprocessing (digit_core.preprocess.to_mnist). The three measurements are interleaved per repeat
so that background load on the machine affects them alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench import common
from digit_core.inference import predict
from digit_core.preprocess import to_mnist
from tests.support import strokes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cnn", "ann"], help="registry names or .keras paths")
    parser.add_argument("--repeats", type=int, default=300, help="timed single-image calls per variant")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per variant first")
    parser.add_argument("--batch-images", type=int, default=10_000, help="images for the throughput run")
    parser.add_argument("--batch-runs", type=int, default=3, help="throughput runs (median reported)")
    parser.add_argument(
        "--untrained",
        action="store_true",
        help="time freshly built models of the same architecture instead of loading "
        "(latency does not depend on the weights)",
    )
    return common.parse_args(parser, {"repeats": 20, "warmup": 3, "batch_images": 1000, "batch_runs": 1})


def ms_stats(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000.0
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
    }


def single_image(model, drawings: list[np.ndarray], repeats: int, warmup: int) -> dict:
    def ours(canvas):
        predict(model, to_mnist(canvas))

    def plain(canvas):
        model.predict(to_mnist(canvas)[np.newaxis, ..., np.newaxis], verbose=0)

    def preprocess_only(canvas):
        to_mnist(canvas)

    variants = {"ours": ours, "model.predict": plain, "preprocess": preprocess_only}
    for fn in variants.values():
        for i in range(warmup):
            fn(drawings[i % len(drawings)])
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(repeats):
        canvas = drawings[i % len(drawings)]  # a different digit each repeat
        for name in names[i % 3 :] + names[: i % 3]:  # rotate the order: no variant always goes first
            start = time.perf_counter()
            variants[name](canvas)
            times[name].append(time.perf_counter() - start)
    return {name: ms_stats(values) for name, values in times.items()}


def throughput(model, count: int, runs: int) -> dict:
    images = np.random.default_rng(0).integers(0, 256, (count, 28, 28), dtype=np.uint8)
    predict(model, images[:1024])  # warm-up: traces the function
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        predict(model, images)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {"images": count, "seconds": median, "images_per_s": count / median}


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    drawings = [strokes.draw_digit(d) for d in range(10)]  # 280x280 RGBA, as the canvas sends
    print(
        f"single image: 280x280 RGBA canvas drawing, digits 0-9 in turn, {args.repeats} repeats "
        f"after {args.warmup} warm-up calls; batch: {args.batch_images} images"
        f"{' (untrained models)' if args.untrained else ''}\n"
    )
    results = {}
    for name, model in common.load_models(args.models, args.untrained).items():
        single = single_image(model, drawings, args.repeats, args.warmup)
        batch = throughput(model, args.batch_images, args.batch_runs)
        speedup = single["model.predict"]["p50_ms"] / single["ours"]["p50_ms"]
        results[name] = {"single": single, "speedup_p50": speedup, "batch": batch}
        print(f"{name} ({model.count_params():,} parameters)")
        print(f"  {'variant':<38}{'p50 ms':>9}{'p95 ms':>9}")
        labels = {
            "ours": "to_mnist + inference.predict",
            "model.predict": "to_mnist + model.predict(x, verbose=0)",
            "preprocess": "to_mnist alone",
        }
        for key, label in labels.items():
            print(f"  {label:<38}{single[key]['p50_ms']:9.2f}{single[key]['p95_ms']:9.2f}")
        print(f"  speed-up of inference.predict path over model.predict path at p50: {speedup:.2f}x")
        print(
            f"  batch throughput of inference.predict: {batch['images_per_s']:,.0f} images/s "
            f"({batch['images']} images in {batch['seconds']:.3f} s)\n"
        )
    common.write_json(
        args.json, {"benchmark": "latency", "machine": info, "args": vars(args), "results": results}
    )


if __name__ == "__main__":
    main()
