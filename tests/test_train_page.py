"""The Train page through AppTest: a real (tiny) training in the background, its live metrics,
saving under a checked name, the runs table, stopping, and a second user who may only watch."""

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from digit_core import data, registry
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.jobs import RUNNER, STOPPED
from digit_core.preprocess import to_mnist
from tests.support import strokes
from tests.support.app_setup import STREAMLIT_CLEAN_UP
from tests.support.helpers import ENTRY, block, elements, script, write_idx
from ui.navigation import DRAW, TRAIN

ROOT = Path(__file__).resolve().parent.parent
PAGE = script(TRAIN)
WAIT_S = 240  # upper bound for a tiny run on a busy 2-core machine, not a speed check


@pytest.fixture(scope="module")
def drawn_mnist(tmp_path_factory):
    """An MNIST-format folder of our own drawn digits: 400 to train on, 200 to test."""
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("drawn_mnist")
    for split, count in (("train", 400), ("t10k", 200)):
        labels = np.arange(count) % 10
        images = np.stack(
            [(to_mnist(strokes.draw_digit(d, strokes.random_style(rng), rng)) * 255).round() for d in labels]
        ).astype(np.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture
def env(monkeypatch, tmp_path, drawn_mnist):
    """A registry holding a copy of the shipped ANN, and the drawn data set as MNIST."""
    for suffix in (".keras", ".json"):
        shutil.copy(ROOT / "models" / f"ann{suffix}", tmp_path / f"ann{suffix}")
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(drawn_mnist))
    yield tmp_path
    running = RUNNER.running()
    if running is not None:  # never leave a job behind for the next test
        running.stop()
        running.join(WAIT_S)


def start(epochs: int, batch_size: int = 64) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    at.radio(key="train_arch").set_value("ann")
    at.number_input(key="train_epochs").set_value(epochs)
    at.select_slider(key="train_batch_size").set_value(batch_size)
    at.select_slider(key="train_subset").set_value("all")
    at.text_input(key="train_owner").set_value("Ada")
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    return at


def has_block(at, key: str) -> bool:
    try:
        block(at, key)
        return True
    except AssertionError:
        return False


def run_until(at: AppTest, key: str) -> AppTest:
    """Rerun the page (as the live view does) until the container ``key`` appears."""
    deadline = time.monotonic() + WAIT_S
    while not has_block(at, key):
        assert time.monotonic() < deadline, f"{key!r} never appeared"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    return at


def test_a_short_training_shows_its_epochs_and_is_saved_under_a_checked_name(env, drawn_mnist):
    at = start(epochs=2)
    job = RUNNER.get(at.session_state["train_job"])
    assert job is not None and at.query_params["job"] == job.id
    run_until(at, "train_result")
    snap = job.snapshot()

    # Per-epoch metrics: one table row per epoch, with validation figures.
    table = elements(block(at, "train_epoch_table"), "Dataframe")[0].value
    assert list(table["epoch"]) == [1, 2] and table["val_accuracy"].notna().all()
    # The reported accuracy is the trained model's own on the test split.
    mnist = data.load_mnist(download=False)
    expected = evaluate(predict(job.run.result.model, mnist.test_images), mnist.test_labels).accuracy
    shown = {m.label: m.value for m in elements(block(at, "train_result"), "Metric")}
    assert shown["Test accuracy"] == f"{expected:.2%}" and expected > 0.5
    assert shown["Shipped ANN"] == f"{snap.baseline_accuracy:.2%}"
    assert shown["Parameters"] == f"{job.run.result.model.count_params():,}"

    before = sorted(p.name for p in env.iterdir())
    for bad, reason in (("../escape", "invalid model name"), ("ann", "shipped default")):
        at.text_input(key="train_name").set_value(bad)
        at.button(key="train_save").click().run()
        assert any(reason in e.value for e in at.error), [e.value for e in at.error]
        assert sorted(p.name for p in env.iterdir()) == before  # must not: write anything

    at.text_input(key="train_name").set_value("my-ann")
    at.checkbox(key="train_make_default").check()
    at.button(key="train_save").click().run()
    assert not at.exception and not at.error
    assert any("Saved as" in s.value for s in at.success)
    runs = elements(block(at, "train_runs"), "Dataframe")[0].value
    row = runs[runs["name"] == "my-ann"].iloc[0]
    assert row["test accuracy"] == pytest.approx(expected) and bool(row["default"])
    assert registry.default_model() == "my-ann"
    assert RUNNER.get(job.id) is None and "job" not in at.query_params  # the run was handed over
    assert at.button(key="train_start")  # back to the settings


def test_an_existing_name_is_kept_unless_replacing_is_ticked(env):
    at = run_until(start(epochs=1), "train_result")
    registry.save_model(registry.load_model("ann"), "taken", {"architecture": "ann", "note": "old"})
    at.text_input(key="train_name").set_value("taken")
    at.button(key="train_save").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert registry.read_card("taken")["note"] == "old"
    at.checkbox(key="train_overwrite").check()
    at.button(key="train_save").click().run()
    assert not at.exception
    assert "note" not in registry.read_card("taken")


def test_stop_ends_a_running_training_and_keeps_its_best_weights(env):
    at = start(epochs=50, batch_size=32)
    job = RUNNER.get(at.session_state["train_job"])
    deadline = time.monotonic() + WAIT_S
    while not job.snapshot().history:  # let one epoch finish, then stop
        assert time.monotonic() < deadline
        time.sleep(0.2)
    at.run()
    assert has_block(at, "train_live") and job.running
    at.button(key="train_stop").click().run()
    assert not at.exception
    run_until(at, "train_result")
    snap = job.snapshot()
    assert snap.state == STOPPED and 1 <= len(snap.history) < 50
    assert any("Stopped after" in w.value for w in at.warning)


def test_a_second_user_watches_the_running_training_but_cannot_stop_or_start(env):
    owner = start(epochs=50, batch_size=32)
    job = RUNNER.get(owner.session_state["train_job"])
    other = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not other.exception
    assert any("Ada" in i.value and "One training runs at a time" in i.value for i in other.info)
    assert has_block(other, "train_live")
    assert not [b for b in other.button if b.key in ("train_stop", "train_start")]
    job.stop()
    assert job.join(WAIT_S)
    other.run()
    assert other.button(key="train_start")  # the settings are back when it ends


def test_the_runs_table_protects_the_shipped_models_and_deletes_others(env):
    registry.save_model(registry.load_model("ann"), "old-run", {"architecture": "ann"})
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    runs = elements(block(at, "train_runs"), "Dataframe")[0].value
    assert list(runs["name"]) == ["ann", "old-run"]
    at.selectbox(key="train_pick").set_value("ann").run()
    assert at.button(key="train_delete").disabled  # must not: offer to delete a shipped default
    at.selectbox(key="train_pick").set_value("old-run").run()
    at.button(key="train_delete").click().run()
    assert not at.exception
    assert not (env / "old-run.keras").exists() and (env / "ann.keras").exists()
    assert list(elements(block(at, "train_runs"), "Dataframe")[0].value["name"]) == ["ann"]


def test_a_failed_training_shows_its_error_and_saves_nothing(env, monkeypatch):
    import digit_core.pipeline

    def explode(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(digit_core.pipeline, "train_on_mnist", explode)
    at = start(epochs=1)
    job = RUNNER.get(at.session_state["train_job"])
    assert job.join(WAIT_S)
    at.run()
    assert not at.exception
    assert any("out of memory" in e.value and "registry is unchanged" in e.value for e in at.error)
    assert sorted(p.name for p in env.iterdir() if not p.name.startswith(".")) == ["ann.json", "ann.keras"]
    at.button(key="train_back").click().run()
    assert at.button(key="train_start")


def test_the_default_chosen_here_is_where_the_other_pages_start(env):
    registry.save_model(registry.load_model("ann"), "favourite", {"architecture": "ann"})
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.selectbox(key="train_pick").set_value("favourite").run()
    at.button(key="train_set_default").click().run()
    assert not at.exception
    assert any("now the default" in s.value for s in at.success)
    draw = AppTest.from_file(script(DRAW), default_timeout=120).run()
    assert not draw.exception and draw.selectbox(key="draw_model").value == "favourite"
    home = AppTest.from_file(ENTRY, default_timeout=60).run()
    assert not home.exception
    assert any("the default" in c.value for c in home.caption)


def test_fine_tuning_on_my_handwriting_shows_before_and_after_and_saves_a_new_model(env, monkeypatch):
    from digit_core.handwriting import DB_ENV, HandwritingStore
    from tests.support.datasets import sideways_writer

    store = HandwritingStore(env / "handwriting.sqlite")
    store.add_many(*sideways_writer(60))
    monkeypatch.setenv(DB_ENV, str(store.path))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="train_mode").set_value("Fine-tune a saved model on my handwriting").run()
    assert not at.exception
    assert any("measures on the other **20** of your digits" in c.value for c in at.caption)
    at.number_input(key="train_ft_epochs").set_value(2)
    at.select_slider(key="train_ft_mnist").set_value(1000)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    job = RUNNER.get(at.session_state["train_job"])
    run_until(at, "train_result")
    snap = job.snapshot()
    shown = {m.label: m for m in elements(block(at, "train_result"), "Metric")}
    held_out = shown["My handwriting (20 held-out digits)"]
    assert held_out.value == f"{snap.handwriting_after:.2%}"
    assert f"was {snap.handwriting_before:.2%}" in held_out.delta
    assert shown["MNIST test accuracy"].value == f"{snap.test_accuracy:.2%}"
    assert re.fullmatch(r"ann-mine-\d{4}-\d{4}", at.text_input(key="train_name").value)
    at.text_input(key="train_name").set_value("ann-mine")
    at.button(key="train_save").click().run()
    card = registry.read_card("ann-mine")
    assert card["fine_tuned_from"] == "ann" and card["handwriting"]["held_out"] == 20
    assert registry.read_card("ann").get("fine_tuned_from") is None  # must not: change the base model


def test_fine_tuning_waits_for_enough_handwriting(env, monkeypatch):
    from digit_core.handwriting import DB_ENV

    monkeypatch.setenv(DB_ENV, str(env / "empty.sqlite"))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="train_mode").set_value("Fine-tune a saved model on my handwriting").run()
    assert not at.exception
    assert any("has 0 samples" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "train_start"]


def test_a_run_the_server_no_longer_holds_is_explained_not_silently_dropped(env):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["job"] = "gone-after-a-restart"
    at.run()
    assert not at.exception
    assert any("no longer kept on this server" in w.value for w in at.warning)
    assert "job" not in at.query_params and at.button(key="train_start")


def test_a_page_run_leaves_the_keras_state_of_a_training_thread_alone(env, monkeypatch):
    import keras

    # Streamlit's own clean-up after every run, until the entry point sets the app up.
    monkeypatch.setattr(script_runner, "_clean_problem_modules", STREAMLIT_CLEAN_UP)
    at = AppTest.from_file(ENTRY, default_timeout=120).run()
    before = keras.layers.Dense(1).name  # Keras numbers unnamed layers from its global state
    at.switch_page(TRAIN.path).run()
    assert not at.exception and at.button(key="train_start")
    after = keras.layers.Dense(1).name
    # Streamlit's default clean-up after a run resets that state, which broke trainings running
    # in the background: the counter must go on, not start again.
    assert after != "dense" and after != before, (before, after)
