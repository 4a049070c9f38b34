"""Predictions as the page shows them, and uploads: per-file results, errors, CSV and JSON."""

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from digit_core import predictions
from digit_core.config import ANNConfig
from digit_core.models import build_ann
from digit_core.predictions import (
    UNEXPECTED,
    Prediction,
    predict_uploads,
    results_csv,
    results_json,
    results_table,
)
from tests.support import strokes


def test_prediction_names_digit_confidence_and_runner_up():
    probabilities = np.array([0.01, 0.02, 0.05, 0.5, 0.02, 0.3, 0.02, 0.03, 0.03, 0.02], np.float32)
    prediction = Prediction(probabilities)
    assert (prediction.digit, prediction.runner_up) == (3, 5)
    assert prediction.confidence == pytest.approx(0.5)
    assert prediction.unsure(0.7) and not prediction.unsure(0.4)


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def uploads():
    model = build_ann(ANNConfig(units=(8,)))
    files = [
        ("two.png", png(strokes.draw_digit(2, strokes.Style(width=18)))),
        ("notes.png", b"this is text, not a picture"),
        ("blank.png", png(np.full((50, 50, 3), 255, np.uint8))),
        (
            "six.png",
            png(
                strokes.draw_digit(6, strokes.Style(width=18), ink=(0, 0, 0, 255), paper=(255, 255, 255, 255))
            ),
        ),
    ]
    return predict_uploads(model, files)


def test_each_upload_gets_a_result_in_order_and_bad_files_their_own_message(uploads):
    assert [r.name for r in uploads] == ["two.png", "notes.png", "blank.png", "six.png"]
    good = [uploads[0], uploads[3]]
    assert all(r.error is None and r.prediction is not None for r in good)
    assert all(r.prediction.probabilities.shape == (10,) for r in good)
    assert "not an image" in uploads[1].error and uploads[1].prediction is None
    assert "blank" in uploads[2].error and uploads[2].prediction is None


def test_results_table_csv_and_json_agree(uploads):
    table = results_table(uploads)
    assert [row["file"] for row in table] == ["two.png", "notes.png", "blank.png", "six.png"]
    rows = list(csv.DictReader(io.StringIO(results_csv(uploads))))
    assert list(rows[0]) == ["file", "digit", "confidence", "error"] + [f"p{d}" for d in range(10)]
    items = json.loads(results_json(uploads))
    for row, item, result in zip(rows, items, uploads):
        assert row["file"] == item["file"] == result.name
        if result.prediction is None:
            assert row["digit"] == "" and row["error"] == item["error"] == result.error
        else:
            assert int(row["digit"]) == item["digit"] == result.prediction.digit
            assert float(row["p3"]) == pytest.approx(item["probabilities"][3], abs=1e-6)
            assert sum(item["probabilities"]) == pytest.approx(1, abs=1e-4)


def test_csv_does_not_let_a_file_name_start_a_spreadsheet_formula():
    rows = list(csv.DictReader(io.StringIO(results_csv(predict_uploads(None, [("=SUM(A1).png", b"x")])))))
    assert rows[0]["file"] == "'=SUM(A1).png" and "not an image" in rows[0]["error"]


def test_an_unforeseen_failure_is_reported_for_its_file_and_the_others_are_still_predicted(monkeypatch):
    real = predictions.prepare

    def prepare_failing_on_50px(image):
        if image.shape[:2] == (50, 50):
            raise RuntimeError("boom")
        return real(image)

    monkeypatch.setattr(predictions, "prepare", prepare_failing_on_50px)
    files = [
        ("odd.png", png(np.zeros((50, 50), np.uint8))),
        ("two.png", png(strokes.draw_digit(2, strokes.Style(width=18)))),
    ]
    odd, two = predict_uploads(build_ann(ANNConfig(units=(8,))), files)
    assert odd.prediction is None and odd.error == f"{UNEXPECTED} (RuntimeError: boom)"
    assert two.error is None and two.prediction.probabilities.shape == (10,)
