"""Accuracy on handwriting that is not MNIST's, and on MNIST digits that arrive as scans, each
beside the same model fed by a textbook MNIST preprocessing (bench/textbook.py).

Run from the project's root: ``python -m bench.real_handwriting [--quick]``.

Sets, each scored by every model:

- MNIST test: a seeded sample of the test digits, given to the model as they are (the reference);
- UCI digits: the 1,797 digits of 13 other writers (digit_core.other_writers), 160 px PNGs of dark
  ink on white, through predict_uploads (the path a user's file takes);
- drawn: bench/drawn_digits.py's drawings in its four renderings (canvas, white on black, paper,
  phone photo as JPEG), each prepared as there; refused as predict_uploads would refuse it;
- scan: the same MNIST sample re-rendered as files by bench/scans.py (plain, tight crop, thick
  marker, 16 px, 8 px, binarised, inverted, JPEG), through predict_uploads.

"ours" counts a refused image (unreadable, blank, not looking like a digit) as wrong and says how
many there were; "textbook" preprocesses the same file or drawing and never refuses (an image it
finds no ink in counts as wrong). predict_uploads runs once per file set, with the first model;
every model then scores the inputs it prepared (the same as calling it per model, without
preparing every file again).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bench import common, drawn_digits, scans
from bench.textbook import textbook
from digit_core import other_writers
from digit_core.inference import predict
from digit_core.predictions import predict_uploads

COUNT = 1500  # images per set unless --count says otherwise: about 7 minutes on 2 busy cores
BLANK = "the image is blank: no ink was found"  # predict_uploads' words for a blank image


@dataclass(frozen=True)
class TestSet:
    """One set, prepared both ways: ``ours`` and ``textbook`` are ``(n, 28, 28) float32`` in
    [0, 1]; ``refused`` / ``textbook_blank`` are ``(n,) bool``; ``reasons`` counts refusals."""

    name: str
    labels: np.ndarray
    ours: np.ndarray
    refused: np.ndarray
    reasons: Counter
    textbook: np.ndarray
    textbook_blank: np.ndarray
    seconds: float


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cnn", "ann"], help="registry names or .keras paths")
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help=f"images per set: MNIST digits per variant, drawings per rendering, UCI "
        f"digits (default: all 1,797 UCI digits and {COUNT:,} of every other set)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples, drawings and marker widths")
    parser.add_argument(
        "--untrained",
        action="store_true",
        help="use freshly built cnn/ann models (checks the code path only)",
    )
    return common.parse_args(parser, {"count": 200})


def _textbook_inputs(sources) -> tuple[np.ndarray, np.ndarray]:
    prepared = [textbook(source) for source in sources]
    blank = np.array([p is None for p in prepared], bool)
    images = np.stack([np.zeros((28, 28), np.float32) if p is None else p for p in prepared])
    return images, blank


def file_set(name: str, files: list[tuple[str, bytes]], labels: np.ndarray, model) -> TestSet:
    """Files through predict_uploads (ours) and through the textbook preprocessing."""
    start = time.perf_counter()
    results = predict_uploads(model, files)
    refused = np.array([r.error is not None for r in results], bool)
    ours = np.stack([np.zeros((28, 28), np.float32) if r.error else r.prepared.image for r in results])
    reasons = Counter(r.error for r in results if r.error)
    tb, tb_blank = _textbook_inputs([data for _, data in files])
    return TestSet(
        name, np.asarray(labels), ours, refused, reasons, tb, tb_blank, time.perf_counter() - start
    )


def mnist_sample(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded sample of MNIST's test set: indices, digits ``(n, 28, 28) uint8``, labels."""
    data = common.mnist()
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(data.test_labels), min(count, len(data.test_labels)), replace=False))
    return pick, data.test_images[pick], data.test_labels[pick]


def mnist_set(digits: np.ndarray, labels: np.ndarray) -> TestSet:
    """The reference: MNIST's own inputs for ours; the textbook re-prepares them."""
    start = time.perf_counter()
    tb, tb_blank = _textbook_inputs(list(digits))
    return TestSet(
        "MNIST test (model input)",
        labels,
        digits.astype(np.float32) / 255.0,
        np.zeros(len(labels), bool),
        Counter(),
        tb,
        tb_blank,
        time.perf_counter() - start,
    )


def scan_sets(pick: np.ndarray, digits: np.ndarray, labels: np.ndarray, seed: int, model) -> list[TestSet]:
    """The MNIST sample rendered as files once per scans.VARIANTS entry."""
    sets = []
    for k, (variant, render) in enumerate(scans.VARIANTS.items()):
        rng = np.random.default_rng([seed, k])  # one stream per variant
        files = [(f"mnist-{i}-digit-{y}.png", render(d, rng)) for i, d, y in zip(pick, digits, labels)]
        sets.append(file_set(f"scan: {variant}", files, labels, model))
        report_progress(sets[-1])
    return sets


def drawn_sets(count: int, seed: int) -> list[TestSet]:
    """bench/drawn_digits.py's drawings, made by its own make_inputs; its call of prepare is
    watched to keep each rendering and what it was prepared into (for the textbook and for
    not_a_digit, which predict_uploads refuses and the canvas path only flags)."""
    seen: list[tuple[np.ndarray, object]] = []
    real_prepare = drawn_digits.prepare

    def watched(image):
        prepared = real_prepare(image)
        seen.append((image, prepared))
        return prepared

    start = time.perf_counter()
    drawn_digits.prepare = watched
    try:
        labels, _, _ = drawn_digits.make_inputs(count, seed)
    finally:
        drawn_digits.prepare = real_prepare
    renderings = drawn_digits.RENDERINGS
    if len(seen) != len(labels) * len(renderings):
        raise RuntimeError("drawn_digits.make_inputs no longer prepares each rendering once")
    share = (time.perf_counter() - start) / len(renderings)
    sets = []
    for k, rendering in enumerate(renderings):  # make_inputs prepares the renderings in this order
        pairs = seen[k :: len(renderings)]
        reasons = Counter(BLANK if p.blank else p.not_a_digit for _, p in pairs if p.blank or p.not_a_digit)
        t = time.perf_counter()
        tb, tb_blank = _textbook_inputs([image for image, _ in pairs])
        refused = np.array([bool(p.blank or p.not_a_digit) for _, p in pairs])
        sets.append(
            TestSet(
                f"drawn: {rendering}",
                labels,
                np.stack([p.image for _, p in pairs]),
                refused,
                reasons,
                tb,
                tb_blank,
                share + time.perf_counter() - t,
            )
        )
        report_progress(sets[-1])
    return sets


def report_progress(test_set: TestSet) -> None:
    print(
        f"  prepared {test_set.name}: {len(test_set.labels)} images in {test_set.seconds:.1f} s", flush=True
    )


def score(model, test_set: TestSet) -> dict:
    def right(images, refused):
        predicted = np.full(len(test_set.labels), -1)
        if (~refused).any():
            predicted[~refused] = predict(model, images[~refused]).argmax(axis=1)
        return predicted

    ours = right(test_set.ours, test_set.refused)
    tb = right(test_set.textbook, test_set.textbook_blank)
    labels = test_set.labels
    wrong = (ours != labels) & ~test_set.refused
    confusions = Counter(zip(labels[wrong].tolist(), ours[wrong].tolist())).most_common(3)
    return {
        "n": len(labels),
        "ours": float(np.mean(ours == labels)),
        "refused": int(test_set.refused.sum()),
        "textbook": float(np.mean(tb == labels)),
        "textbook_blank": int(test_set.textbook_blank.sum()),
        "ours_confusions": [{"true": t, "predicted": p, "count": c} for (t, p), c in confusions],
    }


def report(name: str, results: dict[str, dict]) -> None:
    print(f"{name}")
    print(f"  {'set':<26}{'n':>6}{'ours %':>9}{'(refused)':>11}{'textbook %':>12}   ours' top confusions")
    for set_name, r in results.items():
        top = ", ".join(f"{c['true']}->{c['predicted']} {c['count']}" for c in r["ours_confusions"])
        print(
            f"  {set_name:<26}{r['n']:>6}{r['ours']:9.1%}{'(' + str(r['refused']) + ')':>11}"
            f"{r['textbook']:12.1%}   {top}"
        )
    print()


def report_refusals(sets: list[TestSet]) -> None:
    print("refused by our upload path (any model), by reason:")
    for test_set in sets:
        for reason, n in test_set.reasons.most_common():
            print(f"  {test_set.name:<26}{n:>5}  {reason}")
    if not any(s.reasons for s in sets):
        print("  none")
    print()


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    models = common.load_models(args.models, args.untrained)
    first = next(iter(models.values()))
    count = COUNT if args.count is None else args.count
    print(
        f"preparing the sets ({count} images per set"
        f"{', all UCI digits' if args.count is None else ''}, seed {args.seed})"
        f"{' -- UNTRAINED models' if args.untrained else ''}:",
        flush=True,
    )
    pick, digits, mnist_labels = mnist_sample(count, args.seed)
    sets = [mnist_set(digits, mnist_labels)]
    report_progress(sets[-1])
    files, labels = other_writers.uci_files(), other_writers.uci_labels()
    if args.count is not None and args.count < len(files):
        chosen = np.sort(np.random.default_rng(args.seed).choice(len(files), args.count, replace=False))
        files, labels = [files[i] for i in chosen], labels[chosen]
    sets.append(file_set("UCI digits (upload path)", files, labels, first))
    report_progress(sets[-1])
    sets += drawn_sets(count, args.seed)
    sets += scan_sets(pick, digits, mnist_labels, args.seed, first)
    print()
    report_refusals(sets)
    results = {}
    for name, model in models.items():
        results[name] = {s.name: score(model, s) for s in sets}
        report(name, results[name])
    common.write_json(
        args.json,
        {
            "benchmark": "real_handwriting",
            "machine": info,
            "args": vars(args),
            "sets": {
                s.name: {
                    "n": len(s.labels),
                    "refused": int(s.refused.sum()),
                    "reasons": dict(s.reasons),
                    "seconds": round(s.seconds, 2),
                }
                for s in sets
            },
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
