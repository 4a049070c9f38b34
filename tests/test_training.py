"""Real (small) training runs: progress reporting, cancellation, distribution, augmentation."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from digit_core.config import ANNConfig, CNNConfig, TrainConfig
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.training import SmoothedSparseCrossentropy, Watch, make_dataset, split_data, train
from tests.support.datasets import synthetic

ROOT = Path(__file__).resolve().parent.parent
SMALL_CNN = CNNConfig(filters=(8, 16), dense_units=32)


def test_one_epoch_on_1000_images_beats_chance_clearly(mnist):
    config = TrainConfig(epochs=1, batch_size=32, limit=1000, validation_size=200, augment=None)
    result = train(ANNConfig(), config, mnist.train_images, mnist.train_labels)
    accuracy = evaluate(predict(result.model, mnist.test_images[:1000]), mnist.test_labels[:1000]).accuracy
    assert accuracy > 0.7, f"chance is 0.1; got {accuracy:.3f}"
    assert len(result.history) == 1 and result.history[0]["val_accuracy"] > 0.5


def test_cnn_trains_with_augmentation(mnist):
    config = TrainConfig(epochs=1, batch_size=32, limit=1000, validation_size=200)
    result = train(SMALL_CNN, config, mnist.train_images, mnist.train_labels)
    accuracy = evaluate(predict(result.model, mnist.test_images[:500]), mnist.test_labels[:500]).accuracy
    assert accuracy > 0.4, f"chance is 0.1; got {accuracy:.3f}"


def test_progress_callbacks_report_every_batch_and_epoch():
    images, labels = synthetic(250)
    batches, epochs = [], []
    config = TrainConfig(epochs=2, batch_size=50, validation_size=50, augment=None, patience=5)
    result = train(
        ANNConfig(units=(32,)), config, images, labels, on_batch=batches.append, on_epoch=epochs.append
    )
    assert [(b.epoch, b.batch) for b in batches] == [(e, b) for e in (1, 2) for b in range(1, 5)]
    assert all(b.batches == 4 and b.epochs == 2 for b in batches)
    assert [e.epoch for e in epochs] == [1, 2]
    assert all(e.val_accuracy is not None and e.val_loss is not None for e in epochs)
    elapsed = [b.elapsed for b in batches]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    assert result.history == [e.as_dict() for e in epochs]


def test_the_watch_sees_the_models_reading_while_it_trains_and_at_each_epochs_end(mnist):
    """The strip of the Train page: its images are read by the model as it is at that moment, so
    the readings improve as it learns; and every epoch's end gives the validation confusion."""
    readings, epochs = [], []
    shown = mnist.test_images[:20]
    config = TrainConfig(epochs=2, batch_size=32, limit=1000, validation_size=200, augment=None)
    watch = Watch(shown, lambda epoch, step, p: readings.append((epoch, step, p)), every_s=0.0)
    result = train(
        ANNConfig(), config, mnist.train_images, mnist.train_labels, on_epoch=epochs.append, watch=watch
    )
    steps = [step for _, step, _ in readings]
    assert steps[0] == 1 and steps == sorted(steps) and steps[-1] == 2 * 32  # 1,000 images in 32 batches
    assert {epoch for epoch, _, _ in readings} == {1, 2}
    assert all(p.shape == (20, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-4) for _, _, p in readings)
    first, last = readings[0][2], readings[-1][2]
    truth = mnist.test_labels[:20]
    assert (last.argmax(axis=1) == truth).mean() > (first.argmax(axis=1) == truth).mean()
    # The last reading is the trained model's own (best weights = the last epoch's here).
    np.testing.assert_allclose(last, predict(result.model, shown), atol=1e-4)
    for progress in epochs:
        confusion = np.array(progress.val_confusion)
        assert confusion.shape == (10, 10) and confusion.sum() == 200
        assert np.trace(confusion) / 200 == pytest.approx(progress.val_accuracy)
        assert "val_confusion" not in progress.as_dict()  # not in a card's history


def test_cancel_stops_after_the_current_batch():
    images, labels = synthetic(512)
    cancel = threading.Event()
    seen = []

    def on_batch(progress):
        seen.append(progress)
        if len(seen) == 3:
            cancel.set()

    config = TrainConfig(epochs=5, batch_size=32, validation_size=0, augment=None)
    result = train(ANNConfig(units=(16,)), config, images, labels, on_batch=on_batch, cancel=cancel)
    assert result.cancelled
    assert len(seen) == 3  # no batch ran after the one during which cancel was set
    assert result.history == []  # the cut-short epoch reports no epoch figures


def test_early_stopping_restores_the_best_epoch():
    images, labels = synthetic(300)
    # A learning rate far too high makes validation accuracy stall, so patience runs out.
    config = TrainConfig(
        epochs=30,
        batch_size=100,
        learning_rate=5.0,
        optimizer="sgd",
        validation_size=60,
        augment=None,
        patience=2,
    )
    result = train(ANNConfig(units=(8,)), config, images, labels)
    assert result.stopped_early and len(result.history) < 30
    assert len(result.history) > 15  # never in the first half of the schedule, at a high rate
    best = max(h["val_accuracy"] for h in result.history)
    assert result.history[result.best_epoch - 1]["val_accuracy"] == best


def test_same_seed_same_result():
    images, labels = synthetic()
    config = TrainConfig(epochs=2, batch_size=64, validation_size=56, augment=None, seed=7)
    a = train(ANNConfig(units=(32,)), config, images, labels)
    b = train(ANNConfig(units=(32,)), config, images, labels)
    np.testing.assert_allclose([h["loss"] for h in a.history], [h["loss"] for h in b.history], rtol=1e-4)


def test_dataset_shows_every_image_once_per_epoch_scaled_and_labelled_and_reshuffles():
    images = np.repeat(np.arange(250, dtype=np.uint8), 28 * 28).reshape(250, 28, 28)  # image i is all i
    labels = (np.arange(250) % 10).astype(np.uint8)
    ds = make_dataset(images, labels, 64, shuffle_seed=3)
    epochs = []
    for _ in range(2):
        batches = list(ds)
        assert [len(y) for _, y in batches] == [64, 64, 64, 58]
        x = np.concatenate([b.numpy() for b, _ in batches])
        y = np.concatenate([b.numpy() for _, b in batches])
        assert x.shape == (250, 28, 28, 1) and x.dtype == np.float32
        index = np.rint(x[:, 0, 0, 0] * 255).astype(int)
        assert sorted(index) == list(range(250))  # every image exactly once
        np.testing.assert_array_equal(y, index % 10)  # each image with its own label
        epochs.append(index)
    assert not np.array_equal(epochs[0], epochs[1])  # a new order every epoch


def test_smoothed_crossentropy_matches_a_hand_computation():
    probs = np.array([[0.5, 0.2, 0.1, 0.05, 0.05, 0.04, 0.03, 0.01, 0.01, 0.01]], np.float32)
    smoothing = 0.1
    target = np.full(10, smoothing / 10)
    target[1] += 1 - smoothing  # the true class is 1, not the most likely one
    expected = -(target * np.log(probs[0])).sum()
    loss = SmoothedSparseCrossentropy(smoothing)(np.array([1]), probs)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_split_respects_limit_validation_and_seed():
    images, labels = synthetic(1000)
    config = TrainConfig(limit=300, validation_size=100, seed=3)
    tx, ty, vx, vy = split_data(images, labels, config)
    assert len(tx) == 300 and len(vx) == 100
    again = split_data(images, labels, config)
    assert np.array_equal(tx, again[0]) and np.array_equal(vy, again[3])
    with pytest.raises(ValueError, match="labels"):
        split_data(images, labels[:10], config)


MIRRORED = textwrap.dedent("""
    import json, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from digit_core.config import ANNConfig, TrainConfig
    from digit_core.training import train
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400).astype(np.uint8)
    images = np.zeros((400, 28, 28), np.uint8)
    for image, label in zip(images, labels):
        image[label * 2: label * 2 + 6, 4:20] = 255
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        result = train(ANNConfig(units=(32,)), TrainConfig(epochs=3, batch_size=40, validation_size=80,
                       augment=None), images, labels)
    variable = result.model.trainable_variables[0]
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "devices": sorted(strategy.extended.worker_devices),
                      "variable_type": type(getattr(variable, "value", variable)).__name__,
                      "val_accuracy": result.history[-1]["val_accuracy"]}))
""")


def test_training_runs_under_mirrored_strategy_on_two_devices():
    # Logical devices must be configured before TensorFlow starts: hence a fresh process.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2 and len(report["devices"]) == 2
    assert report["val_accuracy"] > 0.5
