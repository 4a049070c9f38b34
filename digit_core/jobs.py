"""Trainings as jobs of the server, each in a Ray worker process: queued, watched, stopped, saved,
and remembered across restarts.

A page starts a job with :meth:`Runner.start` and from then on only reads
:meth:`TrainingJob.snapshot`, so its user can switch pages or reload while it trains. Each job is a
Ray actor (:class:`digit_core.worker.TrainingWorker`) asking for its share of the CPUs
(:func:`digit_core.cluster.job_resources`): as many run at once as the cluster has room for, the
others wait in Ray's queue (the snapshot says where). One thread of the server per job connects to
Ray, submits the job, long-polls the worker's progress channel and, at the end, keeps the trained
model on disk (:mod:`digit_core.jobstore`) until its owner saves it to the registry or discards it.
A worker that dies (killed, out of memory) fails its job with the reason; the server goes on.

Every job belongs to an owner (an opaque id, :mod:`digit_core.workspace`): :meth:`Runner.get` and
:meth:`Runner.history` give an owner their own jobs only, whatever id is asked for. Records are
written to SQLite as a job goes, so after a restart the history says what each job became; a job
that was running when its server stopped is shown as lost. :data:`RUNNER` is this process's runner.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from . import cluster, registry
from .config import CNNConfig, ModelConfig, TrainConfig, arch_of
from .data import Mnist
from .finetune import FineTuneSpec
from .jobstore import JobStore
from .worker import LOADING, TESTING, TRAINING, Publish, Request, TrainingWorker, describe
from .workspace import LOCAL, check_owner

log = logging.getLogger(__name__)

# What a job is doing, in order; the last five are final.
QUEUED, FINISHED, STOPPED, FAILED, CANCELLED, LOST = (
    "queued",
    "finished",
    "stopped",
    "failed",
    "cancelled",  # stopped before it began: nothing was trained
    "lost",  # the server stopped while it ran
)
FINAL = (FINISHED, STOPPED, FAILED, CANCELLED, LOST)
MAX_CHART_POINTS = 400  # per-batch losses are thinned to this many points for the live chart
POLL_WAIT_S = 1.0  # how long one poll of a worker waits for news
PER_PERSON_ENV = "DIGIT_JOBS_PER_PERSON"
PER_PERSON = 3  # trainings a signed-in person may have running or queued at once
HISTORY = 20  # records kept per owner
KEEP_IN_MEMORY = 32  # finished jobs kept in memory (the rest are read back from the records)
NAME_PLACEHOLDER = "NAME"
# This server process, as written in its job records: a record of a server that is gone is lost.
SERVER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class BusyError(RuntimeError):
    """This owner has as many trainings running or queued as one person may."""


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's progress, safe to read while the job goes on."""

    id: str
    owner: str  # the name shown for who started it
    arch: str
    settings: dict
    state: str
    epoch: int  # 1-based epoch in progress (0 before the first batch)
    epochs: int
    batch: int
    batches: int
    elapsed: float  # seconds since the job was started (queued)
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
    queue_position: int | None = None  # 1 for the next to start, while queued
    waiting_for: str | None = None  # while queued: "engine" (Ray is starting) or "cpu"
    live: dict = field(default_factory=dict)  # what the worker streams besides progress
    worker: dict | None = None  # pid, node and threads of its worker process, once it runs
    command: list[str] | None = None  # the equivalent command line (``NAME`` for the name)
    created: float = 0.0  # when it was started, seconds since the epoch
    can_save: bool = False  # a trained model is kept for its owner to save
    discarded: bool = False

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


SNAPSHOT_FIELDS = {f.name for f in fields(Snapshot)}


def format_duration(seconds: float | None) -> str:
    """``75.2`` -> ``"1:15"``; ``3725`` -> ``"1:02:05"``; None -> ``"–"``."""
    if seconds is None or not np.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ordinal(n: int) -> str:
    """``1`` -> ``"1st"``, ``2`` -> ``"2nd"``, ``11`` -> ``"11th"``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def thin(
    steps: list[int], values: list[float], points: int = MAX_CHART_POINTS
) -> tuple[list[int], list[float]]:
    """At most ``points`` evenly spread ``(steps, values)``, always keeping the last one."""
    if len(steps) <= points:
        return list(steps), list(values)
    keep = np.unique(np.linspace(0, len(steps) - 1, points).round().astype(int))
    return [steps[i] for i in keep], [values[i] for i in keep]


def settings_of(model_config: ModelConfig, train_config: TrainConfig) -> dict:
    """The choices that made a run, as a flat dict for display."""
    return {
        "architecture": arch_of(model_config).upper(),
        "epochs": train_config.epochs,
        "batch size": train_config.batch_size,
        "learning rate": train_config.learning_rate,
        "optimizer": train_config.optimizer,
        "augmentation": train_config.augment is not None,
        "training images": train_config.limit,
        "validation images": train_config.validation_size,
        "seed": train_config.seed,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in vars(model_config).items()},
    }


OPTIMIZERS = {"adam": "Adam", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def describe_settings(settings: dict) -> str:
    """A run's settings (as :func:`settings_of` gives them) in plain words, for the page."""
    arch = str(settings.get("architecture", "")).upper()
    if arch == "CNN":
        filters = [max(1, round(f * settings.get("width", 1.0))) for f in settings.get("filters", [])]
        network = f"CNN with {' then '.join(map(str, filters))} filters" if filters else "CNN"
        if settings.get("dense_units"):
            network += f" and a dense layer of {settings['dense_units']:,}"
    else:
        units = settings.get("units") or []
        network = f"ANN with {_count(len(units), 'hidden layer')} of {units[0]:,} units" if units else "ANN"
    images = settings.get("training images")
    dropout = settings.get("dropout") or 0.0
    parts = [
        network,
        f"{_count(settings.get('epochs', 1), 'epoch')} over "
        + (f"{images:,} training images" if images else "all the training images"),
        f"{settings.get('validation images', 0):,} held out to validate",
        f"batches of {settings.get('batch size')}",
        f"learning rate up to {settings.get('learning rate', 0):g} ("
        + OPTIMIZERS.get(settings.get("optimizer", ""), str(settings.get("optimizer")))
        + ")",
        f"dropout {dropout:.0%}" if dropout else "no dropout",
        "augmented images" if settings.get("augmentation") else "no augmentation",
        f"seed {settings.get('seed', 0)}",
    ]
    return " · ".join(parts)


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


def _named(command: list[str], name: str) -> list[str]:
    return [name if part == NAME_PLACEHOLDER else part for part in command]


def _died(exc: BaseException) -> str:
    """Why a worker process is gone, in a line, from Ray's long account of it."""
    text = str(exc)
    kind = re.search(r"Worker exit type: (\w+)", text)
    pid = re.search(r"\bpid: (\d+)", text)
    who = f"its worker process (pid {pid.group(1)})" if pid else "its worker process"
    if (kind and kind.group(1) == "NODE_OUT_OF_MEMORY") or "low on memory" in text:
        return (
            f"{who} was stopped by Ray because the machine ran low on memory: try a smaller batch "
            "size, fewer images, or fewer trainings at once"
        )
    cause = f" (Ray: worker exit type {kind.group(1)})" if kind else ""
    return f"{who} died before the training ended: it was killed, ran out of memory or crashed{cause}"


_ACTOR_CLASS: Any = None


def _actor_class() -> Any:
    global _ACTOR_CLASS
    if _ACTOR_CLASS is None:
        import ray

        _ACTOR_CLASS = ray.remote(TrainingWorker)
    return _ACTOR_CLASS


class TrainingJob:
    """One training: what it is, what it has done so far, and the Ray actor doing it."""

    def __init__(
        self,
        runner: Runner,
        owner: str,
        owner_name: str,
        arch: str,
        settings: dict,
        epochs: int,
        command: list[str],
        base_model: str | None = None,
        models: registry.Registry | None = None,
        job_id: str | None = None,
    ) -> None:
        self.id = job_id or secrets.token_urlsafe(12)  # unguessable, though no longer a key
        self.owner = check_owner(owner)
        self.owner_name = owner_name
        self.arch, self.settings, self.epochs = arch, settings, epochs
        self.command = command
        self.base_model = base_model
        self.models = models
        self._runner = runner
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.created = time.time()
        self._ended: float | None = None
        self._state = QUEUED
        self._waiting_for: str | None = "engine"
        self._epoch = self._batch = self._batches = 0
        self._train_seconds: float | None = None
        self._history: list[dict] = []
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._live: dict[str, Any] = {}
        self._worker: dict | None = None
        self._error: str | None = None
        self._outcome: dict[str, Any] = {}
        self._saved_as: str | None = None
        self._discarded = False
        self._kept = False  # its trained model waits in the job store
        self._stop_asked = False
        self._actor: Any = None
        self._killed = False  # the actor was killed here (a stop before it started)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._ticket: int | None = None  # jobs are handed to Ray in the order they were started
        self.order = 0  # that order

    # --- the job's thread in the server --------------------------------------------------------------

    def _launch(self, request: Request, data: Mnist | Callable[[], Mnist]) -> None:
        self._persist()
        self._thread = threading.Thread(
            target=self._work, args=(request, data), name=f"training-{self.id}", daemon=True
        )
        self._thread.start()

    def _work(self, request: Request, data: Mnist | Callable[[], Mnist]) -> None:
        log.info("job %s (%s, owner %s) queued: %s", self.id, self.arch, self.owner, self.settings)
        try:
            self._submit_and_watch(request, data)
        except Exception as exc:  # noqa: BLE001 - any failure must end as a message, not a dead thread
            log.exception("job %s could not be run", self.id)
            self._finish(FAILED, error=describe(exc))
        finally:
            if self._ticket is not None:  # never submitted: let the next job have its turn
                with self._runner._turn(self._ticket):
                    pass
            self._done.set()

    def _submit_and_watch(self, request: Request, data: Mnist | Callable[[], Mnist]) -> None:
        cluster.connect()
        import ray

        data_arg = self._runner._data_arg(data)
        resources = cluster.job_resources()
        with self._lock:
            if self._stop_asked:
                self._state, self._waiting_for = CANCELLED, None
        if self._state == CANCELLED:
            self._finish(CANCELLED)
            return
        ticket, self._ticket = self._ticket, None
        with self._runner._turn(ticket):  # Ray queues what does not fit in the order it gets it
            actor = (
                _actor_class()
                .options(
                    num_cpus=resources.cpus,
                    num_gpus=resources.gpus,
                    max_concurrency=4,  # run, poll and stop at once
                    max_restarts=0,
                    max_task_retries=0,
                )
                .remote(resources.threads, resources.gpus, resources.nice)
            )
            result_ref = actor.run.remote(request, data_arg)
        with self._lock:
            self._actor, self._waiting_for = actor, "cpu"
            stop_now = self._stop_asked
        if stop_now:
            self._kill()
        try:
            cursor = 0
            while True:
                ready, _ = ray.wait([result_ref], timeout=0)
                try:
                    events, cursor = ray.get(actor.poll.remote(cursor, 0.0 if ready else POLL_WAIT_S))
                except ray.exceptions.RayActorError:
                    if not ready:
                        raise
                    events = []
                self._apply(events)
                if ready:
                    break
            outcome = ray.get(result_ref)
        except ray.exceptions.RayActorError as exc:
            if self._killed:
                self._finish(CANCELLED)
            else:
                log.error("job %s: its worker died: %s", self.id, exc)
                self._finish(FAILED, error=_died(exc))
            return
        finally:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)  # frees its CPU now
        if outcome.get("state") == FAILED:
            log.error("job %s failed: %s\n%s", self.id, outcome["error"], outcome.get("traceback", ""))
            self._finish(FAILED, error=outcome["error"])
            return
        store = self._runner.store
        store.keep_result(self.id, outcome.pop("model"), outcome.pop("card"))
        with self._lock:
            self._kept = True
        log.info(
            "job %s %s after %d epochs in %.1f s: test accuracy %.4f",
            self.id,
            outcome["state"],
            len(self._history),
            outcome["training_seconds"],
            outcome["test_accuracy"],
        )
        self._finish(outcome.pop("state"), outcome=outcome)

    def _apply(self, events: list[dict]) -> None:
        epoch_ended = changed = False
        with self._lock:
            for event in events:
                kind = event.get("type")
                if kind == "state":
                    changed = changed or event["state"] != self._state
                    self._state, self._waiting_for = event["state"], None
                    if event["state"] == LOADING:
                        self._worker = {k: event[k] for k in ("pid", "node", "threads", "nice") if k in event}
                elif kind == "batch":
                    if self._state == LOADING:
                        self._state, changed = TRAINING, True
                    self._epoch, self._batch, self._batches = event["epoch"], event["batch"], event["batches"]
                    self._train_seconds = event["elapsed"]
                    self._steps.extend(event["steps"])
                    self._losses.extend(event["losses"])
                elif kind == "epoch":
                    self._history.append(event["entry"])
                    epoch_ended = True
                elif kind == "live":
                    self._live[event["key"]] = event["value"]
        if epoch_ended or changed:
            self._persist()

    def _finish(self, state: str, error: str | None = None, outcome: dict | None = None) -> None:
        with self._lock:
            self._state, self._waiting_for, self._error = state, None, error
            self._outcome = outcome or {}
            if outcome and outcome.get("training_seconds") is not None:
                self._train_seconds = outcome["training_seconds"]
            self._ended = time.time()
            self._actor = None
            discarded = self._discarded
            if discarded:
                self._kept = False
        if discarded:
            self._runner.store.drop_result(self.id)
        self._persist()

    def _kill(self) -> None:
        import ray

        with self._lock:
            actor, self._killed = self._actor, True
        if actor is not None:
            ray.kill(actor, no_restart=True)

    # --- records ---------------------------------------------------------------------------------------

    def _record(self) -> dict:
        record = asdict(self.snapshot())
        record.update(
            owner_id=self.owner,
            server=SERVER,
            ended=self._ended,
            batch_steps=list(self._steps[-2000:]),
            batch_losses=list(self._losses[-2000:]),
        )
        record.pop("can_save")
        record.pop("queue_position")
        return record

    def _persist(self) -> None:
        with self._write_lock:
            record = self._record()
            try:
                self._runner.store.put(self.id, self.owner, SERVER, self.created, record["state"], record)
            except Exception:  # noqa: BLE001 - a record that cannot be written must not stop the job
                log.exception("job %s: its record could not be written", self.id)

    @classmethod
    def _restore(cls, runner: Runner, record: dict) -> TrainingJob:
        job = cls(
            runner,
            record["owner_id"],
            record.get("owner", ""),
            record.get("arch", "?"),
            record.get("settings", {}),
            record.get("epochs", 0),
            record.get("command") or [],
            record.get("base_model"),
            job_id=record["id"],
        )
        job.created = record.get("created", 0.0)
        job._ended = record.get("ended")
        job._state, job._waiting_for = record["state"], None
        job._epoch, job._batch, job._batches = (
            record.get("epoch", 0),
            record.get("batch", 0),
            record.get("batches", 0),
        )
        job._train_seconds = record.get("training_seconds")
        job._history = record.get("history", [])
        job._steps, job._losses = record.get("batch_steps", []), record.get("batch_losses", [])
        job._live, job._worker = record.get("live", {}), record.get("worker")
        job._error, job._saved_as = record.get("error"), record.get("saved_as")
        job._discarded = record.get("discarded", False)
        job._kept = not job._discarded and runner.store.result(job.id) is not None
        job._outcome = {
            key: record.get(key)
            for key in (
                "test_accuracy",
                "baseline_accuracy",
                "parameters",
                "best_epoch",
                "handwriting_before",
                "handwriting_after",
                "handwriting_held_out",
            )
        }
        job._done.set()
        return job

    # --- what pages call -------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        queue_position = self._runner.queue_position(self) if self._state == QUEUED else None
        with self._lock:
            steps, losses = thin(self._steps, self._losses)
            outcome = self._outcome
            end = self._ended if self._ended is not None else time.time()
            final = self._state in FINAL
            return Snapshot(
                id=self.id,
                owner=self.owner_name,
                arch=self.arch,
                settings=dict(self.settings),
                state=self._state,
                epoch=self._epoch,
                epochs=self.epochs,
                batch=self._batch,
                batches=self._batches,
                elapsed=max(0.0, end - self.created),
                history=list(self._history),
                batch_steps=steps,
                batch_losses=losses,
                error=self._error,
                test_accuracy=outcome.get("test_accuracy"),
                baseline_accuracy=outcome.get("baseline_accuracy"),
                parameters=outcome.get("parameters"),
                training_seconds=self._train_seconds,
                best_epoch=outcome.get("best_epoch"),
                saved_as=self._saved_as,
                stopping=self._stop_asked and not final,
                base_model=self.base_model,
                handwriting_before=outcome.get("handwriting_before"),
                handwriting_after=outcome.get("handwriting_after"),
                handwriting_held_out=outcome.get("handwriting_held_out"),
                queue_position=queue_position,
                waiting_for=self._waiting_for if self._state == QUEUED else None,
                live=dict(self._live),
                worker=dict(self._worker) if self._worker else None,
                command=list(self.command) if self.command else None,
                created=self.created,
                can_save=final and self._kept and self._state in (FINISHED, STOPPED),
                discarded=self._discarded,
            )

    @property
    def running(self) -> bool:
        with self._lock:
            return self._state not in FINAL

    def stop(self) -> None:
        """Stop after the current batch (the best weights so far are kept and tested); a job still
        waiting in the queue is taken out of it."""
        with self._lock:
            if self._state in FINAL or self._stop_asked:
                return
            self._stop_asked = True
            actor, started = self._actor, self._state != QUEUED
        log.info("job %s: stop asked for", self.id)
        if actor is None:
            return  # not submitted yet: its thread sees the flag
        if started:
            actor.stop.remote()
        else:
            self._kill()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it has."""
        return self._done.wait(timeout)

    def save(self, name: str, overwrite: bool = False, models: registry.Registry | None = None) -> None:
        """Save the trained model under ``name`` in ``models`` (the registry view it was started
        with, by default). Raises ``ValueError`` for a bad or shipped name,
        :class:`digit_core.registry.ModelError` when the name is taken (unless ``overwrite``) or the
        disk refuses, ``RuntimeError`` when there is no trained model to save."""
        registry.validate_name(name)
        if name.lower() in registry.SHIPPED:  # "CNN" is "cnn" on a case-insensitive disk
            raise ValueError(f"{name!r} is a shipped default; choose another name")
        kept = self._runner.store.result(self.id) if self.snapshot().can_save else None
        if kept is None:
            raise RuntimeError("this job has no trained model to save")
        model_file, card = kept
        card = {**card, "command": _named(self.command, name)}
        target = models or self.models or registry.Registry.single()
        target.save_model_file(model_file, name, card, overwrite=overwrite)
        with self._lock:
            self._saved_as = name
        self._persist()

    def discard(self) -> None:
        """Let go of the trained model (stopping the job first if it runs); the record stays."""
        self.stop()
        with self._lock:
            self._discarded = True
            final = self._state in FINAL
            if final:
                self._kept = False
        if final:
            self._runner.store.drop_result(self.id)
        self._persist()


class Runner:
    """Starts jobs, finds an owner's jobs, and remembers them (see the module's docstring)."""

    def __init__(self, store: JobStore | None = None, keep: int = KEEP_IN_MEMORY) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, TrainingJob] = OrderedDict()
        self._store = store
        self._recovered = False
        self._keep = keep
        self._data: OrderedDict[str, Any] = OrderedDict()  # MNIST in Ray's object store, by fingerprint
        self._tickets = 0  # handed out by start()
        self._serving = 0  # the ticket whose job may be handed to Ray now
        self._turns = threading.Condition()

    @contextlib.contextmanager
    def _turn(self, ticket: int | None) -> Iterator[None]:
        """Wait for ``ticket``'s turn, and pass the turn on after the block."""
        with self._turns:
            self._turns.wait_for(lambda: ticket is None or self._serving >= ticket)
        try:
            yield
        finally:
            with self._turns:
                if ticket is not None and self._serving == ticket:
                    self._serving += 1
                self._turns.notify_all()

    @property
    def store(self) -> JobStore:
        """The records, read from ``$DIGIT_JOBS_DIR`` on first use; records of trainings that were
        running under a server that is gone are marked lost then."""
        with self._lock:
            if self._store is None:
                self._store = JobStore()
            store = self._store
            recover, self._recovered = not self._recovered, True
        if recover:
            self._recover(store)
        return store

    def _recover(self, store: JobStore) -> None:
        for job_id, _owner, server in store.unfinished((QUEUED, LOADING, TRAINING, TESTING)):
            if server != SERVER and not _alive(server):
                store.set_state(job_id, LOST, error="the server stopped while this training ran")
                log.info("job %s was running when its server stopped: lost", job_id)

    def start(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        data: Mnist | Callable[[], Mnist],
        owner: str = LOCAL,
        owner_name: str = "",
        baseline: str | None = None,
        fine_tune: FineTuneSpec | None = None,
        models: registry.Registry | None = None,
        live: Callable[[Publish], dict[str, Callable[[Any], None]]] | None = None,
    ) -> TrainingJob:
        """Queue a training of ``model_config`` (or a fine-tuning of ``fine_tune.base``) for
        ``owner``. ``data`` is MNIST, or a function that loads it in the worker. ``baseline``
        names the model to compare with (by default the shipped one of the same architecture, or
        the fine-tuned model); models are read from ``models`` (``owner``'s registry view).
        Raises :class:`BusyError` when a signed-in owner has too many trainings already."""
        check_owner(owner)
        models = models or registry.Registry.single()
        store = self.store
        arch = arch_of(model_config)
        base_pair = None
        if fine_tune is not None:
            base_pair = (models.read_model_bytes(fine_tune.base), models.read_card(fine_tune.base))
            command = ["fine-tuned on the Train page from", fine_tune.base]
        else:
            command = train_command(model_config, train_config, NAME_PLACEHOLDER)
        baseline_pair = None
        if fine_tune is None:
            with contextlib.suppress(registry.ModelError, ValueError, OSError):  # none: the page says so
                name = baseline or arch
                baseline_pair = (models.read_model_bytes(name), models.read_card(name))
        request = Request(model_config, train_config, command, baseline_pair, fine_tune, base_pair, live)
        with self._lock:
            limit = _per_person()
            if owner != LOCAL:
                active = [job for job in self._jobs.values() if job.owner == owner and job.running]
                if len(active) >= limit:
                    raise BusyError(
                        f"one person may have at most {limit} training{'s' if limit != 1 else ''} "
                        f"running or queued at once, and you have {len(active)}: wait for one to "
                        f"end, or stop one"
                    )
            job = TrainingJob(
                self,
                owner,
                owner_name,
                arch,
                settings_of(model_config, train_config),
                train_config.epochs,
                command,
                fine_tune.base if fine_tune is not None else None,
                models,
            )
            job._ticket = job.order = self._tickets
            self._tickets += 1
            self._jobs[job.id] = job
            self._trim()
        job._launch(request, data)
        with contextlib.suppress(Exception):
            store.prune(owner, HISTORY)
        return job

    def _trim(self) -> None:
        finished = [key for key, kept in self._jobs.items() if not kept.running]
        for key in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[key]

    def _data_arg(self, data: Mnist | Callable[[], Mnist]) -> Any:
        """What the worker gets: MNIST put once in Ray's object store (each worker on a machine
        then maps the same memory), or the function that loads it."""
        if callable(data):
            return data
        import ray

        key = data.fingerprint()
        with self._lock:
            ref = self._data.get(key)
        if ref is None:
            ref = ray.put(data)
            with self._lock:
                self._data[key] = ref
                while len(self._data) > 2:
                    self._data.popitem(last=False)
        return ref

    def get(self, job_id: str | None, owner: str = LOCAL) -> TrainingJob | None:
        """``owner``'s job ``job_id`` (running, or as recorded), or None: also when the id is
        someone else's, so an id tells nothing about anyone else's jobs."""
        if not job_id:
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job if job.owner == owner else None
        record = self.store.get(job_id, owner)
        if record is None or record.get("owner_id") != owner:
            return None
        return TrainingJob._restore(self, record)

    def history(self, owner: str = LOCAL, limit: int = HISTORY) -> list[Snapshot]:
        """``owner``'s jobs, newest first: running ones as they are now, the rest as recorded."""
        with self._lock:
            live = {job.id: job for job in self._jobs.values() if job.owner == owner}
        found = []
        for record in self.store.records(owner, limit):
            if record.get("owner_id") != owner:
                continue
            job = live.get(record["id"]) or TrainingJob._restore(self, record)
            found.append(job.snapshot())
        return found

    def queue_position(self, job: TrainingJob) -> int | None:
        """1 for the next queued job to start, 2 for the one after, ..., in order of starting."""
        with self._lock:
            queued = [kept for kept in self._jobs.values() if kept._state == QUEUED]
        queued.sort(key=lambda kept: kept.order)
        return next((i + 1 for i, kept in enumerate(queued) if kept is job), None)

    def forget(self, job_id: str, owner: str = LOCAL) -> None:
        """Discard ``owner``'s job: stop it if it runs, drop its unsaved model; its record stays."""
        job = self.get(job_id, owner)
        if job is not None:
            job.discard()


def _per_person() -> int:
    text = os.environ.get(PER_PERSON_ENV, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else PER_PERSON


def _alive(server: str) -> bool:
    """Whether the server process that wrote a record still runs (on this machine)."""
    host, _, rest = server.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


RUNNER = Runner()  # Streamlit serves every session from one process: this is "the server's"
