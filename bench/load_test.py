"""Under load: N concurrent browser users on one server, drawing and predicting while one trains.

Starts ``streamlit run Home.py`` on a free loopback port and opens N headless Chromium sessions
(one browser, one context each, driven concurrently). N - 1 of them draw one-stroke digits on the
Draw & Predict page for ``--seconds``, each waiting for the answer, checking it and clearing the
canvas; the last one trains a small network on the Train page meanwhile and at the end presses
Stop and discards the run. Prints the predictions, wrong answers, errors (no answer in time, a
closed websocket, page or console errors, HTTP errors, a server that stops answering, tracebacks
in its log), exceptions shown, the stroke-to-answer latency (browser clock, pen up to answer
shown, including the canvas's 200 ms send debounce) and the server's memory (VmRSS).
Exits with status 1 when there was any error or exception shown. The core is
``tests/support/load.py``, which CI runs in a short form (``tests/e2e/test_load.py``).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from bench import common
from tests.support.load import Settings, run_load, summary
from tests.support.server import ServerError, running_server


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--sessions", type=int, default=8, help="concurrent browser sessions, the training one included"
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured window, after every session has warmed up"
    )
    parser.add_argument("--no-train", action="store_true", help="every session draws; none trains")
    parser.add_argument(
        "--arch", choices=["cnn", "ann"], default="cnn", help="what the training session trains"
    )
    parser.add_argument(
        "--images", choices=["1k", "5k", "20k", "all"], default="5k", help="the Train page's training images"
    )
    parser.add_argument("--epochs", type=int, default=50, help="planned epochs (Stop ends the run)")
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for one answer before it counts as an error",
    )
    parser.add_argument("--screenshots", metavar="DIR", help="save a screenshot of each session that errs")
    parser.add_argument("--server-log", metavar="PATH", help="save the server's output")
    return common.parse_args(parser, {"sessions": 3, "seconds": 10})


def main() -> None:
    args = parse_args()
    drawers = args.sessions - (0 if args.no_train else 1)
    if drawers < 1:
        raise SystemExit("--sessions must leave at least one drawing session")
    settings = Settings(
        drawers=drawers,
        train=not args.no_train,
        seconds=args.seconds,
        arch=args.arch,
        images=args.images,
        epochs=args.epochs,
        answer_timeout=args.answer_timeout,
        screenshots=args.screenshots,
    )
    info = common.print_machine()
    print(
        f"{args.sessions} headless Chromium sessions on one server for {args.seconds:g} s: {drawers} "
        f"drawing"
        + ("" if args.no_train else f", 1 training a {args.arch.upper()} on {args.images} images")
        + "\n",
        flush=True,
    )
    try:
        with running_server() as server:
            report = run_load(server.url, settings, server)
            if args.server_log:
                Path(args.server_log).write_text(server.output(), encoding="utf-8")
    except ServerError as exc:
        raise SystemExit(str(exc)) from exc
    print()
    print(summary(report))
    tally = report["tally"]
    common.write_json(
        args.json,
        {
            "benchmark": "load_test",
            "machine": info,
            "args": vars(args),
            "settings": asdict(settings),
            "results": {
                "window_s": report["window_s"],
                "predictions": tally.predictions,
                "per_session": tally.per_session,
                "wrong": tally.wrong,
                "errors": tally.errors,
                "exceptions_shown": tally.exceptions,
                "latency": report["latency"],
                "rss_kib": report["rss"],
                "training": tally.training,
                "server_log_tracebacks": report["server_log_tracebacks"],
                "samples_ms": [s * 1000.0 for s in tally.latencies],
            },
        },
    )
    if tally.errors or tally.exceptions:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
