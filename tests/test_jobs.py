"""The background training job without Streamlit: start, progress, stop, failure, one at a time,
and saving only when asked."""

import contextlib
import logging
import threading
import time

import numpy as np
import pytest

from digit_core import jobs, registry
from digit_core.config import ANNConfig, TrainConfig
from digit_core.data import Mnist
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.jobs import (
    FAILED,
    FINISHED,
    LOADING,
    STOPPED,
    TRAINING,
    BusyError,
    Runner,
    Snapshot,
    format_duration,
    thin,
)
from digit_core.models import build_ann
from tests.support.datasets import synthetic

WAIT_S = 120  # an upper bound for a tiny job on a busy 2-core machine, not a speed check
SMALL = ANNConfig(units=(32,))


@pytest.fixture
def registry_root(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path))
    return tmp_path


def tiny_mnist(n=300) -> Mnist:
    images, labels = synthetic(n, seed=1)
    test_images, test_labels = synthetic(200, seed=2)
    return Mnist(images, labels, test_images, test_labels, "synthetic")


def quick(epochs=2, **kwargs) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=25, validation_size=50, augment=None, **kwargs)


def wait_for(job, condition):
    deadline = time.monotonic() + WAIT_S
    while not condition(job.snapshot()):
        assert time.monotonic() < deadline, f"job stuck in {job.snapshot().state}"
        time.sleep(0.02)
    return job.snapshot()


def test_a_job_trains_in_the_background_and_reports_every_epoch(registry_root):
    data = tiny_mnist()
    job = Runner().start(SMALL, quick(epochs=3), lambda: data, owner="ada")
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == FINISHED and not snap.running and snap.error is None
    assert [entry["epoch"] for entry in snap.history] == [1, 2, 3]
    assert all(entry["val_accuracy"] is not None for entry in snap.history)
    assert (snap.epoch, snap.batch, snap.batches) == (3, 10, 10) and snap.fraction == 1.0
    assert len(snap.batch_steps) == len(snap.batch_losses) == 30 and snap.batch_steps[-1] == 30
    # The reported test accuracy is that of the trained model on the test split.
    expected = evaluate(predict(job.run.result.model, data.test_images), data.test_labels).accuracy
    assert snap.test_accuracy == pytest.approx(expected) and snap.test_accuracy > 0.5
    assert snap.parameters == job.run.result.model.count_params()
    assert snap.owner == "ada" and snap.settings["epochs"] == 3
    assert list(registry_root.iterdir()) == [], "nothing is saved until the owner asks"


def test_the_smoothed_loss_falls_as_the_job_learns(registry_root):
    job = Runner().start(SMALL, quick(epochs=4), tiny_mnist, owner="ada")
    assert job.join(WAIT_S)
    losses = job.snapshot().batch_losses
    assert losses[-1] < losses[0] / 2


def test_a_finished_job_is_compared_with_the_baseline_model(registry_root):
    data = tiny_mnist()
    baseline = build_ann(ANNConfig(units=(8,)))
    registry.save_model(baseline, "base", {"architecture": "ann"})
    job = Runner().start(SMALL, quick(epochs=1), lambda: data, owner="ada", baseline="base")
    assert job.join(WAIT_S)
    expected = evaluate(predict(registry.load_model("base"), data.test_images), data.test_labels)
    assert job.snapshot().baseline_accuracy == pytest.approx(expected.accuracy)


def test_without_a_baseline_model_there_is_no_comparison_and_no_failure(registry_root):
    job = Runner().start(SMALL, quick(epochs=1), tiny_mnist, owner="ada")
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == FINISHED and snap.baseline_accuracy is None


def test_stop_ends_after_the_current_batch_and_keeps_a_usable_model(registry_root):
    job = Runner().start(SMALL, quick(epochs=200), tiny_mnist, owner="ada")
    wait_for(job, lambda s: s.history)  # one whole epoch, so there are best weights to keep
    job.stop()
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == STOPPED
    assert 1 <= len(snap.history) < 200 and snap.epoch < 200
    assert snap.test_accuracy is not None and snap.test_accuracy > 0.3
    job.save("stopped-run")
    assert registry.read_card("stopped-run")["cancelled"] is True


def test_a_failed_load_is_reported_and_the_registry_is_untouched(registry_root):
    def broken():
        raise OSError("disk on fire")

    job = Runner().start(SMALL, quick(), broken, owner="ada")
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == FAILED and "disk on fire" in snap.error and snap.test_accuracy is None
    with pytest.raises(RuntimeError, match="no trained model"):
        job.save("nothing")
    assert list(registry_root.iterdir()) == []


def test_a_failed_job_logs_its_traceback(registry_root, caplog):
    def broken():
        raise OSError("disk on fire")

    with caplog.at_level(logging.INFO, logger="digit_core"):
        job = Runner().start(SMALL, quick(), broken, owner="ada")
        assert job.join(WAIT_S)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "digit_core.jobs"]
    assert len(failures) == 1 and f"job {job.id}" in failures[0].getMessage()
    assert failures[0].exc_info is not None and failures[0].exc_info[0] is OSError
    logged = caplog.text
    assert "Traceback (most recent call last)" in logged and "in broken" in logged  # where it broke
    assert "OSError: disk on fire" in logged


def test_a_finished_job_logs_its_start_and_its_result(registry_root, caplog):
    with caplog.at_level(logging.INFO, logger="digit_core"):
        job = Runner().start(SMALL, quick(epochs=1), tiny_mnist, owner="ada")
        assert job.join(WAIT_S)
    messages = [r.getMessage() for r in caplog.records if r.name == "digit_core.jobs"]
    assert any(m.startswith(f"job {job.id} (ann, started by ada) begins") for m in messages)
    assert any(m.startswith(f"job {job.id} finished after 1 epochs") for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_running_out_of_memory_says_so():
    def hungry():
        raise MemoryError()

    job = Runner().start(SMALL, quick(), hungry, owner="ada")
    assert job.join(WAIT_S)
    assert job.snapshot().error.startswith("out of memory")


def test_bad_data_fails_the_job_with_its_reason(registry_root):
    images, labels = synthetic(100)
    bad = Mnist(images, labels[:50], images, labels, "mismatched")
    job = Runner().start(SMALL, quick(), lambda: bad, owner="ada")
    assert job.join(WAIT_S)
    assert job.snapshot().state == FAILED and "100 images but 50 labels" in job.snapshot().error


def test_one_job_at_a_time_and_the_next_may_start_when_it_ends(registry_root):
    runner, gate = Runner(), threading.Event()

    def slow_load():
        gate.wait(WAIT_S)
        return tiny_mnist()

    first = runner.start(SMALL, quick(epochs=1), slow_load, owner="ada")
    assert first.snapshot().state == LOADING and runner.running() is first
    with pytest.raises(BusyError, match="started by ada") as refused:
        runner.start(SMALL, quick(epochs=1), tiny_mnist, owner="bob")
    assert refused.value.job is first
    gate.set()
    assert first.join(WAIT_S)
    assert runner.running() is None
    second = runner.start(SMALL, quick(epochs=1), tiny_mnist, owner="bob")
    assert second.join(WAIT_S) and second.snapshot().state == FINISHED
    assert runner.get(first.id) is first and runner.get(second.id) is second


def test_two_users_starting_at_once_get_one_job(registry_root):
    runner, gate, started, refused = Runner(), threading.Event(), [], []

    def load():
        gate.wait(WAIT_S)
        return tiny_mnist(100)

    def start(owner):
        try:
            started.append(runner.start(SMALL, quick(epochs=1), load, owner=owner))
        except BusyError:
            refused.append(owner)

    threads = [threading.Thread(target=start, args=(f"user{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 1 and len(refused) == 5
    gate.set()
    assert started[0].join(WAIT_S)


def test_two_starts_forced_to_overlap_still_get_one_job(registry_root, monkeypatch):
    # Each start is held, just before it creates its job, until the other start has got that far
    # too (or a second has passed): without the runner's lock both would pass the "is one running?"
    # check and two trainings would run. With it, the second waits for the first and is refused.
    barrier = threading.Barrier(2, timeout=1.0)

    class MeetingJob(jobs.TrainingJob):
        def __init__(self, *args, **kwargs):
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(jobs, "TrainingJob", MeetingJob)
    runner, gate, started, refused = Runner(), threading.Event(), [], []

    def load():
        gate.wait(WAIT_S)
        return tiny_mnist(100)

    def start(owner):
        try:
            started.append(runner.start(SMALL, quick(epochs=1), load, owner=owner))
        except BusyError:
            refused.append(owner)

    threads = [threading.Thread(target=start, args=(owner,)) for owner in ("ada", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    gate.set()
    for job in started:
        assert job.join(WAIT_S)
    assert len(started) == 1 and len(refused) == 1, f"{len(started)} jobs started at once"


def test_forget_drops_a_job_and_old_ones_are_not_kept_forever(registry_root):
    runner = Runner(keep=2)
    jobs = []
    for _ in range(3):
        jobs.append(runner.start(SMALL, quick(epochs=1), lambda: tiny_mnist(100), owner="ada"))
        assert jobs[-1].join(WAIT_S)
    assert runner.get(jobs[0].id) is None and runner.get(jobs[2].id) is jobs[2]
    runner.forget(jobs[2].id)
    assert runner.get(jobs[2].id) is None


def test_a_forgotten_running_job_keeps_the_slot_until_it_has_stopped(registry_root):
    runner, gate = Runner(), threading.Event()

    def slow_load():
        gate.wait(WAIT_S)
        return tiny_mnist(100)

    job = runner.start(SMALL, quick(epochs=1), slow_load, owner="ada")
    runner.forget(job.id)
    assert runner.get(job.id) is None
    with pytest.raises(BusyError):  # must not: let a second training run beside the stopping one
        runner.start(SMALL, quick(epochs=1), tiny_mnist, owner="bob")
    gate.set()
    assert job.join(WAIT_S)
    assert runner.start(SMALL, quick(epochs=1), tiny_mnist, owner="bob").join(WAIT_S)


def test_a_shipped_name_in_other_letters_is_refused_too(registry_root):
    job = Runner().start(SMALL, quick(epochs=1), tiny_mnist, owner="ada")
    assert job.join(WAIT_S)
    for name in ("CNN", "Ann"):
        with pytest.raises(ValueError, match="shipped default"):
            job.save(name)
    assert list(registry_root.iterdir()) == []


def test_save_writes_the_model_and_card_and_refuses_shipped_or_taken_names(registry_root):
    data = tiny_mnist()
    job = Runner().start(SMALL, quick(epochs=1), lambda: data, owner="ada")
    assert job.join(WAIT_S)
    with pytest.raises(ValueError, match="shipped default"):
        job.save("cnn")
    with pytest.raises(ValueError, match="invalid model name"):
        job.save("../escape")
    job.save("mine")
    assert job.snapshot().saved_as == "mine"
    loaded = registry.load_model("mine")
    np.testing.assert_allclose(
        predict(loaded, data.test_images), predict(job.run.result.model, data.test_images), atol=1e-5
    )
    card = registry.read_card("mine")
    assert card["test_accuracy"] == pytest.approx(job.snapshot().test_accuracy)
    assert card["train_config"]["epochs"] == 1
    with pytest.raises(registry.ModelError, match="already exists"):
        job.save("mine")
    job.save("mine", overwrite=True)


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
    assert snapshot(state=FINISHED).eta is None


def test_durations_read_like_a_clock():
    assert format_duration(75.2) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "–"


def test_thin_keeps_the_first_and_last_points_and_at_most_the_limit():
    steps, values = thin(list(range(1, 1001)), [float(v) for v in range(1000)], points=50)
    assert len(steps) <= 50 and steps[0] == 1 and steps[-1] == 1000 and values[-1] == 999.0
    assert thin([1, 2], [0.5, 0.4]) == ([1, 2], [0.5, 0.4])
