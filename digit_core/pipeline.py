"""Train on MNIST, evaluate on its test set, and describe the result as a registry card."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from . import __version__
from .config import ModelConfig, TrainConfig, arch_of, to_dict
from .data import Mnist
from .evaluation import Evaluation, evaluate
from .inference import predict
from .training import TrainResult, train


@dataclass
class Run:
    """A finished training run: the model, how it trained, how it scores, and its card."""

    result: TrainResult
    evaluation: Evaluation
    card: dict[str, Any]


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "digit_core": __version__,
    }


def make_card(
    model_config: ModelConfig,
    train_config: TrainConfig,
    result: TrainResult,
    evaluation: Evaluation,
    data_fingerprint: str,
    command: list[str] | None = None,
) -> dict:
    """The JSON-ready description of a trained model stored beside it in the registry."""
    return {
        "architecture": arch_of(model_config),
        "config": to_dict(model_config),
        "train_config": to_dict(train_config),
        "parameters": int(result.model.count_params()),
        "test_accuracy": evaluation.accuracy,
        "test_loss": evaluation.loss,
        "test_errors": len(evaluation.mistakes),
        "per_class": evaluation.per_class(),
        "confusion": evaluation.confusion.tolist(),
        "history": result.history,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "cancelled": result.cancelled,
        "training_seconds": round(result.seconds, 2),
        "versions": versions(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_fingerprint": data_fingerprint,
        "command": command if command is not None else sys.argv,
    }


def train_on_mnist(
    model_config: ModelConfig,
    train_config: TrainConfig,
    mnist: Mnist,
    command: list[str] | None = None,
    on_test: Callable[[], None] | None = None,
    **callbacks: Any,
) -> Run:
    """Train on MNIST's training set, evaluate on its test set, build the card.

    ``callbacks`` are passed to :func:`digit_core.training.train` (``on_batch``, ``on_epoch``,
    ``cancel``); ``on_test`` is called when testing begins. Nothing is saved: pass ``run.card`` to
    :func:`digit_core.registry.save_model`.
    """
    result = train(model_config, train_config, mnist.train_images, mnist.train_labels, **callbacks)
    if on_test is not None:
        on_test()
    evaluation = evaluate(predict(result.model, mnist.test_images), mnist.test_labels)
    card = make_card(model_config, train_config, result, evaluation, mnist.fingerprint(), command)
    return Run(result, evaluation, card)
