"""Training jobs on a real local Ray, without Streamlit: each in its own worker process, progress
streamed from it, stop within a batch, the queue, a killed worker, failures with their reasons,
saving only when asked, and records that outlive the server."""

import logging
import os
import signal
import time

import pytest

from digit_core import cluster, registry
from digit_core.config import ANNConfig, AugmentConfig, CNNConfig, TrainConfig
from digit_core.data import Mnist
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.jobs import (
    CANCELLED,
    FAILED,
    FINISHED,
    LOST,
    QUEUED,
    STOPPED,
    TRAINING,
    Runner,
    Snapshot,
    describe_settings,
    format_duration,
    ordinal,
    settings_of,
    thin,
)
from digit_core.jobstore import JobStore
from digit_core.models import build_ann
from tests.support.datasets import synthetic
from tests.support.jobs import disk_on_fire, hungry, probe, tiny_mnist

WAIT_S = 240  # an upper bound for a tiny job on a busy 2-core machine, not a speed check
SMALL = ANNConfig(units=(32,))
pytestmark = pytest.mark.usefixtures("ray_cluster")


def quick(epochs=2, **kwargs) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=25, validation_size=50, augment=None, **kwargs)


def endless() -> TrainConfig:
    """Runs until stopped: many epochs and no early stopping."""
    return quick(epochs=500, patience=1000)


def wait_for(job, condition, what="the condition"):
    deadline = time.monotonic() + WAIT_S
    while not condition(job.snapshot()):
        assert time.monotonic() < deadline, f"{what} never came: job is {job.snapshot().state}"
        time.sleep(0.05)
    return job.snapshot()


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """A runner with its own records, and an empty registry."""
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path / "models"))
    made = Runner(JobStore(tmp_path / "jobs"))
    yield made
    for job in list(made._jobs.values()):  # never leave a job running for the next test
        job.stop()
    for job in list(made._jobs.values()):
        job.join(WAIT_S)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, ray_cluster):
    """One finished 4-epoch job, with its data, runner and registry, shared by the tests below."""
    root = tmp_path_factory.mktemp("trained")
    models = registry.Registry.single(root / "models")
    data = tiny_mnist()
    runner = Runner(JobStore(root / "jobs"))
    job = runner.start(SMALL, quick(epochs=4), data, owner_name="ada", models=models, live=probe)
    assert job.join(WAIT_S)
    return job, data, runner, models


def test_a_job_reports_every_epoch_and_the_accuracy_of_the_model_it_saves(trained):
    job, data, _, models = trained
    snap = job.snapshot()
    assert snap.state == FINISHED and not snap.running and snap.error is None
    assert [entry["epoch"] for entry in snap.history] == [1, 2, 3, 4]
    assert all(entry["val_accuracy"] is not None for entry in snap.history)
    assert (snap.epoch, snap.batch, snap.batches) == (4, 10, 10) and snap.fraction == 1.0
    # Every batch's smoothed loss reached the server, none lost or repeated on the way.
    assert snap.batch_steps == list(range(1, 41)) and len(snap.batch_losses) == 40
    assert snap.owner == "ada" and snap.settings["epochs"] == 4 and snap.can_save
    assert list(models.own.glob("*")) == [], "nothing is saved until the owner asks"
    job.save("mine")
    saved = models.load_model("mine")
    # The accuracy the job reported is that of the model that reached the registry.
    assert evaluate(predict(saved, data.test_images), data.test_labels).accuracy == pytest.approx(
        snap.test_accuracy
    )
    assert snap.test_accuracy > 0.5 and snap.parameters == saved.count_params()
    card = models.read_card("mine")
    assert card["test_accuracy"] == pytest.approx(snap.test_accuracy) and card["train_config"]["epochs"] == 4
    assert card["command"][card["command"].index("--name") + 1] == "mine"
    assert job.snapshot().saved_as == "mine"


def test_the_job_trains_in_a_worker_process_with_tensorflow_limited_to_its_share(trained):
    job = trained[0]
    snap = job.snapshot()
    assert snap.worker["pid"] != os.getpid() and snap.worker["threads"] == 1
    # Streamed from the worker through the generic live channel: the newest payload per key.
    probed = snap.live["probe"]
    assert probed["epoch"] == 4 and probed["pid"] == snap.worker["pid"]
    assert probed["intra_op_threads"] == probed["inter_op_threads"] == 1
    assert probed["cuda_visible_devices"] == "" and probed["gpus"] == 0  # no GPU assumed
    # Niced, so that the pages' work comes first on a machine shared with the server.
    assert probed["nice"] == snap.worker["nice"] == cluster.DEFAULT_NICE == 15


def test_the_smoothed_loss_falls_as_the_job_learns(trained):
    losses = trained[0].snapshot().batch_losses
    assert losses[-1] < losses[0] / 2


def test_saving_refuses_shipped_bad_and_taken_names(trained):
    job, _, _, models = trained
    for name in ("cnn", "CNN", "Ann"):
        with pytest.raises(ValueError, match="shipped default"):
            job.save(name)
    with pytest.raises(ValueError, match="invalid model name"):
        job.save("../escape")
    job.save("taken")
    with pytest.raises(registry.ModelError, match="already exists"):
        job.save("taken")
    job.save("taken", overwrite=True)
    assert not (models.own.parent / "escape.keras").exists()
    assert not any(p.stem.lower() in ("cnn", "ann") for p in models.own.iterdir())


def test_a_finished_job_is_compared_with_the_baseline_model(runner, tmp_path):
    data = tiny_mnist()
    models = registry.Registry.single()
    baseline = build_ann(ANNConfig(units=(8,)))
    models.save_model(baseline, "base", {"architecture": "ann"})
    job = runner.start(SMALL, quick(epochs=1), data, baseline="base")
    without = runner.start(SMALL, quick(epochs=1), data)  # no shipped "ann" in this registry
    assert job.join(WAIT_S) and without.join(WAIT_S)
    expected = evaluate(predict(models.load_model("base"), data.test_images), data.test_labels)
    assert job.snapshot().baseline_accuracy == pytest.approx(expected.accuracy)
    assert without.snapshot().state == FINISHED and without.snapshot().baseline_accuracy is None


def test_stop_is_honoured_within_one_batch_and_keeps_a_usable_model(runner):
    job = runner.start(SMALL, endless(), tiny_mnist())
    wait_for(job, lambda s: s.history, "a whole epoch")  # so there are best weights to keep
    job.stop()
    assert job.snapshot().stopping
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == STOPPED and 1 <= len(snap.history) < 500
    # The worker ended the batch it was in when the stop came, and began no other.
    asked, ended = snap.live["stop"]["asked_at_batch"], snap.live["stop"]["ended_at_batch"]
    assert ended - asked <= 1, snap.live["stop"]
    assert snap.test_accuracy is not None and snap.test_accuracy > 0.3
    job.save("stopped-run")
    assert registry.read_card("stopped-run")["cancelled"] is True


def test_two_jobs_run_at_once_and_the_next_wait_their_turn_in_the_queue(runner):
    # The tests' Ray has 2 CPUs and a job asks for 1 (conftest.py).
    first, second = (runner.start(SMALL, endless(), tiny_mnist()) for _ in range(2))
    third, fourth = (runner.start(SMALL, endless(), tiny_mnist()) for _ in range(2))
    for job in (first, second):
        wait_for(job, lambda s: s.state == TRAINING, "training")
    time.sleep(1.0)  # time enough for a third to start, were there room
    snaps = [job.snapshot() for job in (third, fourth)]
    assert [s.state for s in snaps] == [QUEUED, QUEUED]
    assert [(s.queue_position, s.waiting_for) for s in snaps] == [(1, "cpu"), (2, "cpu")]
    first.stop()
    wait_for(third, lambda s: s.state != QUEUED, "the third's turn")
    assert fourth.snapshot().queue_position == 1  # moved up
    fourth.stop()  # taken out of the queue: it never trains
    assert fourth.join(WAIT_S) and fourth.snapshot().state == CANCELLED
    assert fourth.snapshot().worker is None and fourth.snapshot().history == []
    wait_for(third, lambda s: s.state == TRAINING, "the third training")
    assert first.join(WAIT_S) and first.snapshot().state == STOPPED


def test_a_killed_worker_fails_its_job_with_the_reason_and_the_others_go_on(runner, caplog):
    doomed = runner.start(SMALL, endless(), tiny_mnist())
    other = runner.start(SMALL, quick(epochs=6, patience=100), tiny_mnist())
    pid = wait_for(doomed, lambda s: s.state == TRAINING, "training").worker["pid"]
    with caplog.at_level(logging.ERROR, logger="digit_core"):
        os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        assert doomed.join(WAIT_S)
    snap = doomed.snapshot()
    assert snap.state == FAILED and not snap.can_save
    assert f"its worker process (pid {pid}) died before the training ended" in snap.error
    assert any(f"job {doomed.id}: its worker died" in r.getMessage() for r in caplog.records)
    assert other.join(WAIT_S) and other.snapshot().state == FINISHED  # untouched by the crash
    assert len(other.snapshot().history) == 6
    with pytest.raises(RuntimeError, match="no trained model"):
        doomed.save("nothing")


def test_a_failure_in_the_worker_is_reported_and_logged_with_its_traceback(runner, caplog, tmp_path):
    with caplog.at_level(logging.INFO, logger="digit_core"):
        job = runner.start(SMALL, quick(), disk_on_fire)
        assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == FAILED and snap.error == "OSError: disk on fire" and snap.test_accuracy is None
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "digit_core.jobs"]
    assert len(failures) == 1 and f"job {job.id} failed" in failures[0].getMessage()
    logged = failures[0].getMessage()
    assert "Traceback (most recent call last)" in logged and "in disk_on_fire" in logged  # where it broke
    with pytest.raises(RuntimeError, match="no trained model"):
        job.save("nothing")
    assert not (tmp_path / "models").exists()


def test_running_out_of_memory_says_so(runner):
    job = runner.start(SMALL, quick(), hungry)
    assert job.join(WAIT_S)
    assert job.snapshot().error.startswith("out of memory: try a smaller batch size")


def test_bad_data_fails_the_job_with_its_reason(runner):
    images, labels = synthetic(100)
    job = runner.start(SMALL, quick(), Mnist(images, labels[:50], images, labels, "mismatched"))
    assert job.join(WAIT_S)
    assert job.snapshot().state == FAILED and "100 images but 50 labels" in job.snapshot().error


def test_after_a_restart_each_job_is_shown_as_it_ended_and_can_still_be_saved(trained, tmp_path):
    job, _, runner, models = trained
    store = runner.store
    # A job that was training under a server that has gone (no such process) ...
    gone = dict(job._record(), id="gone-job-0001", state=TRAINING, server="elsewhere:999999999:x")
    store.put("gone-job-0001", job.owner, "elsewhere:999999999:x", time.time(), TRAINING, gone)
    restarted = Runner(JobStore(store.folder))  # a new server process on the same records
    lost = restarted.get("gone-job-0001")
    assert lost.snapshot().state == LOST and "server stopped" in lost.snapshot().error
    # ... and one that finished: as it was, its model still waiting to be saved.
    again = restarted.get(job.id)
    before, after = job.snapshot(), again.snapshot()
    for field in ("state", "history", "test_accuracy", "parameters", "batch_steps", "settings", "owner"):
        assert getattr(after, field) == getattr(before, field), field
    assert after.can_save and not after.running
    again.save("after-restart", models=models)
    assert models.read_card("after-restart")["test_accuracy"] == pytest.approx(before.test_accuracy)
    history = [snap.id for snap in restarted.history()]
    assert job.id in history and "gone-job-0001" in history


def test_a_discarded_job_keeps_its_record_but_not_its_model(runner):
    job = runner.start(SMALL, quick(epochs=1), tiny_mnist())
    assert job.join(WAIT_S) and job.snapshot().can_save
    runner.forget(job.id)
    snap = runner.get(job.id).snapshot()
    assert snap.discarded and not snap.can_save and snap.state == FINISHED
    assert not runner.store.result_dir(job.id).exists()
    with pytest.raises(RuntimeError, match="no trained model"):
        job.save("late")


def snapshot(**changes) -> Snapshot:
    values = dict(
        id="x",
        owner="o",
        arch="ann",
        settings={},
        state=TRAINING,
        epoch=2,
        epochs=4,
        batch=5,
        batches=10,
        elapsed=30.0,
        history=[],
        batch_steps=[],
        batch_losses=[],
        error=None,
        test_accuracy=None,
        baseline_accuracy=None,
        parameters=None,
        training_seconds=30.0,
        best_epoch=None,
        saved_as=None,
    )
    return Snapshot(**{**values, **changes})


def test_progress_fraction_and_time_left_follow_the_batches_done():
    snap = snapshot()  # 15 of 40 batches in 30 s: 2 s a batch, 25 to go
    assert snap.fraction == pytest.approx(15 / 40)
    assert snap.eta == pytest.approx(50.0)
    assert snapshot(epoch=0, batch=0).fraction == 0 and snapshot(epoch=0, batch=0).eta is None
    assert snapshot(state=FINISHED).eta is None and snapshot(state=QUEUED).eta is None


def test_durations_and_places_in_line_read_naturally():
    assert format_duration(75.2) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "–"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
    ]


def test_thin_keeps_the_first_and_last_points_and_at_most_the_limit():
    steps, values = thin(list(range(1, 1001)), [float(v) for v in range(1000)], points=50)
    assert len(steps) <= 50 and steps[0] == 1 and steps[-1] == 1000 and values[-1] == 999.0
    assert thin([1, 2], [0.5, 0.4]) == ([1, 2], [0.5, 0.4])


def test_the_channel_merges_batches_not_yet_taken_and_never_loses_one():
    from digit_core.worker import Channel

    channel = Channel()
    for step in (1, 2):
        channel.publish({"type": "batch", "epoch": 1, "batch": step, "steps": [step], "losses": [0.5]})
    events, cursor = channel.take(0)
    assert len(events) == 1 and events[0]["steps"] == [1, 2]  # merged while waiting
    channel.publish({"type": "batch", "epoch": 1, "batch": 3, "steps": [3], "losses": [0.4]})
    channel.publish({"type": "live", "key": "k", "value": 1})
    channel.publish({"type": "live", "key": "k", "value": 2})
    again, _ = channel.take(0)  # the reader lost the answer and asks again: nothing is missing
    assert [e.get("steps") for e in again if e["type"] == "batch"] == [[1, 2], [3]]
    events, cursor = channel.take(cursor)
    assert [e.get("steps") or e["value"] for e in events] == [[3], 2]  # the newest value per key
    assert channel.take(cursor, wait_s=0.05) == ([], cursor)


def test_a_runs_settings_read_as_plain_words_not_python():
    cnn = describe_settings(
        settings_of(
            CNNConfig(width=1.5),
            TrainConfig(epochs=1, limit=900, validation_size=100, augment=AugmentConfig()),
        )
    )
    assert cnn == (
        "CNN with 36 then 48 filters and a dense layer of 256 · 1 epoch over 900 training images · "
        "100 held out to validate · batches of 256 · learning rate up to 0.01 (Adam) · no dropout · "
        "augmented images · seed 0"
    )
    ann = describe_settings(
        settings_of(
            ANNConfig(units=(128, 128), dropout=0.3), TrainConfig(epochs=3, optimizer="sgd", augment=None)
        )
    )
    assert ann.startswith("ANN with 2 hidden layers of 128 units · 3 epochs over all the training images")
    assert "SGD with momentum" in ann and "dropout 30%" in ann and "no augmentation" in ann
    for raw in ("True", "False", "None", "(3", "(1", "[", "_", ": "):  # no Python values, no keys
        assert raw not in cnn + ann
