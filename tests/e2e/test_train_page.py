"""The Train page in a real browser: a short training on real MNIST keeps running while the user
goes to another page and reloads, its curves grow, and its test accuracy is reported; a race of
the ANN against the CNN on 1k images, watched: readable charts, a strip of digits whose guesses
change as the networks learn, and both curves on shared charts."""

import contextlib
import io
import re
import time

import numpy as np
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from ui.charts import RUN_COLOURS

TRAINING_TIMEOUT_MS = 300_000  # an upper bound on a busy 2-core machine, not a speed check
STARTUP_TIMEOUT_MS = 180_000  # Ray's start on first use, a worker process, TensorFlow's import


def test_a_training_survives_page_switches_and_reloads_and_reports_its_accuracy(page, server_url, mnist):
    page.goto(f"{server_url}/Train")
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=60_000)
    # A small CNN run: 5k images (one step left of 20k), 4 epochs.
    page.get_by_role("slider", name="Training images").press("ArrowLeft")
    expect(page.get_by_role("slider", name="Training images")).to_have_attribute("aria-valuetext", "5k")
    page.get_by_role("spinbutton", name="Epochs").fill("4")
    page.get_by_role("spinbutton", name="Epochs").press("Enter")
    expect(page.get_by_text("Trains on 4,500 images, validates on 500")).to_be_visible()
    start.click()

    # Queued while the server's Ray starts and then the worker, then training.
    expect(page.get_by_text(re.compile("Your CNN is (queued|training)"))).to_be_visible()
    training = page.get_by_text("Your CNN is training")
    expect(page.get_by_text(re.compile(r"Epoch 1 of 4 · batch \d+ of 18"))).to_be_visible(
        timeout=STARTUP_TIMEOUT_MS
    )
    expect(training).to_be_visible()

    # Away to another page and back: the same session finds its job still running.
    sidebar = page.get_by_test_id("stSidebarNav")  # Home's cards link to the pages too
    sidebar.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Digit Lab"))).to_be_visible()
    expect(training).to_have_count(0)
    sidebar.get_by_role("link", name="Train", exact=True).click()
    expect(training).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.get_by_role("button", name="Start training")).to_have_count(0)

    # A reload starts a new session: the job is found again through the page's URL.
    page.reload()
    expect(training).to_be_visible(timeout=60_000)
    assert "job=" in page.url

    # The curves grow: the per-batch loss first, then the per-epoch charts and table, and the
    # validation confusion matrix.
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(page.locator(".st-key-train_epoch_table")).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    expect(charts).to_have_count(4)

    result = page.locator(".st-key-train_result")
    expect(result).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Finished 4 epochs in \d+:\d\d"))).to_be_visible()
    accuracy = result.locator("[data-testid='stMetricValue']").first.inner_text()
    assert re.fullmatch(r"\d+\.\d\d%", accuracy), accuracy
    assert float(accuracy.rstrip("%")) > 90.0  # chance is 10 %; 4.5k images reach ~97 %
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)


WHEN = re.compile(r"at batch [\d,]+ \(epoch \d+\)")


def pixels_near(image: np.ndarray, colour: str, tolerance: int = 40) -> int:
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image[..., :3].astype(int) - target).sum(axis=-1) < tolerance).sum())


def test_a_race_on_1k_images_is_watched_on_readable_charts_with_strips_that_change(page, server_url, mnist):
    page.goto(f"{server_url}/Train")
    race = page.get_by_role("button", name="Race ANN vs CNN")
    expect(race).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"Estimated time: about \d+:\d\d"))).to_be_visible()
    images = page.get_by_role("slider", name="Training images")
    for _ in range(2):  # 20k -> 5k -> 1k
        images.press("ArrowLeft")
    expect(images).to_have_attribute("aria-valuetext", "1k")
    batch = page.get_by_role("slider", name="Batch size")
    for _ in range(3):  # 256 -> 128 -> 64 -> 32: 29 batches an epoch, to watch
        batch.press("ArrowLeft")
    expect(batch).to_have_attribute("aria-valuetext", "32")
    page.get_by_role("spinbutton", name="Epochs").fill("3")
    page.get_by_role("spinbutton", name="Epochs").press("Enter")
    expect(page.get_by_text("Trains on 900 images, validates on 100")).to_be_visible()
    race.click()
    expect(page.get_by_text(re.compile("the race is on"))).to_be_visible()

    # The strips, read while both train: what they say was read right and misread changes as the
    # networks learn (the batch number aside, which changes anyway).
    seen: dict[str, set[str]] = {"cnn": set(), "ann": set()}
    ended = page.locator(".st-key-train_race_result")
    deadline = time.monotonic() + (STARTUP_TIMEOUT_MS + TRAINING_TIMEOUT_MS) / 1000
    while not ended.is_visible():
        assert time.monotonic() < deadline, "the race never ended"
        for arch, found in seen.items():
            strip = page.locator(f".st-key-train_strip_{arch}")
            if strip.count():
                with contextlib.suppress(PlaywrightError):  # redrawn while read
                    found.add(WHEN.sub("", strip.inner_text(timeout=2_000)))
        time.sleep(0.3)
    for arch, found in seen.items():
        readings = {text for text in found if " of 20" in text and "isread" in text}
        assert len(readings) >= 2, f"the {arch} strip never changed: {readings}"

    expect(ended.get_by_text(re.compile(r"^The (CNN|ANN) "))).to_be_visible()  # who won, at what cost
    # Readable charts: every training chart at least 200 px tall; both networks drawn on each.
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(charts.first).to_be_visible()
    for index in range(3):  # per batch, loss per epoch, accuracy per epoch
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        assert chart.bounding_box()["height"] >= 200
        drawn = np.asarray(Image.open(io.BytesIO(chart.screenshot())).convert("RGB"))
        for colour in RUN_COLOURS[:2]:
            assert pixels_near(drawn, colour) > 30, f"chart {index}: no curve in {colour}"
