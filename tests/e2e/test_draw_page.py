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
    new_context,
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
    context = new_context(browser, viewport={"width": 1000, "height": 1000}, has_touch=True)
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


PHONE = {"width": 390, "height": 844}
NUMBER_STYLE = strokes.Style(size=200, height=0.7, width=18)
SHOTS_ENV = "DIGIT_SCREENSHOTS"  # a folder: the tests below save screenshots of the new views there


def shot(page, name: str, locator=None) -> None:
    import os

    folder = os.environ.get(SHOTS_ENV)
    if folder:
        (locator or page).screenshot(path=f"{folder}/{name}.png")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    wait_idle(page)


def test_a_drawn_digit_shows_feature_maps_for_each_conv_block_and_the_anns_templates(page, server_url):
    open_draw_page(page, server_url)
    draw(page, "draw_canvas", strokes.place(6, STYLE))
    settled_metric(page, SINGLE, "Prediction", "6")
    open_tab(page, "Inside the CNN")
    for block in (1, 2):
        grid = page.locator(f".st-key-draw_block_{block} img")
        expect(grid).to_be_visible()
        assert grid.bounding_box()["width"] > 100  # a grid of maps, not an icon
    expect(page.locator(".st-key-draw_inside_cnn")).to_contain_text("Convolution block 2")
    expect(page.locator(".st-key-draw_block_3")).to_have_count(0)  # the shipped CNN has two blocks
    shot(page, "inside_cnn", page.locator(".st-key-draw_inside_cnn"))
    open_tab(page, "Inside the ANN")
    expect(page.locator(".st-key-draw_templates img")).to_be_visible()
    expect(page.locator(".st-key-draw_hidden_1 img")).to_be_visible()
    expect(page.locator(".st-key-draw_inside_ann")).to_contain_text("ink here raises it")
    shot(page, "inside_ann", page.locator(".st-key-draw_inside_ann"))
    assert_no_exception(page)


def test_compare_mode_shows_two_saliency_maps(page, server_url):
    open_draw_page(page, server_url)
    page.locator(".st-key-draw_compare label").click()
    wait_idle(page)
    draw(page, "draw_canvas", strokes.place(3, STYLE))
    expect(page.locator(f'{SINGLE} [data-testid="stMetricValue"]')).to_have_count(2, timeout=ANSWER_MS)
    wait_idle(page)
    saliency = page.locator(".st-key-draw_saliency")
    expect(saliency.get_by_text("Why the ANN said so: integrated gradients")).to_be_visible()
    expect(saliency.get_by_text("Why the CNN said so: Grad-CAM")).to_be_visible()
    expect(saliency.locator("img")).to_have_count(5)  # the input, two maps and their two legends
    shot(page, "saliency_both", saliency)
    assert_no_exception(page)


def set_slider(page, key: str, presses: int) -> None:
    thumb = page.locator(f".st-key-{key} input[type='range']")
    thumb.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    wait_idle(page)
    page.wait_for_timeout(300)
    wait_idle(page)


def test_shifting_the_drawing_changes_the_anns_answer_before_the_cnns(page, server_url):
    open_draw_page(page, server_url)
    draw(page, "draw_canvas", strokes.place(6, STYLE))
    settled_metric(page, SINGLE, "Prediction", "6")
    open_tab(page, "Move, turn, thicken")
    answers = page.locator('.st-key-draw_robust_answers [data-testid="stMetricValue"]')
    expect(answers).to_have_text(["6", "6"], timeout=ANSWER_MS)
    readings = []
    for _ in range(6):
        set_slider(page, "draw_shift_x", 1)
        readings.append(answers.all_inner_texts())
    shot(page, "robustness", page.locator(".st-key-draw_robustness"))
    first_ann = next((i for i, (ann, _) in enumerate(readings) if ann != "6"), len(readings))
    first_cnn = next((i for i, (_, cnn) in enumerate(readings) if cnn != "6"), len(readings))
    assert first_ann < len(readings) and first_ann < first_cnn, readings
    assert_no_exception(page)


def test_a_touching_4_and_7_read_47(page, server_url):
    open_draw_page(page, server_url)
    open_tab(page, "A number")
    # 60 px between the digits' centres: the 4's arm runs into the 7.
    draw(page, "draw_number_canvas", strokes.place(4, NUMBER_STYLE), offset=(170, 0))
    draw(page, "draw_number_canvas", strokes.place(7, NUMBER_STYLE), offset=(230, 0))
    settled_metric(page, NUMBER, "Number", "47")
    expect(page.locator(NUMBER)).to_contain_text("Some digits touched")
    assert_no_exception(page)


def toolbar_shown(page, key: str) -> None:
    """The canvas's undo, redo and clear are fully opaque without any hover (within a second)."""
    toolbar = page.locator(f".st-key-{key} .dc-toolbar")
    expect(toolbar).to_have_css("opacity", "1", timeout=2_000)


def test_at_desktop_size_the_canvas_buttons_show_without_hover_and_cover_no_caption(page, server_url):
    open_draw_page(page, server_url)
    page.mouse.move(5, 5)  # nowhere near the canvas
    toolbar_shown(page, "draw_canvas")
    toolbar = page.locator(".st-key-draw_canvas .dc-toolbar").bounding_box()
    caption = page.get_by_text("Draw one digit with the mouse").bounding_box()
    assert caption["y"] + caption["height"] <= toolbar["y"]  # must not: lie over the caption
    shot(page, "desktop_single")


@pytest.fixture
def phone(browser):
    context = new_context(browser, viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def test_on_a_phone_the_whole_number_canvas_is_reachable_and_clear_can_be_tapped(phone, server_url):
    page = phone
    open_draw_page(page, server_url)
    open_tab(page, "A number")
    surface = canvas(page, "draw_number_canvas")
    expect(surface).to_be_visible()
    # The page reports its width, and the canvas is redrawn to fit.
    page.wait_for_function(
        """() => { for (const el of document.querySelectorAll('.st-key-draw_number_canvas *')) {
                     const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.upper-canvas');
                     if (c) return c.getBoundingClientRect().right <= window.innerWidth; }
                   return false; }""",
        timeout=ANSWER_MS,
    )
    wait_idle(page)
    box = surface.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"]  # must not: need a sideways scroll to reach the canvas
    toolbar_shown(page, "draw_number_canvas")
    caption = page.get_by_text("Write a number.").bounding_box()
    toolbar = page.locator(".st-key-draw_number_canvas .dc-toolbar").bounding_box()
    assert caption["y"] + caption["height"] <= toolbar["y"]
    # Two digits across the canvas, the second near its right edge: all of it takes ink.
    style = strokes.Style(size=140, height=0.7, width=14)
    draw(page, "draw_number_canvas", strokes.place(1, style), offset=(40, 30))
    draw(page, "draw_number_canvas", strokes.place(7, style), offset=(box["width"] - 150, 30))
    settled_metric(page, NUMBER, "Number", "17")
    shot(page, "phone_number")
    page.locator(f".st-key-draw_number_canvas {RESET}").tap()
    expect(page.locator(NUMBER)).to_contain_text("Write a number", timeout=ANSWER_MS)
    wait_idle(page)
    assert_no_exception(page)
