"""My handwriting in a real browser: draw a digit, correct the model's answer by typing, save,
and find the sample in the gallery of the My handwriting page; both exports download at once."""

from pathlib import Path

from digit_core.handwriting import HandwritingStore, read_npz, read_zip
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


def test_both_exports_download_when_clicked_in_quick_succession(page, server_url, handwriting_db):
    store = HandwritingStore(handwriting_db)
    if sum(store.counts()) < 2:  # the export buttons need a set; two made-up samples do
        for label in (3, 8):
            store.add(strokes_image(label), label)
    expected = sum(store.counts())
    page.goto(f"{server_url}/My_handwriting")
    npz = page.get_by_role("button", name="Download .npz (images, labels)")
    archive = page.get_by_role("button", name="Download .zip (PNGs + labels.csv)")
    expect(npz).to_be_visible(timeout=60_000)
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    # The second click comes well within 0.3 s of the first, as an impatient user's would.
    npz.click()
    archive.click()
    page.wait_for_timeout(3_000)
    assert sorted(d.suggested_filename for d in downloads) == ["handwriting.npz", "handwriting.zip"]
    paths = {d.suggested_filename: d.path() for d in downloads}
    _, labels = read_npz(Path(paths["handwriting.npz"]).read_bytes())
    assert len(labels) == expected
    assert len(read_zip(Path(paths["handwriting.zip"]).read_bytes())[1]) == expected
    assert_no_exception(page)


def strokes_image(label: int):
    """A 28x28 model input of the digit ``label`` drawn from the stroke templates."""
    from digit_core.preprocess import to_mnist

    return to_mnist(strokes.draw_digit(label, STYLE))
