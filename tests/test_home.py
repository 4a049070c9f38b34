"""The home page through Streamlit's AppTest: lists models, explains what to do when there are none."""

import subprocess
import sys

from streamlit.testing.v1 import AppTest

from digit_core.config import ANNConfig
from digit_core.models import build_ann
from digit_core.registry import MODELS_DIR_ENV, save_model
from tests.support.helpers import ENTRY

HOME = ENTRY  # Home.py opens the home page by default


def run_home(monkeypatch, models_dir):
    monkeypatch.setenv(MODELS_DIR_ENV, str(models_dir))
    return AppTest.from_file(HOME, default_timeout=60).run()


def test_home_lists_each_model_with_its_accuracy(monkeypatch, tmp_path):
    save_model(
        build_ann(ANNConfig(units=(4,))),
        "ann",
        {"architecture": "ann", "test_accuracy": 0.9876, "parameters": 3194, "created": "2026-11-22T10:00"},
        root=tmp_path,
    )
    at = run_home(monkeypatch, tmp_path)
    assert not at.exception
    assert [h.value for h in at.subheader] == ["ann"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"MNIST test accuracy": "98.76%", "Parameters": "3,194"}
    assert not at.warning and not at.error  # must not: complain when the models are fine


def test_home_without_models_says_how_to_train_one(monkeypatch, tmp_path):
    at = run_home(monkeypatch, tmp_path / "empty")
    assert not at.exception
    assert "python -m digit_core train" in at.warning[0].value


def test_home_shows_a_broken_model_with_its_reason_and_keeps_the_others(monkeypatch, tmp_path):
    save_model(
        build_ann(ANNConfig(units=(4,))), "good", {"architecture": "ann", "test_accuracy": 0.9}, root=tmp_path
    )
    (tmp_path / "bad.keras").write_bytes(b"garbage")
    (tmp_path / "bad.json").write_text("{not json")
    at = run_home(monkeypatch, tmp_path)
    assert not at.exception
    assert sorted(h.value for h in at.subheader) == ["bad", "good"]
    assert "not a .keras archive" in at.error[0].value


def test_home_page_does_not_import_tensorflow():
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({HOME!r}).run(); assert not at.exception; "
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
