"""Awkward files (tests/support/awkward_files.py) through the upload page's own code path, through the page
itself, and through the command line: each gets its digit or a message that says what is wrong
with it, never an exception or a traceback, and the next upload still works."""

import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digit_core.predictions import UNEXPECTED, predict_uploads
from digit_core.preprocess import MAX_IMAGE_BYTES, MAX_UPLOAD_MB
from digit_core.registry import load_model
from tests.support import strokes
from tests.support.awkward_files import BROWSER_MB, CORPUS, LARGE, make_corpus
from tests.support.helpers import script
from ui import widgets
from ui.navigation import DRAW

ROOT = Path(__file__).resolve().parent.parent
PAGE = script(DRAW)
NAMES = [name for name, *_ in CORPUS + LARGE]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """``(folder, {name: Case})``: every awkward file, the two large ones included."""
    folder = tmp_path_factory.mktemp("awkward")
    return folder, {case.name: case for case in make_corpus(folder)}


@pytest.fixture(scope="module")
def model():
    return load_model("cnn")


def read(corpus, name):
    folder, _ = corpus
    return name, (folder / name).read_bytes()


def assert_outcome(case, result):
    """``result`` is what ``case`` expects: its digit, or a specific message and no prediction."""
    assert result.name == case.name
    if case.digit is not None:
        assert result.error is None, f"{case.name} ({case.description}): {result.error}"
        assert result.prediction.digit == case.digit, f"{case.name} ({case.description})"
    else:
        assert result.prediction is None, f"{case.name} ({case.description}) got a digit"
        assert case.message in result.error, f"{case.name}: {result.error!r}"
        # Must not: a traceback, or the message kept for failures nobody foresaw.
        assert "Traceback" not in result.error and UNEXPECTED not in result.error


# The files the issue asks for by kind; the corpus has more.
REQUIRED = {
    "empty.png",
    "truncated.png",
    "truncated.jpg",
    "notes.png",
    "page.png",
    "drawing.svg",
    "scan.pdf",
    "bomb.png",
    "tiny_1x1.png",
    "strip_10000x50.png",
    "animated.gif",
    "grey16.png",
    "cmyk.jpg",
    "palette_transparent.png",
    "transparent.png",
    "white.png",
    "black.png",
    "noise.png",
    "exif_rotated.jpg",
    "large_scan.bmp",
    "photo_really_jpeg.gif",
}


def test_the_corpus_has_every_kind_of_awkward_file(corpus):
    _, cases = corpus
    assert len(cases) >= 30 and list(cases) == NAMES
    assert not REQUIRED - set(cases), "missing kinds of file"
    digits = [case for case in cases.values() if case.digit is not None]
    refusals = [case for case in cases.values() if case.message is not None]
    assert len(digits) >= 10 and len(refusals) >= 20
    assert len({case.message for case in refusals}) >= 15  # specific messages, not one catch-all


@pytest.mark.parametrize("name", NAMES)
def test_each_awkward_upload_gets_its_digit_or_a_specific_message(corpus, model, name):
    _, cases = corpus
    [result] = predict_uploads(model, [read(corpus, name)])
    assert_outcome(cases[name], result)


def test_all_awkward_files_in_one_batch_then_a_good_upload_still_works(corpus, model):
    _, cases = corpus
    results = predict_uploads(model, [read(corpus, name) for name in NAMES])
    assert [result.name for result in results] == NAMES
    for result in results:
        assert_outcome(cases[result.name], result)
    drawing = io.BytesIO()
    Image.fromarray(strokes.draw_digit(4, strokes.Style(width=18))).save(drawing, format="PNG")
    [after] = predict_uploads(model, [("four.png", drawing.getvalue())])
    assert after.error is None and after.prediction.digit == 4


def test_the_large_files_sit_just_either_side_of_the_size_limit(corpus):
    folder, _ = corpus
    near, over = (folder / "large_scan.bmp").stat().st_size, (folder / "too_big.png").stat().st_size
    # Under the limit however a browser counts "MB", and within 0.1% of it.
    assert 0.999 * 20 * BROWSER_MB < near < 20 * BROWSER_MB < MAX_IMAGE_BYTES
    assert over == MAX_IMAGE_BYTES + 1


def test_the_upload_size_limit_is_set_once_and_streamlit_agrees():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    # Streamlit's server refuses bodies over maxUploadSize * 2**20 bytes: the same limit as ours.
    assert MAX_IMAGE_BYTES == MAX_UPLOAD_MB * 2**20


# The uploader itself refuses a .svg name, so the SVG comes named .png.
NASTY = {
    "truncated.png": "damaged or truncated",
    "bomb.png": "too many pixels",
    "vector.png": "SVG (vector) drawing",
    "noise.png": "not look like a digit",
}


def test_the_upload_tab_names_each_bad_file_and_still_reads_the_good_one(corpus, monkeypatch):
    monkeypatch.setattr(widgets, "canvas_image_ui", lambda key, *args: None)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    files = [(*read(corpus, name), "image/png") for name in [*NASTY, "photo.jpg"]]
    at.file_uploader(key="draw_uploads").set_value(files).run()
    assert not at.exception  # must not: a traceback on the page
    # Names and messages are escaped for Markdown: compare the text as displayed.
    errors = [error.value.replace("\\", "") for error in at.error]
    assert len(errors) == len(NASTY)
    for error, (name, message) in zip(errors, NASTY.items()):
        assert error.startswith(f"{name}: ") and message in error
    table = at.dataframe[0].value
    assert table["file"].tolist() == [*NASTY, "photo.jpg"]
    assert table["digit"].tolist()[-1] == 3 and np.isnan(table["digit"].tolist()[:-1]).all()


def run_predict(*files):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "digit_core", "predict", *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )


def test_the_command_line_reports_each_file_and_fails_when_any_file_failed(corpus):
    folder, cases = corpus
    names = NAMES
    done = run_predict(*(folder / name for name in names))
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["file"] for row in rows] == [str(folder / name) for name in names]
    for name, row in zip(names, rows):
        case = cases[name]
        if case.digit is not None:
            assert row["digit"] == case.digit and "error" not in row, f"{name}: {row}"
        else:
            assert case.message in row["error"] and "digit" not in row, f"{name}: {row}"


def test_the_command_line_exits_0_when_every_file_is_a_readable_digit(corpus):
    folder, cases = corpus
    names = ["canvas.png", "photo_really_jpeg.gif", "exif_rotated.jpg", "strip_10000x50.png"]
    done = run_predict(*(folder / name for name in names))
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert [json.loads(line)["digit"] for line in done.stdout.splitlines()] == [
        cases[name].digit for name in names
    ]


def test_the_corpus_script_writes_the_files_to_a_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.awkward_files", str(tmp_path / "out"), "--no-large"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == sorted(name for name, *_ in CORPUS)
    assert "drawing.svg" in done.stdout and "SVG (vector) drawing" in done.stdout
