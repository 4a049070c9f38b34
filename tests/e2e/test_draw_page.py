"""The Draw & Predict page in a real browser: digits drawn with the mouse, a number, uploads.

The strokes are digit_core.strokes templates replayed with the mouse on the drawable canvas, so
what the CNN is shown went through the real component, its PNG round trip and the page's code.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from digit_core import strokes

from .server import interpolate

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect

PAGE = "Draw_and_Predict"
FIRST_LOAD_MS = 90_000  # the first script run imports TensorFlow and loads the model
ANSWER_MS = 30_000
RESET = 'button[title="Reset canvas & history"]'
EXCEPTION = '[data-testid="stException"]'
PROMPT = "Draw a digit on the canvas"
SINGLE = ".st-key-prediction"
SINGLE_VALUE = f'{SINGLE} [data-testid="stMetricValue"]'
NUMBER = ".st-key-number"
# Digits the shipped CNN reads surely from these templates at this style, as a person would draw
# them on the 280 px canvas with the page's default 18 px pen.
DIGITS = (1, 3, 7)
STYLE = strokes.Style(size=280, height=0.7, width=18)


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
    page.goto(f"{server_url}/{PAGE}")
    expect(canvas(page, "draw_canvas")).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(page.locator(SINGLE)).to_contain_text(PROMPT, timeout=FIRST_LOAD_MS)
    wait_idle(page)
    # The shipped CNN is the default model.
    expect(page.locator(".st-key-draw_model").get_by_role("combobox")).to_have_value("cnn")
    assert_no_exception(page)


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_drawn_digits_are_predicted_and_the_canvas_clears(page, server_url):
    open_draw_page(page, server_url)
    box = canvas(page, "draw_canvas").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (280, 280)
    for digit in DIGITS:
        draw(page, "draw_canvas", strokes.place(digit, STYLE))
        settled_metric(page, SINGLE, "Prediction", str(digit))
        assert_no_exception(page)

        page.locator(f".st-key-draw_canvas {RESET}").click()
        expect(page.locator(SINGLE)).to_contain_text(PROMPT, timeout=ANSWER_MS)
        wait_idle(page)
        expect(page.locator(SINGLE_VALUE)).to_have_count(0)
        assert_no_exception(page)


def test_a_two_digit_number_is_read(page, server_url):
    open_draw_page(page, server_url)
    page.get_by_role("tab", name="A number").click()
    surface = canvas(page, "draw_number_canvas")
    expect(surface).to_be_visible()
    box = surface.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (700, 200)
    style = strokes.Style(size=200, height=0.7, width=18)
    # Each digit in a 200 px square; the squares' centres 160 px apart leave a ~60 px gap between the inks.
    draw(page, "draw_number_canvas", strokes.place(4, style), offset=(170, 0))
    draw(page, "draw_number_canvas", strokes.place(7, style), offset=(330, 0))
    settled_metric(page, NUMBER, "Number", "47")
    assert_no_exception(page)


def test_uploads_are_predicted_each_with_its_own_error(page, server_url):
    open_draw_page(page, server_url)
    page.get_by_role("tab", name="Upload").click()
    two = strokes.draw_digit(2, STYLE, ink=(0, 0, 0, 255), paper=(255, 255, 255, 255))
    files = [
        {"name": "two.png", "mimeType": "image/png", "buffer": png(two)},
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"shopping list: eggs, milk\n"},
    ]
    page.locator('.st-key-draw_uploads input[type="file"]').set_input_files(files)
    expect(page.get_by_text("two.png: 2", exact=True)).to_be_visible(timeout=ANSWER_MS)
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error).to_have_count(1, timeout=ANSWER_MS)
    expect(error).to_contain_text("notes.png: this is a text file, not an image")
    wait_idle(page)
    expect(page.get_by_text("two.png: 2", exact=True)).to_be_visible()
    assert_no_exception(page)


def touch(cdp, kind: str, x: float | None = None, y: float | None = None) -> None:
    points = [] if x is None else [{"x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_digit_drawn_with_a_finger_is_predicted(browser, server_url):
    # A touch screen: real touch events from the browser's input pipeline, no mouse at all.
    context = browser.new_context(viewport={"width": 1000, "height": 1000}, has_touch=True)
    page = context.new_page()
    try:
        open_draw_page(page, server_url)
        surface = canvas(page, "draw_canvas")
        surface.scroll_into_view_if_needed()
        box = surface.bounding_box()
        cdp = context.new_cdp_session(page)
        for stroke in strokes.place(7, STYLE):
            points = [(box["x"] + x, box["y"] + y) for x, y in interpolate(stroke)]
            touch(cdp, "touchStart", *points[0])
            for x, y in points[1:]:
                touch(cdp, "touchMove", x, y)
            touch(cdp, "touchEnd")
        settled_metric(page, SINGLE, "Prediction", "7")
        assert_no_exception(page)
    finally:
        context.close()
