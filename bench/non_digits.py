"""The "not a digit" answer: how many non-digit drawings are refused, and how many real digits.

Run from the project's root: ``python -m bench.non_digits [--quick]``.

Sets, each drawing prepared as the app prepares it and judged by digit_core.nondigit.refusal with
both shipped models' answers (as Draw & Predict does):

- non-digits: tests.support.non_digits' drawings (dots, smileys, asterisks, spirals, scribbles,
  shapes, symbols, letters), ``--per-name`` of each in random pens, sizes and places;
- drawn digits: tests.support.strokes' digits in random styles, as the canvas sends them;
- UCI digits: the 1,797 digits of 13 other writers, 160 px PNGs read through the upload path.

Goals (issue 15): at least 80 % of the non-digits refused, at most 0.5 % of the real digits.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

import numpy as np

from bench import common
from digit_core import other_writers, registry
from digit_core.inference import predict
from digit_core.nondigit import refusal
from digit_core.predictions import prepare_upload
from digit_core.preprocess import prepare
from tests.support import non_digits, strokes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--per-name", type=int, default=10, help="drawings of each non-digit")
    parser.add_argument("--drawn", type=int, default=1000, help="drawn digits")
    parser.add_argument("--uci", type=int, default=1797, help="UCI digits (at most 1,797)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawing styles")
    return common.parse_args(parser, {"per_name": 1, "drawn": 20, "uci": 20})


def judge(models: dict, prepared: list) -> list[str | None]:
    """Each prepared drawing's refusal reason (None: accepted); a blank one counts as refused."""
    shown = [p for p in prepared if not p.blank]
    images = np.stack([p.image for p in shown]) if shown else np.zeros((0, 28, 28), np.float32)
    answers = {name: predict(model, images) for name, model in models.items()}
    reasons: list[str | None] = []
    k = 0
    for p in prepared:
        if p.blank:
            reasons.append("blank")
            continue
        reasons.append(refusal(p, {name: answers[name][k] for name in models}))
        k += 1
    return reasons


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    models = {name: registry.load_model(name) for name in ("cnn", "ann")}
    rng = np.random.default_rng(args.seed)

    drawings = non_digits.drawings(per_name=args.per_name, seed=args.seed)
    names = [name for name, _ in drawings]
    refused_non = judge(models, [prepare(image) for _, image in drawings])
    by_name: dict[str, list[bool]] = defaultdict(list)
    for name, reason in zip(names, refused_non, strict=True):
        by_name[name].append(reason is not None)

    drawn = [prepare(strokes.draw_digit(k % 10, strokes.random_style(rng), rng)) for k in range(args.drawn)]
    refused_drawn = judge(models, drawn)

    files = other_writers.uci_files()[: args.uci]
    uci = []
    for _, data in files:
        prepared, error = prepare_upload(data)
        uci.append(prepared if error is None and prepared is not None else prepare(b""))
    refused_uci = judge(models, uci)

    def share(reasons: list) -> float:
        return sum(r is not None for r in reasons) / max(1, len(reasons))

    figures = {
        "non_digits_refused": share(refused_non),
        "drawn_digits_refused": share(refused_drawn),
        "uci_digits_refused": share(refused_uci),
        "counts": {"non_digits": len(refused_non), "drawn": len(refused_drawn), "uci": len(refused_uci)},
        "per_name": {name: float(np.mean(v)) for name, v in by_name.items()},
    }
    print(f"non-digits refused:   {figures['non_digits_refused']:7.1%} of {len(refused_non)} (goal >= 80 %)")
    drawn_share = figures["drawn_digits_refused"]
    print(f"drawn digits refused: {drawn_share:7.2%} of {len(refused_drawn)} (goal <= 0.5 %)")
    print(f"UCI digits refused:   {figures['uci_digits_refused']:7.2%} of {len(refused_uci)} (goal <= 0.5 %)")
    print("\nnon-digits refused, by drawing:")
    for name, v in by_name.items():
        print(f"  {name:<12} {np.mean(v):6.0%}")
    reasons = Counter((r or "").split(":")[-1].strip() for r in refused_non if r)
    print("\nreasons given for the non-digits:")
    for reason, n in reasons.most_common():
        print(f"  {n:4d}  {reason}")
    wrongly = [r for r in refused_drawn + refused_uci if r]
    if wrongly:
        print("\nreasons given for refused real digits:")
        for reason, n in Counter(wrongly).most_common():
            print(f"  {n:4d}  {reason}")
    common.write_json(args.json, {"machine": info, **figures})


if __name__ == "__main__":
    main()
