"""The command line as users run it: a real ``python -m digit_core`` process on real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digit_core.config import ANNConfig
from digit_core.models import build_ann
from digit_core.registry import save_model
from tests.support import strokes

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env_extra=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "digit_core", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("registry")
    save_model(build_ann(ANNConfig(units=(8,))), "tiny", {"architecture": "ann"}, root=root)
    return root


def drawing_file(folder, digit, name=None):
    path = folder / (name or f"digit{digit}.png")
    Image.fromarray(strokes.draw_digit(digit, strokes.Style(width=18))).save(path)
    return path


def test_predict_prints_one_json_object_per_image_and_fails_on_a_bad_file(tiny_registry, tmp_path):
    good = [drawing_file(tmp_path, 3), drawing_file(tmp_path, 7)]
    bad = tmp_path / "notes.png"
    bad.write_text("not an image at all")
    missing = tmp_path / "missing.png"
    files = [good[0], bad, missing, good[1]]
    done = run_cli("--models-dir", tiny_registry, "predict", "--model", "tiny", *files)
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["file"] for row in rows] == [str(f) for f in files]
    for row in (rows[0], rows[3]):
        assert len(row["probabilities"]) == 10 and abs(sum(row["probabilities"]) - 1) < 1e-3
        assert row["digit"] == max(range(10), key=row["probabilities"].__getitem__)
        assert row["confidence"] == max(row["probabilities"])
    assert "not an image" in rows[1]["error"]
    assert "No such file" in rows[2]["error"]


def test_predict_reads_drawn_digits_with_the_shipped_cnn_and_exits_0(tmp_path):
    files = [drawing_file(tmp_path, digit) for digit in (1, 4, 7)]
    done = run_cli("predict", "--model", "cnn", *files)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["digit"] for line in done.stdout.splitlines()] == [1, 4, 7]


def test_blank_image_is_reported_as_an_error_not_a_guess(tiny_registry, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (100, 100), "white").save(blank)
    done = run_cli("--models-dir", tiny_registry, "predict", "--model", "tiny", blank)
    assert done.returncode == 1
    assert "blank" in json.loads(done.stdout)["error"]


def test_predict_with_an_unknown_model_says_how_to_train_one(tmp_path):
    done = run_cli("--models-dir", tmp_path, "predict", "--model", "nothere", drawing_file(tmp_path, 2))
    assert done.returncode == 2
    assert "python -m digit_core" in done.stderr and "train" in done.stderr


@pytest.mark.parametrize("name", ["../escape", "a/b", ""])
def test_train_refuses_unsafe_names_before_doing_any_work(tmp_path, name):
    done = run_cli("--models-dir", tmp_path, "train", "--arch", "ann", "--name", name, "--limit", "10")
    assert done.returncode == 2
    assert "invalid model name" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_train_refuses_to_replace_a_model_without_overwrite(tiny_registry):
    before = (tiny_registry / "tiny.keras").read_bytes()
    done = run_cli("--models-dir", tiny_registry, "train", "--arch", "ann", "--name", "tiny", "--limit", "10")
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert (tiny_registry / "tiny.keras").read_bytes() == before


def test_train_then_evaluate_then_list(mnist, tmp_path):
    env = {"DIGIT_DATA_DIR": os.environ.get("DIGIT_DATA_DIR", "")}
    done = run_cli(
        "--models-dir",
        tmp_path,
        "train",
        "--arch",
        "cnn",
        "--name",
        "quick",
        "--limit",
        "500",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--width",
        "0.5",
        env_extra=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    accuracy = float(done.stdout.split("test accuracy")[1].strip().rstrip("%")) / 100
    assert accuracy > 0.5
    card = json.loads((tmp_path / "quick.json").read_text())
    assert card["architecture"] == "cnn" and card["train_config"]["limit"] == 500
    assert card["command"][:3] == ["python", "-m", "digit_core"]
    assert abs(card["test_accuracy"] - accuracy) < 1e-4

    report = run_cli("--models-dir", tmp_path, "evaluate", "--model", "quick", env_extra=env)
    assert report.returncode == 0, report.stderr[-2000:]
    assert f"accuracy {accuracy:.4%}" in report.stdout
    assert len([line for line in report.stdout.splitlines() if line.strip()[:1].isdigit()]) == 10

    listing = run_cli("--models-dir", tmp_path, "list")
    assert "quick" in listing.stdout and "ok" in listing.stdout


def test_the_handwriting_set_moves_between_machines_and_a_bad_archive_imports_nothing(tmp_path):
    from digit_core.handwriting import HandwritingStore, fingerprint

    here = HandwritingStore(tmp_path / "here.sqlite")
    for digit in range(10):
        image = np.zeros((28, 28), np.float32)
        image[digit + 5 : digit + 12, 8:20] = 1.0
        here.add(image, digit)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    exported = run_cli("collect-export", "--db", tmp_path / "here.sqlite", tmp_path / "set.zip")
    assert exported.returncode == 0, exported.stderr
    imported = run_cli(
        "collect-import", "--db", tmp_path / "there.sqlite", tmp_path / "set.zip", tmp_path / "broken.zip"
    )
    assert imported.returncode == 1  # one archive failed
    assert "set.zip: 10 added, 0 already there" in imported.stderr
    assert "broken.zip: nothing imported" in imported.stderr
    there = HandwritingStore(tmp_path / "there.sqlite")
    assert fingerprint(*there.arrays()) == fingerprint(*here.arrays())
    again = run_cli("collect-import", "--db", tmp_path / "there.sqlite", tmp_path / "set.zip")
    assert again.returncode == 0 and "set.zip: 0 added, 10 already there" in again.stderr
    assert fingerprint(*there.arrays()) == fingerprint(*here.arrays())
