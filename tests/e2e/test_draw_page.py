"""The Draw & Predict page in a real browser: digits drawn with the mouse, a number, uploads.

The strokes are tests.support.strokes templates replayed with the mouse on the drawable canvas, so
what the CNN is shown went through the real component, its PNG round trip and the page's code.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support import strokes
from tests.support.browser import (
    ANSWER_MS,
    NUMBER,
    PROMPT,
    RESET,
    SINGLE,
    SINGLE_VALUE,
    STYLE,
    assert_no_exception,
    canvas,
    draw,
    expect,
    open_draw_page,
    settled_metric,
    wait_idle,
)
from tests.support.server import interpolate

pytestmark = pytest.mark.e2e

# Digits the shipped CNN reads surely from these templates at this style.
DIGITS = (1, 3, 7)


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
