"""The Train page through AppTest: a real (tiny) training in a Ray worker, its live metrics,
saving under a checked name, the runs table, stopping, several sessions training at once with the
rest queued, a killed worker, and the history after a restart."""

import os
import re
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digit_core import data, jobs, registry
from digit_core.config import ANNConfig, TrainConfig
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.jobs import FINISHED, LOST, QUEUED, RUNNER, STOPPED, TRAINING, Runner
from digit_core.jobstore import JobStore
from digit_core.preprocess import to_mnist
from digit_core.watching import strip_indices
from tests.support import strokes
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
def env(monkeypatch, tmp_path, drawn_mnist, ray_cluster):
    """A registry holding a copy of the shipped ANN, and the drawn data set as MNIST."""
    for suffix in (".keras", ".json"):
        shutil.copy(ROOT / "models" / f"ann{suffix}", tmp_path / f"ann{suffix}")
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(drawn_mnist))
    yield tmp_path
    running = [job for job in RUNNER._jobs.values() if job.running]
    for job in running:  # never leave a job behind for the next test
        job.stop()
    for job in running:
        job.join(WAIT_S)


def job_of(at: AppTest):
    """The job the session follows."""
    return RUNNER.get(at.session_state["train_job"])


def wait_for(job, condition, what: str):
    deadline = time.monotonic() + WAIT_S
    while not condition(job.snapshot()):
        assert time.monotonic() < deadline, f"{what} never came: the job is {job.snapshot().state}"
        time.sleep(0.2)
    return job.snapshot()


def start(epochs: int, batch_size: int = 64, name: str = "Ada") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    at.radio(key="train_arch").set_value("ann")
    at.number_input(key="train_epochs").set_value(epochs)
    at.select_slider(key="train_batch_size").set_value(batch_size)
    at.select_slider(key="train_subset").set_value("all")
    at.text_input(key="train_owner").set_value(name)
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
    job = job_of(at)
    assert job is not None and at.query_params["job"] == job.id
    run_until(at, "train_result")
    snap = job.snapshot()

    # Per-epoch metrics: one table row per epoch, with validation figures.
    table = elements(block(at, "train_epoch_table"), "Dataframe")[0].value
    assert list(table["epoch"]) == [1, 2] and table["val_accuracy"].notna().all()
    shown = {m.label: m.value for m in elements(block(at, "train_result"), "Metric")}
    assert shown["Test accuracy"] == f"{snap.test_accuracy:.2%}" and snap.test_accuracy > 0.5
    assert shown["Shipped ANN"] == f"{snap.baseline_accuracy:.2%}"
    assert shown["Parameters"] == f"{snap.parameters:,}"

    # Watching it learn: the strip's 20 test digits with the last guesses, the last epoch's
    # validation confusion, the settings in words, and a learning rate that reads 0 at the end.
    mnist = data.load_mnist(download=False)
    strip = strip_indices(mnist.test_labels)
    reading = snap.live["strip"]
    assert reading["epoch"] == 2 and len(reading["guesses"]) == 20
    right = sum(g == t for g, t in zip(reading["guesses"], mnist.test_labels[strip]))
    assert f"**{right} of 20** test digits read right" in text_of(block(at, "train_strip"))
    wrong = [
        f"{'an' if t == 8 else 'a'} {t} as {g}"
        for g, t in zip(reading["guesses"], mnist.test_labels[strip])
        if g != t
    ]
    said = [c.value for c in elements(block(at, "train_strip"), "Caption")]
    assert said == [f"Misread: {', '.join(wrong)}." if wrong else "None misread."]
    assert right / 20 == pytest.approx(
        evaluate(predict(job_model(job), mnist.test_images[strip]), mnist.test_labels[strip]).accuracy
    )
    confusion = snap.live["confusion"]
    assert (
        confusion["epoch"] == 2 and sum(map(sum, confusion["matrix"])) == snap.settings["validation images"]
    )
    assert "after epoch 2**: rows the true digit" in text_of(block(at, "train_confusion"))
    assert any(c.value.startswith("ANN with 2 hidden layers of 512 units · 2 epochs") for c in at.caption)
    assert list(table["learning_rate"])[-1] == "0"

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
    # The reported accuracy is that of the model that reached the registry, on the test split.
    mnist = data.load_mnist(download=False)
    saved = registry.load_model("my-ann")
    expected = evaluate(predict(saved, mnist.test_images), mnist.test_labels).accuracy
    assert expected == pytest.approx(snap.test_accuracy) and saved.count_params() == snap.parameters
    runs = elements(block(at, "train_runs"), "Dataframe")[0].value
    row = runs[runs["name"] == "my-ann"].iloc[0]
    assert row["test accuracy"] == pytest.approx(expected) and bool(row["default"])
    assert registry.default_model() == "my-ann"
    assert "job" not in at.query_params and "train_job" not in at.session_state  # handed over
    assert at.button(key="train_start")  # back to the settings
    history = elements(block(at, "train_history"), "Dataframe")[0].value
    assert history.loc[history["id"] == job.id, "saved as"].item() == "my-ann"


def text_of(node) -> str:
    return " ".join(m.value for m in elements(node, "Markdown"))


def job_model(job):
    """The trained model the job keeps for its owner, as Save would write it."""
    path, _card = RUNNER.store.result(job.id)
    return registry.load_model(path)


def seconds(estimate: str) -> int:
    minutes, secs = re.search(r"about (\d+):(\d\d)", estimate).groups()
    return int(minutes) * 60 + int(secs)


def test_the_settings_say_how_long_a_training_will_take_before_it_starts(env):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="train_arch").set_value("ann").run()
    estimate = [c.value for c in at.caption if c.value.startswith("Estimated time")]
    assert len(estimate) == 1 and re.search(r"about \d+:\d\d\*\* from Start to result", estimate[0])
    at.number_input(key="train_epochs").set_value(40).run()
    longer = [c.value for c in at.caption if c.value.startswith("Estimated time")][0]
    assert seconds(longer) > seconds(estimate[0])


def test_a_race_trains_both_networks_on_the_same_images_and_says_who_reached_what_when(env):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.select_slider(key="train_subset").set_value("all")
    at.button(key="train_race").click().run()
    assert not at.exception, at.exception
    ids = at.session_state["train_race_jobs"]
    assert len(ids) == 2 and at.query_params["race"] == ",".join(ids)
    jobs = [RUNNER.get(one) for one in ids]
    assert [job.arch for job in jobs] == ["cnn", "ann"]
    same = ("training images", "validation images", "seed", "epochs", "batch size", "augmentation")
    assert all(jobs[0].settings[key] == jobs[1].settings[key] for key in same)
    run_until(at, "train_race_result")
    snaps = [job.snapshot() for job in jobs]
    table = elements(block(at, "train_race_result"), "Dataframe")[0].value
    assert list(table["network"]) == ["CNN", "ANN"]
    assert list(table["test accuracy"]) == pytest.approx([s.test_accuracy for s in snaps])
    assert list(table["epochs"]) == [len(s.history) for s in snaps]
    [said] = [s.value for s in at.success]
    winner = max(snaps, key=lambda s: s.test_accuracy).arch.upper()
    assert said.startswith(f"The {winner} ") or " tie " in said
    for snap in snaps:  # both strips were shown
        assert text_of(block(at, f"train_strip_{snap.arch}"))
    # Either run can be opened, to be saved like any other.
    at.button(key="train_open_cnn").click().run()
    assert at.session_state["train_job"] == ids[0] and "race" not in at.query_params
    assert has_block(at, "train_result") and at.text_input(key="train_name")


def test_an_existing_name_is_kept_unless_replacing_is_ticked(env):
    at = run_until(start(epochs=1), "train_result")
    registry.save_model(registry.load_model("ann"), "taken", {"architecture": "ann", "note": "old"})
    at.text_input(key="train_name").set_value("taken").run()
    [command] = [code.value for code in at.code]  # the command line says the name typed
    assert " --name taken " in command and "NAME" not in command
    at.button(key="train_save").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert registry.read_card("taken")["note"] == "old"
    at.checkbox(key="train_overwrite").check()
    at.button(key="train_save").click().run()
    assert not at.exception
    assert "note" not in registry.read_card("taken")


def test_stop_ends_a_running_training_and_keeps_its_best_weights(env):
    at = start(epochs=50, batch_size=32)
    job = job_of(at)
    wait_for(job, lambda s: s.history, "one whole epoch")  # then stop
    at.run()
    assert has_block(at, "train_live") and job.running
    at.button(key="train_stop").click().run()
    assert not at.exception
    run_until(at, "train_result")
    snap = job.snapshot()
    assert snap.state == STOPPED and 1 <= len(snap.history) < 50
    assert any("Stopped after" in w.value for w in at.warning)


def test_two_sessions_train_at_once_and_a_third_is_queued_then_runs(env):
    # The tests' Ray has 2 CPUs and a job asks for 1 (conftest.py).
    ada, bob = start(epochs=50, batch_size=32), start(epochs=50, batch_size=32, name="Bob")
    ada_job, bob_job = job_of(ada), job_of(bob)
    for job in (ada_job, bob_job):
        wait_for(job, lambda s: s.state == TRAINING, "training")
    cleo = start(epochs=1, name="Cleo")
    cleo_job = job_of(cleo)
    assert cleo_job.snapshot().state == QUEUED
    cleo.run()
    assert has_block(cleo, "train_live")
    assert any("Your ANN is queued" in h.value for h in cleo.subheader)
    assert "Queued, 1st in line" in cleo.get("progress")[0].proto.text
    ada.button(key="train_stop").click().run()  # her CPU goes to the next in line
    wait_for(cleo_job, lambda s: s.state == FINISHED, "the third training's end")
    run_until(cleo, "train_result")
    cleo.text_input(key="train_name").set_value("cleos")
    cleo.button(key="train_save").click().run()
    assert any("Saved as" in s.value for s in cleo.success)
    run_until(ada, "train_result")
    ada.text_input(key="train_name").set_value("adas")
    ada.button(key="train_save").click().run()
    assert registry.read_card("cleos")["train_config"]["epochs"] == 1
    assert registry.read_card("adas")["cancelled"] is True
    # Bob's training was untouched by the others' stops and saves (it may have stopped early, by itself).
    assert bob_job.snapshot().state in (TRAINING, "testing", FINISHED) and not bob_job.snapshot().stopping
    bob_job.stop()


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


def test_a_killed_worker_shows_a_failed_training_and_saves_nothing(env):
    at = start(epochs=50, batch_size=32)
    job = job_of(at)
    pid = wait_for(job, lambda s: s.state == TRAINING, "training").worker["pid"]
    os.kill(pid, signal.SIGKILL)
    assert job.join(WAIT_S)
    at.run()
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]  # as read, without Markdown's escapes
    assert any(
        f"its worker process (pid {pid}) died" in text and "registry is unchanged" in text for text in shown
    ), shown
    assert sorted(p.name for p in env.iterdir() if not p.name.startswith(".")) == ["ann.json", "ann.keras"]
    at.button(key="train_back").click().run()
    assert at.button(key="train_start")
    history = elements(block(at, "train_history"), "Dataframe")[0].value
    assert history.loc[history["id"] == job.id, "state"].item() == "failed"


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
    job = job_of(at)
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


def test_a_job_id_that_is_not_this_persons_is_explained_not_silently_dropped(env):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["job"] = "not-a-job-of-anyone"
    at.run()
    assert not at.exception
    assert any("not one of yours" in w.value for w in at.warning)
    assert "job" not in at.query_params and at.button(key="train_start")


def test_after_a_restart_the_page_shows_what_each_training_became(env, monkeypatch, tmp_path):
    # Records as a server left them: one finished (its model kept), one running when it stopped.
    store = JobStore(tmp_path / "jobs")
    before = Runner(store)
    config = TrainConfig(epochs=1, batch_size=64, validation_size=40, augment=None)
    finished = before.start(ANNConfig(units=(32,)), config, data.load_mnist(download=False))
    assert finished.join(WAIT_S) and finished.snapshot().state == FINISHED
    running = dict(finished._record(), id="was-running-01", state=TRAINING)
    store.put("was-running-01", "local", "elsewhere:999999999:gone", time.time(), TRAINING, running)
    monkeypatch.setattr(jobs, "RUNNER", Runner(store))  # the restarted server's runner

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["job"] = "was-running-01"
    at.run()
    assert not at.exception
    assert any("running when the server stopped" in w.value for w in at.warning)
    history = elements(block(at, "train_history"), "Dataframe")[0].value
    states = dict(zip(history["id"], history["state"]))
    assert states == {"was-running-01": "lost when the server stopped", finished.id: "finished"}
    at.button(key="train_back").click().run()
    at.selectbox(key="train_history_pick").set_value(finished.id).run()
    at.button(key="train_open").click().run()
    assert has_block(at, "train_result")  # as it ended, and it can still be saved
    at.text_input(key="train_name").set_value("kept-over-a-restart")
    at.button(key="train_save").click().run()
    assert not at.exception and registry.read_card("kept-over-a-restart")
    assert jobs.RUNNER.get(finished.id).snapshot().saved_as == "kept-over-a-restart"
    assert jobs.RUNNER.get("was-running-01").snapshot().state == LOST
