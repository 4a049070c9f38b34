"""What the Train page shows of a network while it learns, as plain data: a strip of fixed test
digits with the model's current guesses, and how a race of two trainings ended.

The worker publishes a :func:`strip_reading` about every second (``Snapshot.live["strip"]``) and the
validation confusion matrix after each epoch (``Snapshot.live["confusion"]``); the page draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import NUM_CLASSES

STRIP = "strip"  # keys of Snapshot.live
CONFUSION = "confusion"
STRIP_PER_DIGIT = 2  # 20 digits: two of each


def strip_indices(labels: np.ndarray, per_digit: int = STRIP_PER_DIGIT) -> np.ndarray:
    """Indices of the strip's test images: the first ``per_digit`` of each digit in the test set,
    in the order they come there. Fixed, so every training is shown the same digits."""
    chosen = [np.flatnonzero(labels == digit)[:per_digit] for digit in range(NUM_CLASSES)]
    return np.sort(np.concatenate(chosen))


def strip_reading(step: int, epoch: int, probabilities: np.ndarray) -> dict:
    """A JSON-able reading of the strip: the model's guess and its confidence for each image."""
    return {
        "step": int(step),
        "epoch": int(epoch),
        "guesses": probabilities.argmax(axis=1).astype(int).tolist(),
        "confidence": [round(float(p), 3) for p in probabilities.max(axis=1)],
    }


@dataclass(frozen=True)
class Lap:
    """One runner of a race, as its end shows it."""

    arch: str
    test_accuracy: float | None
    seconds: float | None  # training time
    best_val_accuracy: float | None
    best_val_at: float | None  # seconds into training when the best validation accuracy was reached
    epochs: int


def lap(arch: str, history: list[dict], test_accuracy: float | None, seconds: float | None) -> Lap:
    """Sum up one training of a race from its per-epoch history."""
    scored = [entry for entry in history if entry.get("val_accuracy") is not None]
    # A tie goes to the later epoch, as training keeps it.
    best = max(scored, key=lambda entry: (entry["val_accuracy"], entry["epoch"]), default=None)
    return Lap(
        arch=arch,
        test_accuracy=test_accuracy,
        seconds=seconds,
        best_val_accuracy=best["val_accuracy"] if best else None,
        best_val_at=best["elapsed"] if best else None,
        epochs=len(history),
    )


def verdict(laps: list[Lap]) -> str:
    """Who won on accuracy, and at what cost in time; plain words for the end of a race."""
    done = [one for one in laps if one.test_accuracy is not None]
    if len(done) < 2:
        return "The race has no winner: not every training reached its test."
    first, second = sorted(done, key=lambda one: one.test_accuracy or 0.0, reverse=True)[:2]
    gap = ((first.test_accuracy or 0.0) - (second.test_accuracy or 0.0)) * 100
    winner, other = first.arch.upper(), second.arch.upper()
    timed = first.seconds is not None and second.seconds is not None
    if gap < 0.005:
        lead = f"The {winner} and the {other} tie on the test set"
        if not timed:
            return lead + "."
        fast, slow = sorted((first, second), key=lambda one: one.seconds or 0.0)
        ratio = (slow.seconds or 0.0) / max(fast.seconds or 0.0, 1e-9)
        return f"{lead}; the {fast.arch.upper()} trained {ratio:.1f}× as fast."
    lead = f"The {winner} reads {gap:.2f} points more of the test set than the {other}"
    if not timed:
        return lead + "."
    if (first.seconds or 0.0) <= (second.seconds or 0.0):
        return f"{lead}, and it trained in less time."
    return (
        f"{lead}, and took {(first.seconds or 0.0) / max(second.seconds or 0.0, 1e-9):.1f}× as long to train."
    )
