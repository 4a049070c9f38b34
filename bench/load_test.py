"""Under load: concurrent browser users on one server, drawing and predicting while others train.

Starts ``streamlit run Home.py`` on a free loopback port and opens headless Chromium sessions (one
browser, one context each, driven concurrently). ``--drawers`` of them draw one-stroke digits on
the Draw & Predict page for ``--seconds``, each waiting for the answer, checking it and clearing
the canvas; ``--trainers`` more each train a small network on the Train page meanwhile (each a job
in a worker process of the server's embedded Ray) and at the end press Stop and discard the run.
Then, with ``--consecutive N``, one session trains N small ANNs one after another (each to its
end, then discarded) and the server's memory is read after each. Prints the predictions, wrong
answers, errors (no answer in time, a closed websocket, page or console errors, HTTP errors, a
server that stops answering, tracebacks in its log), exceptions shown, the stroke-to-answer latency
(browser clock, pen up to answer shown, including the canvas's 200 ms send debounce) and the
server's memory (VmRSS).
Exits with status 1 when there was any error or exception shown. The core is
``tests/support/load.py``, which CI runs in a short form (``tests/e2e/test_load.py``).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from bench import common
from tests.support.load import Settings, run_consecutive, run_load, summary
from tests.support.server import ServerError, running_server


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--drawers", type=int, default=8, help="concurrent sessions that draw")
    parser.add_argument("--trainers", type=int, default=2, help="concurrent sessions that train (0: none)")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured window, after every session has warmed up"
    )
    parser.add_argument(
        "--arch", choices=["cnn", "ann"], default="cnn", help="what the training session trains"
    )
    parser.add_argument(
        "--images", choices=["1k", "5k", "20k", "all"], default="5k", help="the Train page's training images"
    )
    parser.add_argument("--epochs", type=int, default=50, help="planned epochs (Stop ends the run)")
    parser.add_argument(
        "--consecutive",
        type=int,
        default=0,
        help="afterwards, train this many ANNs on 1k images for 1 epoch one after another, reading "
        "the server's memory after each",
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for one answer before it counts as an error",
    )
    parser.add_argument("--screenshots", metavar="DIR", help="save a screenshot of each session that errs")
    parser.add_argument("--server-log", metavar="PATH", help="save the server's output")
    return common.parse_args(parser, {"drawers": 2, "trainers": 1, "seconds": 10, "consecutive": 2})


def main() -> None:
    args = parse_args()
    if args.drawers < 1 or args.trainers < 0:
        raise SystemExit("--drawers must be at least 1 and --trainers at least 0")
    settings = Settings(
        drawers=args.drawers,
        train=args.trainers > 0,
        trainers=args.trainers,
        seconds=args.seconds,
        arch=args.arch,
        images=args.images,
        epochs=args.epochs,
        answer_timeout=args.answer_timeout,
        screenshots=args.screenshots,
    )
    info = common.print_machine()
    print(
        f"{args.drawers + args.trainers} headless Chromium sessions on one server for {args.seconds:g} s: "
        f"{args.drawers} drawing"
        + (
            f", {args.trainers} training a {args.arch.upper()} on {args.images} images"
            if args.trainers
            else ""
        )
        + "\n",
        flush=True,
    )
    consecutive = None
    try:
        with running_server() as server:
            report = run_load(server.url, settings, server)
            print()
            print(summary(report))
            if args.consecutive:
                print(
                    f"\n{args.consecutive} trainings one after another (ANN, 1k images, 1 epoch):", flush=True
                )
                one = Settings(drawers=0, trainers=1, arch="ann", images="1k", epochs=1)
                consecutive = run_consecutive(server.url, one, args.consecutive, server)
            if args.server_log:
                Path(args.server_log).write_text(server.output(), encoding="utf-8")
    except ServerError as exc:
        raise SystemExit(str(exc)) from exc
    tally = report["tally"]
    if consecutive is not None:
        rss = consecutive["rss_kib"]
        tally.errors.extend(consecutive["tally"].errors)
        if rss:
            print(
                f"server RSS after each (MiB): {', '.join(f'{kib / 1024:.0f}' for kib in rss)}; "
                f"from the 1st to the last {(rss[-1] - rss[0]) / 1024:+.0f} MiB, "
                f"spread {(max(rss) - min(rss)) / 1024:.0f} MiB"
            )
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
                "consecutive": None
                if consecutive is None
                else {
                    "rss_kib": consecutive["rss_kib"],
                    "results": consecutive["results"],
                    "errors": consecutive["tally"].errors,
                },
            },
        },
    )
    if tally.errors or tally.exceptions:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
