"""Classification metrics from predicted probabilities (numpy only, no TensorFlow)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .spec import NUM_CLASSES


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the evaluated set
    true: int
    predicted: int
    confidence: float  # probability given to ``predicted``


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one model on one labelled set.

    ``confusion[t, p]`` counts images of true digit ``t`` predicted as ``p``; per-class arrays are
    ``(10,)`` float64 indexed by digit (precision is 0 for a digit never predicted).
    """

    accuracy: float
    loss: float
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    mistakes: list[Mistake]

    @property
    def count(self) -> int:
        return int(self.support.sum())

    @property
    def errors(self) -> int:
        return self.count - int(np.trace(self.confusion))

    def worst_confusion(self) -> tuple[int, int]:
        """``(true, predicted)`` of the most common mistake (the busiest cell off the diagonal)."""
        off = self.confusion.copy()
        np.fill_diagonal(off, -1)
        return divmod(int(off.argmax()), NUM_CLASSES)

    def hardest_digit(self) -> int:
        """The digit with the lowest F1."""
        return int(np.argmin(self.f1))

    def per_class(self) -> list[dict]:
        """One JSON-ready row per digit: precision, recall, f1, support."""
        return [
            {
                "digit": d,
                "precision": float(self.precision[d]),
                "recall": float(self.recall[d]),
                "f1": float(self.f1[d]),
                "support": int(self.support[d]),
            }
            for d in range(NUM_CLASSES)
        ]


def _check(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or probabilities.shape[1] != NUM_CLASSES:
        raise ValueError(f"probabilities must have shape (N, {NUM_CLASSES}), got {probabilities.shape}")
    if labels.ndim != 1 or len(labels) != len(probabilities):
        raise ValueError(f"labels must have shape ({len(probabilities)},), got {labels.shape}")
    if len(labels) == 0:
        raise ValueError("cannot evaluate on an empty set")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError("labels must be integers in 0..9")
    return probabilities, labels.astype(np.int64)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``(10, 10) int64`` counts, rows = true digit, columns = predicted digit."""
    true, predicted = np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if true.shape != predicted.shape:
        raise ValueError(f"true {true.shape} and predicted {predicted.shape} differ in shape")
    for name, values in (("true", true), ("predicted", predicted)):
        if values.size and (values.min() < 0 or values.max() >= NUM_CLASSES):
            raise ValueError(f"{name} digits must be in 0..9, found {values.min()}..{values.max()}")
    return np.bincount(true * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(
        NUM_CLASSES, NUM_CLASSES
    )


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def _per_class(confusion: np.ndarray) -> tuple[np.ndarray, ...]:
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    precision = _safe_divide(hits, confusion.sum(axis=0).astype(np.float64))
    recall = _safe_divide(hits, support.astype(np.float64))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return hits, support, precision, recall, f1


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Metrics of ``(N, 10)`` probabilities against ``(N,)`` integer labels.

    Mistakes come most confident first. The loss is the mean cross-entropy, with
    probabilities clipped at 1e-7 so that a confident mistake costs a finite amount.
    """
    probabilities, labels = _check(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(labels, predicted)
    hits, support, precision, recall, f1 = _per_class(confusion)
    true_p = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(true_p, 1e-7, 1.0)).mean())
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    mistakes = [
        Mistake(int(i), int(labels[i]), int(predicted[i]), float(c))
        for i, c in sorted(zip(wrong, confidence), key=lambda ic: -ic[1])
    ]
    return Evaluation(
        accuracy=float(hits.sum() / len(labels)),
        loss=loss,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        mistakes=mistakes,
    )


def from_confusion(confusion: ArrayLike, loss: float = float("nan")) -> Evaluation:
    """The metrics a ``(10, 10)`` confusion matrix holds (e.g. a model card's); no mistakes list."""
    confusion = np.asarray(confusion, dtype=np.int64)
    if confusion.shape != (NUM_CLASSES, NUM_CLASSES) or confusion.min() < 0 or confusion.sum() == 0:
        raise ValueError(f"confusion must be a non-empty (10, 10) matrix of counts, got {confusion.shape}")
    hits, support, precision, recall, f1 = _per_class(confusion)
    return Evaluation(
        accuracy=float(hits.sum() / confusion.sum()),
        loss=float(loss),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        mistakes=[],
    )


def row_normalised(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of each true digit given each prediction."""
    confusion = np.asarray(confusion, dtype=np.float64)
    return _safe_divide(confusion, confusion.sum(axis=1, keepdims=True))


def cell(probabilities: np.ndarray, labels: np.ndarray, true: int, predicted: int) -> np.ndarray:
    """Indices of the images of true digit ``true`` predicted as ``predicted``, most confident first."""
    probabilities, labels = _check(probabilities, labels)
    guess = probabilities.argmax(axis=1)
    found = np.flatnonzero((labels == true) & (guess == predicted))
    return found[np.argsort(-probabilities[found, predicted], kind="stable")]


@dataclass(frozen=True)
class Disagreement:
    index: int
    true: int
    first: int  # the first model's prediction
    second: int

    @property
    def right(self) -> str:
        """Which model was right: "first", "second" or "neither"."""
        if self.first == self.true:
            return "first"
        return "second" if self.second == self.true else "neither"


def who_was_right(found: list[Disagreement]) -> dict[str, int]:
    """How many disagreements each model won: keys "first", "second" and "neither"."""
    return {who: sum(d.right == who for d in found) for who in ("first", "second", "neither")}


def disagreements(first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> list[Disagreement]:
    """Images on which two models' ``(N, 10)`` probabilities pick different digits."""
    first, labels = _check(first, labels)
    second, _ = _check(second, labels)
    a, b = first.argmax(axis=1), second.argmax(axis=1)
    return [Disagreement(int(i), int(labels[i]), int(a[i]), int(b[i])) for i in np.flatnonzero(a != b)]


def confusion_csv(confusion: np.ndarray) -> str:
    """CSV of the confusion matrix: a ``true`` column, then one column per predicted digit."""
    lines = ["true," + ",".join(f"predicted_{d}" for d in range(NUM_CLASSES))]
    lines += [f"{t}," + ",".join(str(int(v)) for v in row) for t, row in enumerate(np.asarray(confusion))]
    return "\n".join(lines) + "\n"


def per_class_csv(result: Evaluation) -> str:
    """CSV of precision, recall, F1 and support per digit."""
    lines = ["digit,precision,recall,f1,support"]
    lines += [
        f"{r['digit']},{r['precision']:.6f},{r['recall']:.6f},{r['f1']:.6f},{r['support']}"
        for r in result.per_class()
    ]
    return "\n".join(lines) + "\n"


def format_report(result: Evaluation) -> str:
    """A plain-text table: accuracy, then precision/recall/F1/support per digit."""
    lines = [
        f"accuracy {result.accuracy:.4%}  loss {result.loss:.4f}  "
        f"errors {len(result.mistakes)} of {result.count}",
        "digit  precision  recall      f1  support",
    ]
    for row in result.per_class():
        lines.append(
            f"{row['digit']:>5}  {row['precision']:>9.4f}  {row['recall']:>6.4f}  "
            f"{row['f1']:>6.4f}  {row['support']:>7}"
        )
    return "\n".join(lines)
