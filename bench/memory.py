"""Memory over many predictions: resident memory of the Draw page's per-stroke work, sampled as
it runs (``prepare``, ``predict_prepared``, ``explain`` and the two enlarged views, with a registry
model, as ``tests/test_memory.py`` does for 1,000 strokes in CI). A leak shows as steady growth
across the samples; a warmed-up process stays flat but for allocator noise."""

from __future__ import annotations

import argparse

from bench import common
from tests.support.memory import measure


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--model",
        default="cnn",
        help="registry model (the ANN's saliency is integrated gradients, the CNN's Grad-CAM)",
    )
    parser.add_argument("--count", type=int, default=10_000, help="strokes measured")
    parser.add_argument("--warmup", type=int, default=100, help="strokes before the first sample")
    parser.add_argument("--every", type=int, default=1000, help="strokes between RSS samples")
    return common.parse_args(parser, {"count": 300, "every": 100})


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    model = common.load_models([args.model], untrained=False)[args.model]
    print(f"model {args.model}: {args.warmup} warm-up strokes, then {args.count} measured\n", flush=True)
    figures = measure(model, count=args.count, warmup=args.warmup, every=args.every)
    for n, mib in figures["samples"]:
        print(f"  after {n:6d} strokes: RSS {mib:8.1f} MiB")
    growth = figures["rss_growth_mib"]
    print(
        f"\nRSS {figures['rss_before_mib']:.1f} -> {figures['rss_after_mib']:.1f} MiB: {growth:+.1f} MiB "
        f"over {args.count} strokes ({growth * 1024 / args.count:+.2f} KiB per stroke)"
    )
    print(
        f"live Python objects {figures['objects_before']} -> {figures['objects_after']} "
        f"({figures['objects_growth']:+d}); {figures['ms_per_stroke']:.1f} ms per stroke; "
        f"{figures['wrong']} digits read wrong"
    )
    common.write_json(
        args.json, {"benchmark": "memory", "machine": info, "args": vars(args), "results": figures}
    )


if __name__ == "__main__":
    main()
