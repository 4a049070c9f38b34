"""My handwriting in a real browser: draw a digit, correct the model's answer by typing, save,
and find the sample in the gallery of the My handwriting page."""

from digit_core.handwriting import HandwritingStore
from tests.support import strokes
from tests.support.browser import (
    SINGLE,
    STYLE,
    assert_no_exception,
    draw,
    expect,
    open_draw_page,
    settled_metric,
)


def test_a_corrected_drawing_is_saved_and_appears_in_the_gallery(page, server_url, handwriting_db):
    before = sum(HandwritingStore(handwriting_db).counts())
    open_draw_page(page, server_url)
    draw(page, "draw_canvas", strokes.place(7, STYLE))
    settled_metric(page, SINGLE, "Prediction", "7")

    # Say it is a 1 instead, from the keyboard.
    box = page.get_by_label("Not a 7? Type the right digit, then Enter")
    box.fill("1")
    box.press("Enter")
    expect(page.get_by_text("Saved as a 1 in your handwriting set")).to_be_visible()
    expect(page.get_by_role("button", name="✓ It is a 7: save it")).to_be_disabled()
    assert_no_exception(page)
    samples = HandwritingStore(handwriting_db).samples()
    assert len(samples) == before + 1 and (samples[0].label, samples[0].predicted) == (1, 7)

    page.get_by_role("link", name="My handwriting", exact=True).click()
    gallery = page.locator(".st-key-hw_gallery")
    expect(gallery).to_be_visible()
    expect(gallery.get_by_text("1 · said 7").first).to_be_visible()
    assert_no_exception(page)
