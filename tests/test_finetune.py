"""Fine-tuning on a small handwriting set: the held-out part gets better, MNIST does not collapse."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from digit_core import registry
from digit_core.config import TrainConfig
from digit_core.finetune import FineTuneSpec, auto_repeat, fine_tune, mix, split_set
from digit_core.jobs import FINISHED, Runner
from tests.support.datasets import sideways_writer

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 300


def test_split_keeps_a_share_of_every_digit_apart():
    labels = np.repeat(np.arange(10), [8, 8, 8, 8, 8, 8, 8, 8, 8, 1])
    images = np.arange(len(labels))[:, None, None] * np.ones((1, 28, 28), np.uint8)
    train_x, train_y, test_x, test_y = split_set(images, labels, 0.25)
    assert np.bincount(test_y, minlength=10).tolist() == [2] * 9 + [0]  # a lone 9 is trained on
    assert len(train_y) + len(test_y) == len(labels)
    assert not set(train_x[:, 0, 0]) & set(test_x[:, 0, 0])  # no sample on both sides


def test_a_sample_saved_twice_is_never_both_trained_on_and_measured():
    images, labels = sideways_writer(40)
    doubled_x, doubled_y = np.concatenate([images, images]), np.concatenate([labels, labels])
    train_x, _, test_x, _ = split_set(doubled_x, doubled_y, 0.25)
    assert len(train_x) + len(test_x) == 40
    trained = {x.tobytes() for x in train_x}
    assert not any(x.tobytes() in trained for x in test_x)


def test_mix_repeats_the_handwriting_beside_the_mnist_images_and_validates_on_mnist_only(mnist):
    images, labels = sideways_writer(20)
    (mixed_x, mixed_y), (val_x, val_y) = mix(
        mnist, images, labels, mnist_count=100, repeat=3, validation_size=50
    )
    assert len(mixed_x) == len(mixed_y) == 160 and len(val_x) == len(val_y) == 50
    assert (mixed_x[100:103] == images[0]).all() and mixed_y[100:103].tolist() == [labels[0]] * 3
    handwriting = {x.tobytes() for x in images}
    trained_mnist = {x.tobytes() for x in mixed_x[:100]}
    assert not any(x.tobytes() in handwriting or x.tobytes() in trained_mnist for x in val_x)
    assert auto_repeat(5000, 100) == 21 and auto_repeat(10, 1000) == 1 and auto_repeat(10**6, 1) == 50


def test_fine_tuning_improves_the_held_out_handwriting_and_keeps_mnist(mnist, tmp_path):
    for suffix in (".keras", ".json"):
        shutil.copy(ROOT / "models" / f"ann{suffix}", tmp_path / f"ann{suffix}")
    images, labels = sideways_writer(300)
    spec = FineTuneSpec("ann", images, labels, held_out=0.25, mnist_images=2000)
    # 3e-3: the shipped ANN, trained with label smoothing and heavy augmentation, moves slowly at 1e-3.
    config = TrainConfig(epochs=4, batch_size=64, learning_rate=3e-3, validation_size=300, augment=None)
    result = fine_tune(
        spec,
        config,
        mnist,
        lambda n: registry.load_model(n, tmp_path),
        lambda n: registry.read_card(n, tmp_path),
    )
    assert result.held_out == 80
    assert result.handwriting_before < 0.5, "the base model should not read a sideways hand already"
    assert result.handwriting_after > result.handwriting_before + 0.3
    assert result.mnist_before > 0.98 and result.run.evaluation.accuracy > 0.95  # no collapse
    assert result.run.card["fine_tuned_from"] == "ann"
    assert result.run.card["handwriting"]["accuracy_after"] == result.handwriting_after


def test_a_fine_tuning_job_reports_handwriting_before_and_after(mnist, tmp_path, monkeypatch, ray_cluster):
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path))
    for suffix in (".keras", ".json"):
        shutil.copy(ROOT / "models" / f"ann{suffix}", tmp_path / f"ann{suffix}")
    images, labels = sideways_writer(100)
    spec = FineTuneSpec("ann", images, labels, mnist_images=500)
    config = TrainConfig(epochs=1, batch_size=64, validation_size=100, augment=None)
    card = registry.read_card("ann")
    from digit_core.config import model_config_from_dict

    job = Runner().start(model_config_from_dict("ann", card["config"]), config, mnist, fine_tune=spec)
    assert job.join(WAIT_S)
    snap = job.snapshot()
    assert snap.state == FINISHED, snap.error
    assert snap.base_model == "ann" and snap.handwriting_held_out == 20  # 2 of each digit's 10
    assert snap.handwriting_before is not None and snap.handwriting_after is not None
    assert snap.baseline_accuracy == pytest.approx(card["test_accuracy"], abs=1e-4)  # MNIST before
    job.save("ann-mine")
    saved = registry.read_card("ann-mine")
    assert saved["fine_tuned_from"] == "ann" and saved["command"][-1] == "ann"
