"""One training in a worker process of its own: the code a Ray actor runs, and its progress channel.

:class:`TrainingWorker` is a plain class that :mod:`digit_core.jobs` turns into a Ray actor (one
process per job, TensorFlow limited to the job's share of threads). Its :meth:`~TrainingWorker.run`
trains and returns the result as plain data (the ``.keras`` file's bytes and the card), so the
model can travel to the server from any machine of a cluster; meanwhile the server long-polls
:meth:`~TrainingWorker.poll` for progress and may call :meth:`~TrainingWorker.stop`.

The progress channel carries small JSON-able events, in order:

- ``{"type": "state", "state": ...}``: loading, training, testing;
- ``{"type": "batch", "epoch", "batch", "batches", "elapsed", "steps", "losses"}``: consecutive
  batch events not yet taken are merged, so a fast model does not flood the server;
- ``{"type": "epoch", "entry": {...}}``: one finished epoch, as in a model card's history;
- ``{"type": "live", "key": ..., "value": ...}``: anything else a job wants to show while it runs
  (the newest value per key wins); it reaches the page as ``Snapshot.live[key]``.

Importing this module imports neither Ray nor TensorFlow; the worker imports TensorFlow in
:meth:`~TrainingWorker.run`, after limiting its threads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import ModelConfig, TrainConfig
from .data import Mnist
from .finetune import FineTuneSpec
from .watching import CONFUSION, STRIP, strip_indices, strip_reading

if TYPE_CHECKING:  # these import TensorFlow, which the worker imports only once its threads are set
    from .training import BatchProgress, EpochProgress

log = logging.getLogger(__name__)

LOADING, TRAINING, TESTING = "loading", "training", "testing"
SMOOTHING = 0.9  # weight of the past in the exponential moving average of the batch loss
MAX_ERROR_CHARS = 600
Publish = Callable[[str, Any], None]  # publish(key, value): a live payload for the page


@dataclass(frozen=True)
class Request:
    """Everything a worker needs, sent whole: no file of the server's is read in the worker.

    ``baseline`` and ``base`` hold ``(model file bytes, card)``: the model to compare with, and
    the model to fine-tune (with ``fine_tune``). ``live``, given ``publish``, returns extra
    ``on_batch``/``on_epoch`` callbacks: the hook for streaming more to the page.
    """

    model_config: ModelConfig
    train_config: TrainConfig
    command: list[str]
    baseline: tuple[bytes, dict] | None = None
    fine_tune: FineTuneSpec | None = None
    base: tuple[bytes, dict] | None = None
    live: Callable[[Publish], dict[str, Callable[[Any], None]]] | None = None


class Channel:
    """Events from the worker to the one server that reads them, with long polling."""

    def __init__(self) -> None:
        self._events: list[dict] = []
        self._first = 0  # the cursor of ``_events[0]``: events before it have reached the server
        self._handed = 0  # events before this cursor were handed out: they must not change
        self._changed = threading.Condition()

    def publish(self, event: dict) -> None:
        with self._changed:
            pending = self._events[self._handed - self._first :]  # not handed out yet
            last = pending[-1] if pending else None
            if event["type"] == "batch" and last is not None and last["type"] == "batch":
                merged = {**event, "steps": last["steps"] + event["steps"]}
                merged["losses"] = last["losses"] + event["losses"]
                self._events[-1] = merged
            elif event["type"] == "live" and any(
                e["type"] == "live" and e["key"] == event["key"] for e in pending
            ):
                index = next(
                    i
                    for i in range(len(self._events) - 1, self._handed - self._first - 1, -1)
                    if self._events[i]["type"] == "live" and self._events[i]["key"] == event["key"]
                )
                self._events[index] = event
            else:
                self._events.append(event)
            self._changed.notify_all()

    def take(self, cursor: int, wait_s: float = 0.0) -> tuple[list[dict], int]:
        """Events from ``cursor`` on (waiting up to ``wait_s`` for one), and the next cursor. The
        reader passes back the cursor it got: what came before it has arrived and is forgotten."""
        with self._changed:
            drop = max(0, min(cursor - self._first, len(self._events)))
            del self._events[:drop]
            self._first += drop
            if not self._events and wait_s > 0:
                self._changed.wait(wait_s)
            events = list(self._events)
            self._handed = self._first + len(events)
            return events, self._handed


class TrainingWorker:
    """A training in this process; see the module's docstring. ``threads`` caps TensorFlow's
    thread pools; with ``gpus`` 0 the process sees no GPU, whatever the machine has; ``nice`` is
    the niceness the training runs at (0: as the server)."""

    def __init__(self, threads: int = 1, gpus: float = 0, nice: int = 0) -> None:
        # Before TensorFlow is imported, which reads these once.
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if not gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
        self.threads, self.nice = threads, nice
        self.channel = Channel()
        self.cancel = threading.Event()
        self.stop_step: int | None = None  # the global batch at which a stop was asked for
        self.step = 0
        self._previous_mean = 0.0
        self._smoothed: float | None = None

    # --- what the server calls ---------------------------------------------------------------------

    def poll(self, cursor: int, wait_s: float = 1.0) -> tuple[list[dict], int]:
        return self.channel.take(cursor, wait_s)

    def stop(self) -> None:
        if not self.cancel.is_set():
            self.stop_step = self.step
        self.cancel.set()

    def run(self, request: Request, data: Mnist | Callable[[], Mnist]) -> dict:
        """Train, test and return ``{"state", "model", "card", ...}``; a failure comes back as
        ``{"state": "failed", "error", "traceback"}`` rather than as an exception."""
        lower_priority(self.nice)  # before TensorFlow starts its threads, which inherit it
        self._state(LOADING, pid=os.getpid(), node=socket.gethostname(), threads=self.threads, nice=self.nice)
        try:
            mnist = data() if callable(data) else data
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(self.threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            return self._train(request, mnist)
        except Exception as exc:  # noqa: BLE001 - any failure must come back as a message
            return {
                "state": "failed",
                "error": describe(exc),
                "traceback": traceback.format_exc(),
            }

    # --- inside the worker ---------------------------------------------------------------------------

    def _state(self, state: str, **details: Any) -> None:
        self.channel.publish({"type": "state", "state": state, **details})

    def _on_batch(self, progress: BatchProgress) -> None:
        if self.step == 0:
            self._state(TRAINING)
        # Keras reports the running mean over the epoch; recover this batch's own loss from it.
        total = progress.loss * progress.batch
        loss = total - self._previous_mean * (progress.batch - 1) if progress.batch > 1 else progress.loss
        self._previous_mean = progress.loss
        self.step = (progress.epoch - 1) * progress.batches + progress.batch
        steps: list[int] = []
        losses: list[float] = []
        if np.isfinite(loss):
            self._smoothed = (
                loss if self._smoothed is None else SMOOTHING * self._smoothed + (1 - SMOOTHING) * loss
            )
            steps, losses = [self.step], [float(self._smoothed)]
        self.channel.publish(
            {
                "type": "batch",
                "epoch": progress.epoch,
                "batch": progress.batch,
                "batches": progress.batches,
                "elapsed": progress.elapsed,
                "steps": steps,
                "losses": losses,
            }
        )

    def _on_epoch(self, progress: EpochProgress) -> None:
        self.channel.publish({"type": "epoch", "entry": progress.as_dict()})
        if progress.val_confusion is not None:
            self.publish(CONFUSION, {"epoch": progress.epoch, "matrix": progress.val_confusion})

    def publish(self, key: str, value: Any) -> None:
        """Stream ``value`` (small, JSON-able) to the page as ``Snapshot.live[key]``."""
        self.channel.publish({"type": "live", "key": str(key), "value": value})

    def _callbacks(self, request: Request, mnist: Mnist) -> dict[str, Any]:
        from .training import Watch

        extra = request.live(self.publish) if request.live is not None else {}
        strip = mnist.test_images[strip_indices(mnist.test_labels)]

        def chain(own: Callable[[Any], None], name: str) -> Callable[[Any], None]:
            more = extra.get(name)
            if more is None:
                return own

            def both(progress: Any) -> None:
                own(progress)
                more(progress)

            return both

        return dict(
            on_batch=chain(self._on_batch, "on_batch"),
            on_epoch=chain(self._on_epoch, "on_epoch"),
            cancel=self.cancel,
            on_test=lambda: self._state(TESTING),
            watch=Watch(strip, lambda epoch, step, p: self.publish(STRIP, strip_reading(step, epoch, p))),
        )

    def _train(self, request: Request, mnist: Mnist) -> dict:
        from .evaluation import evaluate
        from .finetune import fine_tune
        from .inference import predict
        from .pipeline import train_on_mnist
        from .registry import load_model, write_model_file

        with tempfile.TemporaryDirectory(prefix="digit-job-") as folder:
            files = Path(folder)

            def model_from(pair: tuple[bytes, dict], name: str) -> Any:
                path = files / f"{name}.keras"
                path.write_bytes(pair[0])
                return load_model(path)

            callbacks = self._callbacks(request, mnist)
            outcome: dict[str, Any] = {}
            if request.fine_tune is not None:
                base = request.base
                if base is None:
                    raise ValueError("a fine-tuning needs its base model")
                tuned = fine_tune(
                    request.fine_tune,
                    request.train_config,
                    mnist,
                    lambda name: model_from(base, "base"),
                    lambda name: base[1],
                    command=request.command,
                    **callbacks,
                )
                run, baseline = tuned.run, tuned.mnist_before
                outcome.update(
                    handwriting_before=tuned.handwriting_before,
                    handwriting_after=tuned.handwriting_after,
                    handwriting_held_out=tuned.held_out,
                )
            else:
                run = train_on_mnist(
                    request.model_config, request.train_config, mnist, command=request.command, **callbacks
                )
                baseline = None
                if request.baseline is not None:
                    with contextlib.suppress(Exception):  # an unusable baseline: the page says "–"
                        model = model_from(request.baseline, "baseline")
                        baseline = evaluate(predict(model, mnist.test_images), mnist.test_labels).accuracy
            if run.result.cancelled:
                self.publish("stop", {"asked_at_batch": self.stop_step, "ended_at_batch": self.step})
            path = files / "trained.keras"
            write_model_file(run.result.model, path)
            return {
                "state": "stopped" if run.result.cancelled else "finished",
                "model": path.read_bytes(),
                "card": run.card,
                "test_accuracy": run.evaluation.accuracy,
                "baseline_accuracy": baseline,
                "parameters": int(run.result.model.count_params()),
                "training_seconds": run.result.seconds,
                "best_epoch": run.result.best_epoch,
                **outcome,
            }


def lower_priority(nice: int) -> None:
    """Raise the niceness of every thread of this process to at least ``nice`` (Linux keeps a
    niceness per thread; threads started later inherit their starter's). Never lowers it."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tasks = Path("/proc/self/task")
    ids = [int(task.name) for task in tasks.iterdir()] if tasks.is_dir() else [0]
    for tid in ids:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))


def describe(exc: BaseException) -> str:
    """A failure in one line for the page: out of memory says what to try."""
    text = f"{type(exc).__name__}: {exc}"
    if "ResourceExhausted" in type(exc).__name__ or isinstance(exc, MemoryError):
        text = "out of memory: try a smaller batch size, a narrower network or fewer images. " + text
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "…"
