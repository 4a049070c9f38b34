"""Training as a background job of the server: one at a time, watched by any number of pages.

A :class:`TrainingJob` trains in its own thread and records its progress; pages only read
:meth:`TrainingJob.snapshot`, so a user can switch pages, reload, or just watch someone else's run.
:data:`RUNNER` is the one per server process; it refuses a second job while one is running.
Nothing is written to the registry until the owner calls :meth:`TrainingJob.save`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import registry
from .config import CNNConfig, ModelConfig, TrainConfig, arch_of
from .data import Mnist
from .finetune import FineTuneResult, FineTuneSpec

if TYPE_CHECKING:  # these import TensorFlow; the job imports them in its thread, when it trains
    from .pipeline import Run
    from .training import BatchProgress, EpochProgress

log = logging.getLogger(__name__)

MAX_CHART_POINTS = 400  # per-batch losses are thinned to this many points for the live chart
SMOOTHING = 0.9  # weight of the past in the exponential moving average of the batch loss
MAX_ERROR_CHARS = 600

# What a job is doing, in order; the last three are final.
LOADING, TRAINING, TESTING, FINISHED, STOPPED, FAILED = (
    "loading",
    "training",
    "testing",
    "finished",
    "stopped",
    "failed",
)
FINAL = (FINISHED, STOPPED, FAILED)


class BusyError(RuntimeError):
    """Another training is running; ``job`` is it."""

    def __init__(self, job: TrainingJob):
        super().__init__(f"a training started by {job.owner} is running; try again when it ends")
        self.job = job


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's progress, safe to read while the job goes on."""

    id: str
    owner: str
    arch: str
    settings: dict
    state: str
    epoch: int  # 1-based epoch in progress (0 before the first batch)
    epochs: int
    batch: int
    batches: int
    elapsed: float  # seconds since the job started
    history: list[dict]  # one entry per finished epoch, as in a model card
    batch_steps: list[int]  # global batch numbers of ``batch_losses``
    batch_losses: list[float]  # smoothed per-batch training loss
    error: str | None
    test_accuracy: float | None
    baseline_accuracy: float | None  # the shipped model of the same architecture, same test set
    parameters: int | None
    training_seconds: float | None
    best_epoch: int | None
    saved_as: str | None
    stopping: bool = False  # a stop was asked for and the current batch is finishing
    base_model: str | None = None  # the model being fine-tuned, if this is a fine-tuning
    handwriting_before: float | None = None  # on the held-out handwriting, when fine-tuning
    handwriting_after: float | None = None
    handwriting_held_out: int | None = None

    @property
    def running(self) -> bool:
        return self.state not in FINAL

    @property
    def fraction(self) -> float:
        """Share of all planned batches done, in [0, 1]."""
        total = self.epochs * self.batches
        done = (self.epoch - 1) * self.batches + self.batch if self.epoch else 0
        return min(1.0, done / total) if total else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds of training left at the pace so far, or None before there is a pace."""
        if not self.running or self.fraction <= 0 or self.state != TRAINING:
            return None
        spent = self.training_seconds or 0.0
        return spent / self.fraction * (1 - self.fraction)


def format_duration(seconds: float | None) -> str:
    """``75.2`` -> ``"1:15"``; ``3725`` -> ``"1:02:05"``; None -> ``"–"``."""
    if seconds is None or not np.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def thin(
    steps: list[int], values: list[float], points: int = MAX_CHART_POINTS
) -> tuple[list[int], list[float]]:
    """At most ``points`` evenly spread ``(steps, values)``, always keeping the last one."""
    if len(steps) <= points:
        return list(steps), list(values)
    keep = np.unique(np.linspace(0, len(steps) - 1, points).round().astype(int))
    return [steps[i] for i in keep], [values[i] for i in keep]


class TrainingJob:
    """One training run in a background thread; see :meth:`snapshot`, :meth:`stop`, :meth:`save`.

    ``load_data`` is called in the thread and returns a :class:`digit_core.data.Mnist`, so a
    slow load shows as the job's first state. ``baseline`` names the registry model to compare
    with (by default the shipped model of the same architecture).
    """

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        load_data: Callable[[], Mnist],
        owner: str,
        baseline: str | None = None,
        fine_tune: FineTuneSpec | None = None,
    ) -> None:
        self.id = secrets.token_urlsafe(9)  # unguessable: it is what lets its owner act on it
        self.owner = owner
        self.model_config, self.train_config = model_config, train_config
        self.arch = arch_of(model_config)
        self.fine_tune = fine_tune
        # A fine-tuning is compared with its base model, a new model with the shipped one.
        self.baseline = baseline or (fine_tune.base if fine_tune is not None else self.arch)
        self._load_data = load_data
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = LOADING
        self._start = time.monotonic()
        self._train_start: float | None = None
        self._train_seconds: float | None = None
        self._epoch = self._batch = self._batches = 0
        self._history: list[dict] = []
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._previous_mean = 0.0
        self._smoothed: float | None = None
        self._error: str | None = None
        self._saved_as: str | None = None
        self._baseline_accuracy: float | None = None
        self._tuned: FineTuneResult | None = None  # of a finished fine-tuning
        self.run: Run | None = None  # once the job has finished or stopped
        self._thread = threading.Thread(target=self._work, name=f"training-{self.id}", daemon=True)

    # --- the training thread -------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def _on_batch(self, progress: BatchProgress) -> None:
        # Keras reports the running mean over the epoch; recover this batch's own loss from it.
        total = progress.loss * progress.batch
        loss = total - self._previous_mean * (progress.batch - 1) if progress.batch > 1 else progress.loss
        self._previous_mean = progress.loss
        with self._lock:
            if self._state == LOADING:
                self._state = TRAINING
            self._epoch, self._batch, self._batches = progress.epoch, progress.batch, progress.batches
            self._train_seconds = progress.elapsed
            if np.isfinite(loss):
                self._smoothed = (
                    loss if self._smoothed is None else (SMOOTHING * self._smoothed + (1 - SMOOTHING) * loss)
                )
                self._steps.append((progress.epoch - 1) * progress.batches + progress.batch)
                self._losses.append(float(self._smoothed))

    def _on_epoch(self, progress: EpochProgress) -> None:
        with self._lock:
            self._history.append(progress.as_dict())

    def _work(self) -> None:
        from .evaluation import evaluate
        from .finetune import fine_tune
        from .inference import predict
        from .pipeline import train_on_mnist

        log.info("job %s (%s, started by %s) begins: %s", self.id, self.arch, self.owner, self.settings())
        try:
            mnist = self._load_data()
            with self._lock:
                self._state = TRAINING
            callbacks: dict[str, Any] = dict(
                on_batch=self._on_batch, on_epoch=self._on_epoch, cancel=self._cancel, on_test=self._testing
            )
            tuned: FineTuneResult | None = None
            baseline: float | None
            if self.fine_tune is not None:
                tuned = fine_tune(
                    self.fine_tune,
                    self.train_config,
                    mnist,
                    registry.load_model,
                    registry.read_card,
                    command=self._command("NAME"),
                    **callbacks,
                )
                run, baseline = tuned.run, tuned.mnist_before
            else:
                run = train_on_mnist(
                    self.model_config, self.train_config, mnist, command=self._command("NAME"), **callbacks
                )
                baseline = None
                with contextlib.suppress(registry.ModelError, ValueError):  # none: the page says so
                    baseline = evaluate(
                        predict(registry.load_model(self.baseline), mnist.test_images), mnist.test_labels
                    ).accuracy
            with self._lock:
                self.run, self._baseline_accuracy, self._tuned = run, baseline, tuned
                self._train_seconds = run.result.seconds
                self._state = STOPPED if run.result.cancelled else FINISHED
            log.info(
                "job %s %s after %d epochs in %.1f s: test accuracy %.4f",
                self.id,
                self._state,
                len(self._history),
                run.result.seconds,
                run.evaluation.accuracy,
            )
        except Exception as exc:  # noqa: BLE001 - any failure must end as a message, not a dead thread
            # The page shows a short message; the whole story, traceback included, goes to the log.
            log.exception("job %s (%s, started by %s) failed", self.id, self.arch, self.owner)
            with self._lock:
                self._error = _describe(exc)
                self._state = FAILED

    def _command(self, name: str) -> list[str]:
        if self.fine_tune is not None:  # no command line fine-tunes: say where it was made
            return ["fine-tuned on the Train page from", self.fine_tune.base]
        return train_command(self.model_config, self.train_config, name)

    def _testing(self) -> None:
        with self._lock:
            self._state = TESTING

    # --- what pages call -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            steps, losses = thin(self._steps, self._losses)
            run = self.run
            return Snapshot(
                id=self.id,
                owner=self.owner,
                arch=self.arch,
                settings=self.settings(),
                state=self._state,
                epoch=self._epoch,
                epochs=self.train_config.epochs,
                batch=self._batch,
                batches=self._batches,
                elapsed=time.monotonic() - self._start,
                history=list(self._history),
                batch_steps=steps,
                batch_losses=losses,
                error=self._error,
                test_accuracy=run.evaluation.accuracy if run else None,
                baseline_accuracy=self._baseline_accuracy,
                parameters=int(run.result.model.count_params()) if run else None,
                training_seconds=self._train_seconds,
                best_epoch=run.result.best_epoch if run else None,
                saved_as=self._saved_as,
                stopping=self._cancel.is_set() and self._state not in FINAL,
                base_model=self.fine_tune.base if self.fine_tune is not None else None,
                handwriting_before=self._tuned.handwriting_before if self._tuned else None,
                handwriting_after=self._tuned.handwriting_after if self._tuned else None,
                handwriting_held_out=self._tuned.held_out if self._tuned else None,
            )

    def settings(self) -> dict:
        """The choices that made this run, as a flat dict for display."""
        train = self.train_config
        return {
            "architecture": self.arch.upper(),
            "epochs": train.epochs,
            "batch size": train.batch_size,
            "learning rate": train.learning_rate,
            "optimizer": train.optimizer,
            "augmentation": train.augment is not None,
            "training images": train.limit,
            "validation images": train.validation_size,
            "seed": train.seed,
            **{k: v for k, v in vars(self.model_config).items()},
        }

    @property
    def running(self) -> bool:
        with self._lock:
            return self._state not in FINAL

    def stop(self) -> None:
        """Stop after the current batch; the best weights so far are kept and tested."""
        if not self._cancel.is_set():
            log.info("job %s: stop asked for", self.id)
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def save(self, name: str, overwrite: bool = False, root: Path | None = None) -> None:
        """Save the trained model under ``name``. Raises ``ValueError`` for a bad or shipped name,
        :class:`digit_core.registry.ModelError` when the name is taken (unless ``overwrite``) or
        the disk refuses, ``RuntimeError`` when there is no trained model to save."""
        registry.validate_name(name)
        if name.lower() in registry.SHIPPED:  # "CNN" is "cnn" on a case-insensitive disk
            raise ValueError(f"{name!r} is a shipped default; choose another name")
        with self._lock:
            run = self.run
        if run is None:
            raise RuntimeError("this job has no trained model to save")
        card = {**run.card, "command": self._command(name)}
        registry.save_model(run.result.model, name, card, root=root, overwrite=overwrite)
        with self._lock:
            self._saved_as = name


def train_command(model_config: ModelConfig, train_config: TrainConfig, name: str) -> list[str]:
    """The ``python -m digit_core train`` command line that trains the same model."""
    args = [
        "python",
        "-m",
        "digit_core",
        "train",
        "--arch",
        arch_of(model_config),
        "--name",
        name,
        "--epochs",
        str(train_config.epochs),
        "--batch-size",
        str(train_config.batch_size),
        "--lr",
        f"{train_config.learning_rate:g}",
        "--optimizer",
        train_config.optimizer,
        "--augment" if train_config.augment is not None else "--no-augment",
        "--dropout",
        f"{model_config.dropout:g}",
        "--validation-size",
        str(train_config.validation_size),
        "--patience",
        str(train_config.patience),
        "--seed",
        str(train_config.seed),
    ]
    if isinstance(model_config, CNNConfig):
        args += ["--width", f"{model_config.width:g}"]
    else:
        args += ["--units", *(str(u) for u in model_config.units)]
    if train_config.limit is not None:
        args += ["--limit", str(train_config.limit)]
    return args


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if "ResourceExhausted" in type(exc).__name__ or isinstance(exc, MemoryError):
        text = "out of memory: try a smaller batch size, a narrower network or fewer images. " + text
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "…"


class Runner:
    """Starts training jobs one at a time and keeps the last few finished ones for their owners."""

    def __init__(self, keep: int = 8) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, TrainingJob] = OrderedDict()
        self._retired: list[TrainingJob] = []  # forgotten while running: they hold the slot till done
        self._keep = keep

    def start(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        load_data: Callable[[], Mnist],
        owner: str,
        **kwargs: Any,
    ) -> TrainingJob:
        """Start a job; raises :class:`BusyError` while another is running."""
        with self._lock:
            busy = self._running()
            if busy is not None:
                raise BusyError(busy)
            job = TrainingJob(model_config, train_config, load_data, owner, **kwargs)
            self._jobs[job.id] = job
            # Unsaved results hold a model in memory: keep only the newest few finished jobs.
            finished = [key for key, kept in self._jobs.items() if not kept.running]
            for key in finished[: max(0, len(self._jobs) - self._keep)]:
                del self._jobs[key]
            job.start()
            return job

    def _running(self) -> TrainingJob | None:
        self._retired = [job for job in self._retired if job.running]
        return next((job for job in [*self._jobs.values(), *self._retired] if job.running), None)

    def running(self) -> TrainingJob | None:
        """The job training now, whoever started it."""
        with self._lock:
            return self._running()

    def get(self, job_id: str | None) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def forget(self, job_id: str) -> None:
        """Drop a finished job and the model it holds (a running one is stopped first)."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is not None and job.running:
                self._retired.append(job)
        if job is not None:
            job.stop()


RUNNER = Runner()  # Streamlit serves every session from one process: this is "the server's"
