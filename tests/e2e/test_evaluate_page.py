"""The Evaluate page in a real browser: the heatmap is drawn and the shipped CNN's accuracy shown."""

from __future__ import annotations

import json

import pytest

from digit_core.registry import PROJECT_MODELS_DIR

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright").expect

LOAD_MS = 120_000  # the first visit imports TensorFlow and scores 10,000 images


def test_evaluate_page_shows_the_heatmap_and_the_cnn_accuracy(page, server_url):
    card = json.loads((PROJECT_MODELS_DIR / "cnn.json").read_text())
    page.goto(f"{server_url}/Evaluate")
    accuracy = page.locator('[data-testid="stMetric"]').filter(has_text="Accuracy").first
    expect(accuracy.locator('[data-testid="stMetricValue"]')).to_have_text(
        f"{card['test_accuracy']:.2%}", timeout=LOAD_MS
    )
    heatmap = page.locator('[data-testid="stVegaLiteChart"]').first
    # The page's run goes on meanwhile (the other tabs' work on a first visit): the chart is drawn
    # when the browser gets to it.
    expect(heatmap).to_be_visible(timeout=LOAD_MS)
    # The heatmap really drew its cells: vega renders the chart into a canvas or an svg.
    expect(heatmap.locator("canvas, svg").first).to_be_visible(timeout=LOAD_MS)
    expect(page.get_by_text("Confusion matrix", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_clicking_a_heatmap_cell_shows_that_cells_images(page, server_url, mnist):
    card = json.loads((PROJECT_MODELS_DIR / "cnn.json").read_text())
    count = card["confusion"][9][4]  # the CNN's nines read as fours on MNIST's test set
    page.goto(f"{server_url}/Evaluate")
    summary = page.get_by_text("test images of a").first
    expect(summary).to_be_visible(timeout=LOAD_MS)
    heatmap = page.locator('[data-testid="stVegaLiteChart"]').first
    # Vega labels each mark with its fields, which finds the cell without pixel arithmetic.
    heatmap.locator('[aria-label*="true: 9;"][aria-label*="predicted: 4;"]').first.click()
    expect(summary).to_have_text(f"{count} test images of a 9 predicted as 4", timeout=30_000)
    gallery = page.locator(".st-key-eval_cell img")
    expect(gallery).to_have_count(min(count, 40))
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_the_robustness_tab_draws_its_three_curves_with_progress(page, server_url, mnist):
    import os

    page.goto(f"{server_url}/Evaluate")
    tab = page.get_by_role("tab", name="Robustness", exact=True)
    expect(tab).to_be_visible(timeout=LOAD_MS)
    tab.click()
    page.locator(".st-key-eval_robustness label").click(timeout=LOAD_MS)  # after the other tabs' work
    charts = page.locator('.st-key-eval_robustness_charts [data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(3, timeout=LOAD_MS)
    for chart in charts.all():
        expect(chart.locator("canvas, svg").first).to_be_visible()
    if os.environ.get("DIGIT_SCREENSHOTS"):
        page.locator(".st-key-eval_robustness_charts").screenshot(
            path=f"{os.environ['DIGIT_SCREENSHOTS']}/eval_robustness.png"
        )
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
