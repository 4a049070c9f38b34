"""Driving the app in headless Chromium: the Draw page's canvas, its answers, and waiting for the
app to be idle. Shared by the browser tests in ``tests/e2e``."""

from __future__ import annotations

import pytest

from ui.navigation import DRAW

from . import strokes
from .server import interpolate

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect

FIRST_LOAD_MS = 90_000  # the first script run imports TensorFlow and loads the model
ANSWER_MS = 30_000
NAVIGATION_MS = 120_000
RESET = 'button[title="Reset canvas & history"]'
EXCEPTION = '[data-testid="stException"]'
PROMPT = "Draw a digit on the canvas"
SINGLE = ".st-key-prediction"
SINGLE_VALUE = f'{SINGLE} [data-testid="stMetricValue"]'
NUMBER = ".st-key-number"
# Digit templates as a person would draw them on the 280 px canvas with the page's default 18 px pen.
STYLE = strokes.Style(size=280, height=0.7, width=18)


def new_context(browser, **options):
    """A fresh browser context (so fresh Streamlit sessions) with the tests' time limits: 30 s for
    an action, 120 s to open a page (a page's first load on a 2-core box while trainings run)."""
    context = browser.new_context(**options)
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    return context


def canvas(page, key: str):
    """The drawing surface of canvas ``key``: fabric.js's upper canvas, which takes the mouse."""
    return page.locator(f".st-key-{key} canvas.upper-canvas")


def draw(page, key: str, drawing, offset=(0.0, 0.0)) -> None:
    """Replay strokes (canvas pixels, shifted by ``offset``) with the mouse on canvas ``key``."""
    surface = canvas(page, key)
    surface.scroll_into_view_if_needed()
    box = surface.bounding_box()
    assert box is not None, f"canvas {key} is not laid out"
    left, top = box["x"] + offset[0], box["y"] + offset[1]
    for stroke in drawing:
        points = interpolate(stroke)
        page.mouse.move(left + points[0][0], top + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(left + x, top + y)
        page.mouse.up()


def wait_idle(page) -> None:
    """Until no script run is in progress (Streamlit's frontend sets this attribute for its own tests)."""
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=ANSWER_MS,
    )


def settled_metric(page, container: str, label: str, expected: str) -> None:
    """The metric ``label`` in ``container`` shows ``expected`` once the app has finished all runs
    the drawing started (an answer to part of the drawing may come first)."""
    value = page.locator(f'{container} [data-testid="stMetricValue"]')
    expect(value).to_have_text(expected, timeout=ANSWER_MS)
    page.wait_for_timeout(400)  # the canvas sends a drawing 200 ms after the pen lifts
    wait_idle(page)
    expect(value).to_have_text(expected, timeout=ANSWER_MS)
    expect(page.locator(f'{container} [data-testid="stMetricLabel"]')).to_have_text(label)


def assert_no_exception(page) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)


def open_draw_page(page, server_url: str) -> None:
    page.goto(f"{server_url}/{DRAW.url_path}")
    expect(canvas(page, "draw_canvas")).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(page.locator(SINGLE)).to_contain_text(PROMPT, timeout=FIRST_LOAD_MS)
    wait_idle(page)
    # The shipped CNN is the default model.
    expect(page.locator(".st-key-draw_model").get_by_role("combobox")).to_have_value("cnn")
    assert_no_exception(page)
