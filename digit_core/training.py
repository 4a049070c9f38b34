"""One ``train()`` for both architectures, reporting progress through caller-given callbacks.

``train`` builds and compiles the model inside the current ``tf.distribute`` strategy, so a caller
that wraps it in ``MirroredStrategy().scope()`` trains on every local GPU (or logical device), and
``MultiWorkerMirroredStrategy`` spreads it over a cluster. The batch size is the global one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .augment import augment_batch
from .config import AugmentConfig, ModelConfig, TrainConfig
from .evaluation import evaluate
from .inference import predict
from .models import build_model
from .spec import NUM_CLASSES, PIXEL_MAX


@dataclass(frozen=True)
class BatchProgress:
    """Sent after every training batch; loss and accuracy are running means over the epoch."""

    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    loss: float
    accuracy: float
    elapsed: float  # seconds since training started


@dataclass(frozen=True)
class EpochProgress:
    """Sent after every epoch; validation figures are None when there is no validation set."""

    epoch: int  # 1-based
    epochs: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    elapsed: float
    # rows true digit, columns predicted, on the validation images; not part of a card's history
    val_confusion: list[list[int]] | None = None

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "val_confusion"}


@dataclass(frozen=True)
class Watch:
    """A few fixed images the model reads while it trains, about every ``every_s`` seconds and at
    each epoch's end: ``report(epoch, step, probabilities)`` gets the 1-based epoch, the global batch
    number and the ``(N, 10)`` probabilities."""

    images: np.ndarray  # (N, 28, 28) uint8
    report: Callable[[int, int, np.ndarray], None]
    every_s: float = 1.0


@dataclass
class TrainResult:
    """What ``train`` produced: the model (best weights restored) and how it got there."""

    model: keras.Model
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    stopped_early: bool = False
    best_epoch: int | None = None


ADAM_BETAS = (0.7, 0.9)
RECALIBRATE_BELOW_STEPS = 1000
RECALIBRATE_IMAGES = 512  # one forward pass; 2,048 made a CNN's memory jump by 2 GB


def recalibrate_batch_norm(model: keras.Model, images: np.ndarray) -> None:
    """Set every batch-norm layer's moving statistics to those of ``images`` ``(N, 28, 28) uint8``.

    In a short run the weights change faster than the moving averages follow, so a model that
    trains well predicts badly; one forward pass with momentum 0 makes the statistics exact.
    """
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers or not len(images):
        return
    x = tf.constant(images[..., np.newaxis].astype(np.float32) / PIXEL_MAX)
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(x, training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum


class _Progress(keras.callbacks.Callback):
    """Relays progress, honours cancellation, keeps the best weights, stops early."""

    def __init__(
        self,
        epochs: int,
        batches: int,
        patience: int,
        train_x: np.ndarray,
        val_x: np.ndarray,
        val_y: np.ndarray,
        on_batch: Callable[[BatchProgress], None] | None,
        on_epoch: Callable[[EpochProgress], None] | None,
        cancel: threading.Event | None,
        watch: Watch | None = None,
    ) -> None:
        super().__init__()
        self.epochs, self.batches, self.patience = epochs, batches, patience
        self.train_x, self.val_x, self.val_y = train_x, val_x, val_y
        self.on_batch, self.on_epoch, self.cancel = on_batch, on_epoch, cancel
        self.history: list[dict] = []
        self.best_score = -np.inf
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.cancelled = self.stopped_early = False
        self.epoch = self.step = 0
        self.start = time.perf_counter()
        self.watch = watch
        self.watched_at = -np.inf

    def _elapsed(self) -> float:
        return time.perf_counter() - self.start

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.step = (self.epoch - 1) * self.batches + batch + 1
        if self.on_batch is not None:
            self.on_batch(
                BatchProgress(
                    self.epoch,
                    self.epochs,
                    batch + 1,
                    self.batches,
                    float(logs.get("loss", np.nan)),
                    float(logs.get("accuracy", np.nan)),
                    self._elapsed(),
                )
            )
        if self.watch is not None and time.perf_counter() - self.watched_at >= self.watch.every_s:
            self._look(self.epoch, self.step)
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
            self.model.stop_training = True

    def _look(self, epoch: int, step: int) -> None:
        """Let the watch see the model's current reading of its images (inference mode, as a user's
        image would be read now)."""
        assert self.watch is not None
        # The compiled forward pass: an eager call of the model cost 5x its time (12 against 2.3 ms
        # for 20 images, default CNN) once a second throughout the training.
        self.watch.report(epoch, step, predict(self.model, self.watch.images))
        self.watched_at = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.cancelled:
            return  # A cut-short epoch was never fully seen: keep no figures from it.
        if (epoch + 1) * self.batches < RECALIBRATE_BELOW_STEPS and not tf.distribute.has_strategy():
            recalibrate_batch_norm(self.model, self.train_x[:RECALIBRATE_IMAGES])
        val_loss = val_accuracy = confusion = None
        if len(self.val_x):
            scores = evaluate(predict(self.model, self.val_x), self.val_y)
            val_loss, val_accuracy = scores.loss, scores.accuracy
            confusion = scores.confusion.astype(int).tolist()
        if self.watch is not None:
            self._look(epoch + 1, (epoch + 1) * self.batches)
        lr = self.model.optimizer.learning_rate
        progress = EpochProgress(
            epoch + 1,
            self.epochs,
            float(logs["loss"]),
            float(logs["accuracy"]),
            val_loss,
            val_accuracy,
            float(keras.ops.convert_to_numpy(lr)),
            self._elapsed(),
            confusion,
        )
        self.history.append(progress.as_dict())
        if self.on_epoch is not None:
            self.on_epoch(progress)
        # Higher is better: validation accuracy, else minus the training loss.
        score = val_accuracy if val_accuracy is not None else -progress.loss
        # A tie goes to the later epoch, which the decaying learning rate has settled further.
        if score >= self.best_score:
            self.best_score, self.best_epoch, self.wait = score, epoch + 1, 0
            self.best_weights = self.model.get_weights()
        elif epoch + 1 > self.epochs // 2:
            # Patience counts in the schedule's second half only: at a high learning rate the
            # validation score wanders, and stopping there keeps an unsettled model.
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_early = True
                self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        elif not tf.distribute.has_strategy():
            # Cancelled inside the first epoch: no validated weights, but the statistics can be fixed.
            recalibrate_batch_norm(self.model, self.train_x[:RECALIBRATE_IMAGES])
        if self.watch is not None:  # the last reading is the kept model's, the one to be tested
            if self.best_epoch:
                self._look(self.best_epoch, self.best_epoch * self.batches)
            else:
                self._look(self.epoch, self.step)


def split_data(
    images: np.ndarray, labels: np.ndarray, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with the config's seed, apply ``limit``, then hold out ``validation_size``.

    Returns ``(train_x, train_y, val_x, val_y)``, uint8 ``(N, 28, 28)`` and ``(N,)`` arrays.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    order = np.random.default_rng(config.seed).permutation(len(images))
    n_val = min(config.validation_size, len(images) // 5)
    n_train = len(images) - n_val
    if config.limit is not None:
        n_train = min(n_train, config.limit)
    val_idx, train_idx = order[:n_val], order[n_val : n_val + n_train]
    if n_train < 1:
        raise ValueError("no training images left after the validation split")
    return images[train_idx], labels[train_idx], images[val_idx], labels[val_idx]


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    augment: AugmentConfig | None = None,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``((B, 28, 28, 1) float32 in [0, 1], (B,) int32)`` batches."""
    images = tf.constant(images)
    labels = tf.constant(labels.astype(np.int32))
    # Shuffle indices, not images: batching images one by one out of a shuffle buffer of images
    # cost a fifth of a small model's training step in CPU time; one gather per batch costs ~nothing.
    order = tf.data.Dataset.range(len(images))
    if shuffle_seed is not None:
        order = order.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)

    def prepare(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.cast(tf.gather(images, index)[..., tf.newaxis], tf.float32) / PIXEL_MAX  # scale to [0, 1]
        if augment is not None:
            x = augment_batch(x, augment)
        return x, tf.gather(labels, index)

    # Parallel calls only where there is work to spread: on a 2-core machine the extra threads of
    # a plain cast would compete with training for the same cores.
    parallel = tf.data.AUTOTUNE if augment is not None else None
    return order.batch(batch_size).map(prepare, num_parallel_calls=parallel).prefetch(2)


def _optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    total = config.epochs * steps_per_epoch
    # One cycle: warm up from a tenth of the rate over at most a fifth of the run, then cosine-decay
    # to zero by the last step. The high peak this allows is what makes a one-epoch run enough.
    warmup = min(int(config.warmup_epochs * steps_per_epoch), total // 5)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        decay_steps=max(1, total - warmup),
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
    )
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(schedule)
    # Shorter averages than Keras' (0.9, 0.999) follow the fast-changing rate of a short run.
    return keras.optimizers.Adam(schedule, beta_1=ADAM_BETAS[0], beta_2=ADAM_BETAS[1])


class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of probabilities against integer labels smoothed by ``smoothing``: the true
    class gets ``1 - smoothing + smoothing / 10``, every other ``smoothing / 10``."""

    def __init__(self, smoothing: float = 0.1, name: str = "smoothed_sparse_crossentropy", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        y_true = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), NUM_CLASSES)
        return keras.losses.categorical_crossentropy(y_true, y_pred, label_smoothing=self.smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "smoothing": self.smoothing}


def _loss(config: TrainConfig) -> keras.losses.Loss:
    if config.label_smoothing > 0:
        return SmoothedSparseCrossentropy(config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def train(
    model_config: ModelConfig,
    train_config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    model: keras.Model | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochProgress], None] | None = None,
    cancel: threading.Event | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    watch: Watch | None = None,
) -> TrainResult:
    """Train a model on ``images`` ``(N, 28, 28) uint8`` and ``labels`` ``(N,)`` ints 0..9.

    ``model``, when given, is trained further (fine-tuning) instead of building a new one from
    ``model_config``. Setting ``cancel`` stops training after the current batch; either way the
    best weights seen at an epoch end are restored before returning. ``validation``, when given as
    ``(images, labels)``, is used instead of holding out ``validation_size`` of ``images``.
    ``watch``, when given, is shown the model's reading of its images as training goes.
    """
    keras.utils.set_random_seed(train_config.seed)
    if validation is None:
        train_x, train_y, val_x, val_y = split_data(images, labels, train_config)
    else:
        (train_x, train_y), (val_x, val_y) = (images, labels), validation
    batch_size = min(train_config.batch_size, len(train_x))
    train_ds = make_dataset(train_x, train_y, batch_size, train_config.augment, train_config.seed)
    steps = int(np.ceil(len(train_x) / batch_size))

    with tf.distribute.get_strategy().scope():
        if model is None:
            model = build_model(model_config)
        model.compile(
            optimizer=_optimizer(train_config, steps),
            loss=_loss(train_config),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    progress = _Progress(
        train_config.epochs,
        steps,
        train_config.patience,
        train_x,
        val_x,
        val_y,
        on_batch,
        on_epoch,
        cancel,
        watch,
    )
    start = time.perf_counter()
    # Validation is done by the callback, after fixing batch-norm statistics in short runs.
    model.fit(train_ds, epochs=train_config.epochs, callbacks=[progress], shuffle=False, verbose=0)
    return TrainResult(
        model=model,
        history=progress.history,
        seconds=time.perf_counter() - start,
        cancelled=progress.cancelled,
        stopped_early=progress.stopped_early,
        best_epoch=progress.best_epoch,
    )
