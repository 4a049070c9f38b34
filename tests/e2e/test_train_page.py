"""The Train page in a real browser: a short training on real MNIST keeps running while the user
goes to another page and reloads, its curves grow, and its test accuracy is reported."""

import re

from playwright.sync_api import expect

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

    # The curves grow: the per-batch loss first, then the per-epoch charts and table.
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(page.locator(".st-key-train_epoch_table")).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    expect(charts).to_have_count(3)

    result = page.locator(".st-key-train_result")
    expect(result).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Finished 4 epochs in \d+:\d\d"))).to_be_visible()
    accuracy = result.locator("[data-testid='stMetricValue']").first.inner_text()
    assert re.fullmatch(r"\d+\.\d\d%", accuracy), accuracy
    assert float(accuracy.rstrip("%")) > 90.0  # chance is 10 %; 4.5k images reach ~97 %
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
