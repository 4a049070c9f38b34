"""The time a training will take, said before Start: a cost model by the network's multiply-adds,
scaled by how this server's own trainings went."""

import keras
import pytest

from digit_core.config import LEGACY_CNN, ANNConfig, AugmentConfig, CNNConfig, TrainConfig
from digit_core.estimate import COMPILE_S, START_S, estimate, past_run, speed_factor, training_seconds
from digit_core.jobs import settings_of
from digit_core.models import build_model


def counted(model: keras.Model) -> int:
    """Multiply-adds of one image through the built model's conv and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_h, kernel_w, channels, _ = layer.kernel.shape
            total += height * width * kernel_h * kernel_w * channels * filters
        elif isinstance(layer, keras.layers.Dense):
            inputs, units = layer.kernel.shape
            total += inputs * units
    return total


@pytest.mark.parametrize(
    "config",
    [CNNConfig(), CNNConfig(width=1.5), CNNConfig(**LEGACY_CNN), ANNConfig(), ANNConfig(units=(128,))],
    ids=["cnn", "cnn-wide", "cnn-legacy", "ann", "ann-one-layer"],
)
def test_the_configs_multiply_adds_are_those_of_the_model_it_builds(config):
    assert config.multiply_adds() == counted(build_model(config))


ONE_EPOCH = TrainConfig(epochs=1, augment=None)


def test_more_images_epochs_width_or_augmentation_take_longer():
    base = training_seconds(CNNConfig(), ONE_EPOCH, 10_000, 1_000)
    # The first epoch's fixed extra aside, twice the images or three epochs cost about 2x or 3x.
    assert training_seconds(CNNConfig(), ONE_EPOCH, 20_000, 1_000) - COMPILE_S > 1.8 * (base - COMPILE_S)
    three = training_seconds(CNNConfig(), TrainConfig(epochs=3, augment=None), 10_000, 1_000)
    assert three - COMPILE_S == pytest.approx(3 * (base - COMPILE_S))
    assert training_seconds(CNNConfig(width=2.0), ONE_EPOCH, 10_000, 1_000) > base
    assert training_seconds(CNNConfig(), TrainConfig(epochs=1, augment=AugmentConfig()), 10_000, 1_000) > base
    assert (
        training_seconds(CNNConfig(), TrainConfig(epochs=1, batch_size=32, augment=None), 10_000, 1_000)
        > base
    )


def test_the_whole_estimate_adds_the_start_and_the_test_to_the_training():
    guess = estimate(CNNConfig(), ONE_EPOCH, 10_000, 1_000)
    assert guess.training_seconds == pytest.approx(training_seconds(CNNConfig(), ONE_EPOCH, 10_000, 1_000))
    assert guess.seconds > guess.training_seconds + START_S and not guess.calibrated


def test_a_server_that_trained_twice_as_slow_as_the_model_gets_estimates_twice_as_long():
    plain = estimate(ANNConfig(), ONE_EPOCH, 5_000, 500)
    slow = estimate(ANNConfig(), ONE_EPOCH, 5_000, 500, past=[(10.0, 20.0), (4.0, 8.0), (1.0, 1.0)])
    assert slow.calibrated and slow.training_seconds == pytest.approx(2 * plain.training_seconds)
    assert speed_factor([]) is None and speed_factor([(0.0, 5.0)]) is None


def test_a_past_run_is_re_estimated_from_the_settings_it_recorded():
    model, config = (
        CNNConfig(width=1.5),
        TrainConfig(epochs=4, batch_size=128, limit=9_000, validation_size=1_000),
    )
    estimated, actual = past_run(settings_of(model, config), 3, 42.0)  # stopped after 3 of 4 epochs
    three = TrainConfig(epochs=3, batch_size=128, validation_size=1_000)
    assert (estimated, actual) == (pytest.approx(training_seconds(model, three, 9_000, 1_000)), 42.0)
    everything = settings_of(ANNConfig(), TrainConfig(validation_size=5_000))  # "all" the images
    assert past_run(everything, 1, 9.0)[0] == pytest.approx(
        training_seconds(ANNConfig(), TrainConfig(epochs=1, validation_size=5_000), 55_000, 5_000)
    )
    assert past_run(everything, 0, 9.0) is None and past_run({"architecture": "CNN"}, 1, 9.0) is None
