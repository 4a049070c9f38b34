"""How long a training will take, said before it starts.

A cost model fitted to ``train()`` on a 2-core CPU (the figures below; measured with 5,000 images,
the second epoch of each run): time per image grows with the network's multiply-adds, plus the
augmentation's cost per image and a fixed cost per batch. On another machine the model is scaled by
how the trainings already run there took against it (:func:`speed_factor`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import AugmentConfig, CNNConfig, ModelConfig, TrainConfig, model_config_from_dict

MS_PER_IMAGE = 0.04  # reading and updating, whatever the network
MS_PER_MEGA_MAC = {"cnn": 0.10, "ann": 0.058}  # dense layers run nearer the CPU's peak than convs
AUGMENT_MS_PER_IMAGE = 0.10
MS_PER_BATCH = 3.0
# The first epoch's extra: tracing the training step (1.5 s in a plain process) and, in a Ray worker
# at low priority beside the page, first calls and the strip's readings (a 1k-image run took 6 s).
COMPILE_S = 4.0
EVAL_SHARE = 0.3  # a forward pass only, in large batches, against a training step
START_S = 15.0  # a worker process, TensorFlow's import, the data; and the shipped model's test
TEST_IMAGES = 10_000
MNIST_TRAIN = 60_000


@dataclass(frozen=True)
class Estimate:
    seconds: float  # from Start to the result: starting, training, testing
    training_seconds: float
    calibrated: bool  # scaled by this server's own past trainings


def _forward_ms(model_config: ModelConfig) -> float:
    arch = "cnn" if isinstance(model_config, CNNConfig) else "ann"
    return MS_PER_IMAGE + MS_PER_MEGA_MAC[arch] * model_config.multiply_adds() / 1e6


def training_seconds(model_config: ModelConfig, train_config: TrainConfig, n_train: int, n_val: int) -> float:
    """Seconds of ``train()`` for ``n_train`` images and ``n_val`` validated, every epoch run."""
    forward = _forward_ms(model_config)
    per_image = forward + (AUGMENT_MS_PER_IMAGE if train_config.augment is not None else 0.0)
    batches = int(np.ceil(n_train / max(1, min(train_config.batch_size, n_train))))
    epoch_ms = n_train * per_image + batches * MS_PER_BATCH + n_val * forward * EVAL_SHARE
    return COMPILE_S + train_config.epochs * epoch_ms / 1000


def speed_factor(past: list[tuple[float, float]]) -> float | None:
    """How much slower (>1) or faster this server trains than the model says: the median of
    ``actual / estimated`` over past trainings, or None without any."""
    ratios = [actual / estimated for estimated, actual in past if estimated > 0 and actual > 0]
    if not ratios:
        return None
    return float(np.clip(np.median(ratios), 0.05, 20.0))


def estimate(
    model_config: ModelConfig,
    train_config: TrainConfig,
    n_train: int,
    n_val: int,
    past: Sequence[tuple[float, float]] = (),
) -> Estimate:
    """The whole duration of a training from Start, scaled by ``past`` ``(estimated, actual)``
    training seconds of this server's earlier runs when there are some."""
    factor = speed_factor(list(past))
    scale = factor or 1.0
    train_s = training_seconds(model_config, train_config, n_train, n_val) * scale
    test_s = TEST_IMAGES * _forward_ms(model_config) * EVAL_SHARE / 1000 * scale
    return Estimate(START_S + train_s + test_s, train_s, factor is not None)


def past_run(settings: dict, epochs_run: int, seconds: float | None) -> tuple[float, float] | None:
    """``(estimated, actual)`` training seconds of a finished run, from its settings as
    ``jobs.settings_of`` wrote them; None for a run that cannot tell (no time, no epoch)."""
    if not seconds or epochs_run < 1:
        return None
    try:
        model_config = model_config_from_dict(str(settings["architecture"]).lower(), settings)
        n_val = int(settings.get("validation images") or 0)
        train_config = TrainConfig(
            epochs=epochs_run,
            batch_size=int(settings["batch size"]),
            augment=AugmentConfig() if settings.get("augmentation") else None,
            validation_size=n_val,
        )
    except (KeyError, TypeError, ValueError):
        return None
    n_train = int(settings.get("training images") or MNIST_TRAIN - n_val)
    return training_seconds(model_config, train_config, n_train, n_val), float(seconds)
