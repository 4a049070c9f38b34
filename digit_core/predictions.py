"""What a prediction means to a person: the digit, how sure, and the runner-up; and the results
of a batch of uploaded files, ready to show and to download."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .preprocess import ImageError, Prepared, load_image, prepare

if TYPE_CHECKING:  # the exports need no TensorFlow
    import keras

DEFAULT_THRESHOLD = 0.7  # below this confidence the app says it is not sure
# For a failure no check foresaw: said as such, so that it is reported rather than mistaken for a
# verdict on the file.
UNEXPECTED = "the file could not be processed because of an unexpected problem; please report it"


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image; ``probabilities`` is ``(10,) float32``."""

    probabilities: np.ndarray

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.digit])

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])

    def unsure(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.confidence < threshold


def predict_prepared(model: keras.Model, prepared: list[Prepared]) -> list[Prediction]:
    """One :class:`Prediction` per prepared image, in one batched model call."""
    from .inference import predict  # TensorFlow only when predicting, not for the exports

    if not prepared:
        return []
    probabilities = predict(model, np.stack([p.image for p in prepared]))
    return [Prediction(row) for row in probabilities]


@dataclass(frozen=True)
class UploadResult:
    """One uploaded file: its prediction, or the reason there is none."""

    name: str
    prepared: Prepared | None = None
    prediction: Prediction | None = None
    error: str | None = None


def prepare_upload(data: object) -> tuple[Prepared | None, str | None]:
    """One uploaded file (anything :func:`load_image` takes) -> ``(prepared, error)``.

    ``error`` says why there is no prediction to make, in the words the page shows: the file is
    not a decodable image within the limits (see :mod:`digit_core.imagefile`; ``prepared`` is
    None then), it is blank, or its ink does not look like a digit
    (:func:`digit_core.digitness.not_a_digit`: noise, specks, a solid block, text).
    """
    try:
        prepared = prepare(load_image(data))
    except ImageError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the batch
        return None, f"{UNEXPECTED} ({type(exc).__name__}: {exc})"
    if prepared.blank:
        return prepared, "the image is blank: no ink was found"
    return prepared, prepared.not_a_digit


def predict_uploads(model: keras.Model, files: list[tuple[str, bytes]]) -> list[UploadResult]:
    """Prepare (:func:`prepare_upload`) and predict each ``(name, data)``; a bad file gets its own
    message and never stops the others. Everything happens in memory."""
    results: list[UploadResult | None] = []
    ready: list[tuple[int, Prepared]] = []
    for name, data in files:
        prepared, error = prepare_upload(data)
        if error is not None:
            results.append(UploadResult(name, prepared, error=error))
            continue
        assert prepared is not None  # no error means a prepared image
        ready.append((len(results), prepared))
        results.append(None)
    for (index, prepared), prediction in zip(ready, predict_prepared(model, [p for _, p in ready])):
        results[index] = UploadResult(files[index][0], prepared, prediction)
    done = [result for result in results if result is not None]
    assert len(done) == len(files)  # every place is filled by now
    return done


def _rows(results: list[UploadResult]) -> list[dict]:
    rows = []
    for result in results:
        row: dict[str, object] = {
            "file": result.name,
            "digit": None,
            "confidence": None,
            "error": result.error,
        }
        if result.prediction is not None:
            row.update(digit=result.prediction.digit, confidence=round(result.prediction.confidence, 6))
            row.update({f"p{d}": round(float(p), 6) for d, p in enumerate(result.prediction.probabilities)})
        rows.append(row)
    return rows


def results_table(results: list[UploadResult]) -> list[dict]:
    """One dict per file: file, digit, confidence, error (for display)."""
    return [{k: row[k] for k in ("file", "digit", "confidence", "error")} for row in _rows(results)]


def results_csv(results: list[UploadResult]) -> str:
    """CSV with a header: file, digit, confidence, error, p0..p9 (empty where a file failed)."""
    columns = ["file", "digit", "confidence", "error"] + [f"p{d}" for d in range(10)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in _rows(results):
        cells = {k: "" if row.get(k) is None else row[k] for k in columns}
        # A file name opening a spreadsheet formula is written as text, not run.
        if str(cells["file"]).startswith(("=", "+", "-", "@")):
            cells["file"] = "'" + cells["file"]
        writer.writerow(cells)
    return out.getvalue()


def result_record(result: UploadResult) -> dict:
    """One file as JSON-ready data: ``file`` and ``error``, or ``file``, ``digit``, ``confidence``
    and ``probabilities`` (what the download and the command line give)."""
    if result.prediction is None:
        return {"file": result.name, "error": result.error}
    return {
        "file": result.name,
        "digit": result.prediction.digit,
        "confidence": round(result.prediction.confidence, 6),
        "probabilities": [round(float(p), 6) for p in result.prediction.probabilities],
    }


def results_json(results: list[UploadResult]) -> str:
    """A JSON list of :func:`result_record` per file."""
    return json.dumps([result_record(result) for result in results], indent=1)
