"""Stroke-to-answer latency in a real browser: from lifting the pen to the new prediction on screen.

Starts ``streamlit run Home.py`` on a free loopback port, opens the Draw & Predict page in headless
Chromium (Debian's /usr/bin/chromium) and replays digit strokes with the mouse. For each stroke the
page itself timestamps (``performance.now()``) the ``mouseup`` event and the first DOM change after
it that alters what ``.st-key-prediction`` shows (the Prediction metric's value and confidence, or
the prompt), so the figure is the user's wait, measured on the browser's clock: the canvas's
200 ms send debounce, the PNG round trip, the script run up to the prediction, and rendering.
The first answer (TensorFlow and model loading) is a warm-up and not counted; the canvas is
cleared every ``--strokes-per-clear`` strokes (clearing is not timed). A stroke after which a
whole script run ends without the shown answer changing (say a confidence already at 100.0%) is
reported, not timed, and another stroke is drawn in its place.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

from bench import common
from digit_core.registry import models_dir
from tests.support import strokes
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, ServerError, interpolate, streamlit_server

CANVAS = ".st-key-draw_canvas canvas.upper-canvas"
RESET = '.st-key-draw_canvas button[title="Reset canvas & history"]'
PROMPT = "Draw a digit on the canvas"

# Installed in the page: watches for the answer to change after each mouseup.
WATCH_JS = """() => {
  const shown = () => {
    const box = document.querySelector('.st-key-prediction');
    if (!box) return '';
    const metric = box.querySelector('[data-testid="stMetric"]');
    return (metric || box).innerText.trim();
  };
  const state = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app ? app.getAttribute('data-test-script-state') : null;
  };
  const w = window.__strokeWatch = {armed: false, before: '', up: null, changed: null, text: null,
                                    sawRun: false, runEnded: false, shown, state};
  window.addEventListener('mouseup', () => { if (w.armed && w.up === null) w.up = performance.now(); },
                          true);
  new MutationObserver(() => {
    if (!w.armed || w.up === null) return;
    if (state() === 'running') w.sawRun = true;
    else if (w.sawRun) w.runEnded = true;
    if (w.changed === null) {
      const now = shown();
      if (now !== w.before) { w.changed = performance.now(); w.text = now; }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
ARM_JS = """() => { const w = window.__strokeWatch;
  Object.assign(w, {armed: true, before: w.shown(), up: null, changed: null, text: null,
                    sawRun: false, runEnded: false}); }"""
DONE_JS = "() => { const w = window.__strokeWatch; return w.changed !== null || w.runEnded; }"
RESULT_JS = """() => { const w = window.__strokeWatch; w.armed = false;
  return {up: w.up, changed: w.changed, before: w.before, text: w.text}; }"""
IDLE_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'; }"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=30, help="timed strokes (at most 3x as many drawn)")
    parser.add_argument(
        "--strokes-per-clear", type=int, default=3, help="clear the canvas after this many strokes"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one answer")
    return common.parse_args(parser, {"repeats": 3})


def stroke_sequence():
    """Single strokes from the digit templates, 0 to 9 and again, a digit's strokes in turn, the
    digits alternately left and right of centre so that each stroke changes the drawing."""
    digit = 0
    while True:
        style = strokes.Style(size=280, height=0.6, width=18, centre=(0.35 + 0.3 * (digit % 2), 0.5))
        yield from strokes.place(digit % 10, style)
        digit += 1


def draw_stroke(page, box: dict, stroke, before_up=None) -> None:
    points = interpolate(stroke)
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y)
    if before_up:
        before_up()
    page.mouse.up()


def clear(page, timeout_ms: float) -> None:
    page.click(RESET)
    page.wait_for_function(
        f"() => document.querySelector('.st-key-prediction')?.innerText.includes({PROMPT!r})",
        timeout=timeout_ms,
    )
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def measure(url: str, repeats: int, per_clear: int, timeout: float) -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    timeout_ms = timeout * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(timeout_ms)
        page.goto(f"{url}/Draw_and_Predict")
        page.wait_for_selector(CANVAS, state="visible", timeout=2 * timeout_ms)
        page.wait_for_function(IDLE_JS, timeout=timeout_ms)
        page.evaluate(WATCH_JS)
        box = page.locator(CANVAS).bounding_box()

        # Warm-up: the first answer loads the model and traces its function.
        warm = strokes.place(1, strokes.Style(size=280, height=0.6, width=18))[0]
        draw_stroke(page, box, warm)
        page.wait_for_selector('.st-key-prediction [data-testid="stMetricValue"]', timeout=2 * timeout_ms)
        page.wait_for_timeout(400)
        page.wait_for_function(IDLE_JS, timeout=timeout_ms)
        clear(page, timeout_ms)

        latencies, wall, unchanged = [], [], 0
        sequence = stroke_sequence()
        for i in range(3 * repeats):  # strokes that leave the answer as it was are not timed
            if len(latencies) == repeats:
                break
            stroke = next(sequence)
            if i and i % per_clear == 0:
                clear(page, timeout_ms)
            page.evaluate(ARM_JS)
            marks: dict[str, float] = {}
            draw_stroke(
                page, box, stroke, before_up=lambda marks=marks: marks.setdefault("up", time.perf_counter())
            )
            page.wait_for_function(DONE_JS, timeout=timeout_ms, polling=5)
            seen = time.perf_counter()
            # The answer has changed or a run has ended; if the change is still on its way, wait for it.
            with contextlib.suppress(PlaywrightTimeout):  # a run ended and the answer did not change
                page.wait_for_function("() => window.__strokeWatch.changed !== null", timeout=2000, polling=5)
            result = page.evaluate(RESULT_JS)
            if result["changed"] is None:
                unchanged += 1
                print(f"  stroke {i + 1}: the answer stayed {result['before']!r}", flush=True)
            else:
                wall.append(seen - marks["up"])
                latencies.append((result["changed"] - result["up"]) / 1000.0)
                shown = " ".join(result["text"].split())
                print(f"  stroke {i + 1}: {latencies[-1] * 1000:7.0f} ms  -> {shown}", flush=True)
            page.wait_for_timeout(300)  # let the run that showed the answer finish before the next stroke
            page.wait_for_function(IDLE_JS, timeout=timeout_ms)
        browser.close()
    return {"latencies": latencies, "wall": wall, "unchanged": unchanged}


def ms_stats(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    ms = np.array(seconds) * 1000.0
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
    }


def main() -> None:
    args = parse_args()
    info = common.print_machine()
    print(
        f"Draw & Predict page, models from {models_dir()}, headless Chromium; {args.repeats} strokes, "
        f"canvas cleared every {args.strokes_per_clear}\n",
        flush=True,
    )
    try:
        with streamlit_server() as url:
            runs = measure(url, args.repeats, args.strokes_per_clear, args.timeout)
    except ServerError as exc:
        raise SystemExit(str(exc)) from exc
    browser = ms_stats(runs["latencies"])
    wall = ms_stats(runs["wall"])
    print(
        f"\nmouseup -> new answer shown, browser clock: p50 {browser['p50_ms'] or 0:.0f} ms, "
        f"p95 {browser['p95_ms'] or 0:.0f} ms ({len(runs['latencies'])} strokes; includes the "
        "canvas's 200 ms send debounce)"
    )
    print(
        f"same, seen from the test driver:        p50 {wall['p50_ms'] or 0:.0f} ms, "
        f"p95 {wall['p95_ms'] or 0:.0f} ms"
    )
    if runs["unchanged"]:
        print(f"{runs['unchanged']} stroke(s) left the shown answer unchanged and were not timed")
    common.write_json(
        args.json,
        {
            "benchmark": "stroke_latency",
            "machine": info,
            "args": vars(args),
            "models_dir": str(models_dir()),
            "results": {
                "browser": browser,
                "driver": wall,
                "timed_strokes": len(runs["latencies"]),
                "unchanged_strokes": runs["unchanged"],
                "samples_ms": [s * 1000.0 for s in runs["latencies"]],
            },
        },
    )
    if not runs["latencies"]:
        raise SystemExit("no stroke changed the answer: nothing was timed")


if __name__ == "__main__":
    main()
