"""Fine-tune a saved model on MNIST mixed with the user's handwriting, and measure what it gained.

A stratified part of the handwriting set is held out and never trained on: handwriting accuracy
before and after is measured on it, and MNIST test accuracy before and after shows that the model
did not forget MNIST while learning one writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import TrainConfig, model_config_from_dict
from .data import Mnist
from .spec import NUM_CLASSES

if TYPE_CHECKING:  # pipeline imports TensorFlow; this module does not need to
    import keras

    from .pipeline import Run

HANDWRITING_SHARE = 0.3  # the share of the training mix that is handwriting, when repeat is automatic
MAX_REPEAT = 50


@dataclass(frozen=True)
class FineTuneSpec:
    """What to fine-tune on: the base model's registry name and the handwriting set."""

    base: str
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) ints 0..9
    held_out: float = 0.25  # share of each digit's samples kept for measuring
    mnist_images: int = 5000  # MNIST training images mixed in, against forgetting
    repeat: int | None = None  # copies of each handwriting sample in the mix; None: automatic

    def __post_init__(self) -> None:
        if not 0 < self.held_out < 1:
            raise ValueError(f"held_out must be in (0, 1), got {self.held_out}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if self.mnist_images < 0 or (self.repeat is not None and self.repeat < 1):
            raise ValueError("mnist_images must be >= 0 and repeat >= 1")


@dataclass(frozen=True)
class Plan:
    """How a fine-tuning will use the handwriting set: counts, repeats, and the mix's size."""

    trained: int  # handwriting samples trained on
    held_out: int  # handwriting samples kept for measuring
    repeat: int
    mix: int  # images in the training mix: MNIST plus repeated handwriting


def plan(spec: FineTuneSpec, seed: int = 0) -> Plan:
    train_x, _, test_x, _ = split_set(spec.images, spec.labels, spec.held_out, seed)
    repeat = spec.repeat or auto_repeat(spec.mnist_images, len(train_x))
    return Plan(len(train_x), len(test_x), repeat, spec.mnist_images + repeat * len(train_x))


@dataclass(frozen=True)
class FineTuneResult:
    run: Run  # pipeline.Run of the fine-tuned model (its evaluation is on MNIST's test set)
    handwriting_before: float
    handwriting_after: float
    mnist_before: float
    held_out: int  # handwriting samples measured on


def unique(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples with identical images counted once (the first one kept), in their order."""
    _, first = np.unique(images.reshape(len(images), -1), axis=0, return_index=True)
    keep = np.sort(first)
    return images[keep], labels[keep]


def split_set(
    images: np.ndarray, labels: np.ndarray, held_out: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified split: ``held_out`` of each digit's samples (at least one where a digit has two
    or more) are kept apart. Duplicates (a drawing saved twice, a set imported twice) count once,
    so no sample is both trained on and measured. Returns ``(train_x, train_y, test_x, test_y)``."""
    images, labels = unique(images, labels)
    rng = np.random.default_rng(seed)
    test_idx: list[int] = []
    for digit in range(NUM_CLASSES):
        found = rng.permutation(np.flatnonzero(labels == digit))
        if len(found) >= 2:
            test_idx.extend(found[: max(1, round(len(found) * held_out))])
    test = np.zeros(len(labels), dtype=bool)
    test[np.array(test_idx, dtype=np.int64)] = True
    return images[~test], labels[~test], images[test], labels[test]


def auto_repeat(mnist_count: int, handwriting_count: int) -> int:
    """Copies of each handwriting sample that make it about a third of the training mix."""
    if handwriting_count == 0:
        return 1
    wanted = HANDWRITING_SHARE / (1 - HANDWRITING_SHARE) * mnist_count / handwriting_count
    return int(np.clip(round(wanted), 1, MAX_REPEAT))


def mix(
    mnist: Mnist,
    images: np.ndarray,
    labels: np.ndarray,
    mnist_count: int,
    repeat: int,
    validation_size: int = 0,
    seed: int = 0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Random MNIST training images, ``validation_size`` of them kept apart for validation, the
    next ``mnist_count`` with ``repeat`` copies of each handwriting sample (training shuffles them
    together). Returns ``(mix_x, mix_y), (val_x, val_y)``; the validation part is MNIST only, so
    that picking the best epoch never rewards memorised handwriting."""
    order = np.random.default_rng(seed).permutation(len(mnist.train_images))
    val, pick = order[:validation_size], order[validation_size : validation_size + mnist_count]
    mixed_x = np.concatenate([mnist.train_images[pick], np.repeat(images, repeat, axis=0)])
    mixed_y = np.concatenate(
        [mnist.train_labels[pick].astype(np.uint8), np.repeat(labels.astype(np.uint8), repeat)]
    )
    return (mixed_x, mixed_y), (mnist.train_images[val], mnist.train_labels[val].astype(np.uint8))


def fine_tune(
    spec: FineTuneSpec,
    train_config: TrainConfig,
    mnist: Mnist,
    load_model: Callable[[str], keras.Model],
    load_card: Callable[[str], dict[str, Any]],
    command: list[str] | None = None,
    on_test: Callable[[], None] | None = None,
    **callbacks: Any,
) -> FineTuneResult:
    """Fine-tune ``spec.base`` (loaded afresh with ``load_model(name)``, its card from
    ``load_card(name)``) on MNIST mixed with ``spec``'s handwriting; ``callbacks`` go to
    :func:`digit_core.training.train`. Nothing is saved."""
    from .evaluation import evaluate
    from .inference import predict
    from .pipeline import Run, make_card
    from .training import train

    card = load_card(spec.base)
    model_config = model_config_from_dict(card["architecture"], card.get("config", {}))
    model = load_model(spec.base)  # a private copy: a cached, shared model must never be trained
    train_x, train_y, test_x, test_y = split_set(spec.images, spec.labels, spec.held_out, train_config.seed)
    if not len(train_x) or not len(test_x):
        raise ValueError("the handwriting set is too small: it needs at least two samples of a digit")
    hw_before = evaluate(predict(model, test_x), test_y).accuracy
    mnist_before = evaluate(predict(model, mnist.test_images), mnist.test_labels).accuracy
    repeat = spec.repeat or auto_repeat(spec.mnist_images, len(train_x))
    (mixed_x, mixed_y), validation = mix(
        mnist, train_x, train_y, spec.mnist_images, repeat, train_config.validation_size, train_config.seed
    )
    # The validation images only pick the best epoch; the held-out handwriting is the measure.
    result = train(
        model_config, train_config, mixed_x, mixed_y, model=model, validation=validation, **callbacks
    )
    if on_test is not None:
        on_test()
    hw_after = evaluate(predict(result.model, test_x), test_y).accuracy
    evaluation = evaluate(predict(result.model, mnist.test_images), mnist.test_labels)
    new_card = make_card(model_config, train_config, result, evaluation, mnist.fingerprint(), command)
    new_card["fine_tuned_from"] = spec.base
    new_card["handwriting"] = {
        "samples": len(spec.images),
        "held_out": len(test_x),
        "repeat": repeat,
        "mnist_images": spec.mnist_images,
        "accuracy_before": hw_before,
        "accuracy_after": hw_after,
        "mnist_accuracy_before": mnist_before,
    }
    return FineTuneResult(Run(result, evaluation, new_card), hw_before, hw_after, mnist_before, len(test_x))
