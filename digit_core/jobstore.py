"""The trainings' history in SQLite, and each finished training's model until it is saved.

A job's record (its owner, its state and what the page shows of it) is written when it is queued,
when it starts, after every epoch and when it ends, so that after a restart of the server each
person still sees what their trainings became. The trained model waits in ``<folder>/<job id>/``
(``model.keras`` and ``card.json``) until its owner saves it to the registry or discards it.
The folder is ``$DIGIT_JOBS_DIR``, by default the project's ``data/jobs/``. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOBS_DIR_ENV = "DIGIT_JOBS_DIR"
DEFAULT_JOBS_DIR = Path(__file__).resolve().parent.parent / "data" / "jobs"
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,32}")
BUSY_TIMEOUT_S = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    server TEXT NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created);
"""


def jobs_dir() -> Path:
    env = os.environ.get(JOBS_DIR_ENV)
    return Path(env).expanduser() if env else DEFAULT_JOBS_DIR


def valid_id(job_id: object) -> bool:
    """Whether ``job_id`` looks like a job's id (so it is safe as a folder name)."""
    return isinstance(job_id, str) and ID_PATTERN.fullmatch(job_id) is not None


class JobStore:
    """Job records in ``<folder>/jobs.sqlite`` and results in ``<folder>/<id>/``."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else jobs_dir()
        self.path = self.folder / "jobs.sqlite"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            yield conn
        finally:
            conn.close()

    def put(self, job_id: str, owner: str, server: str, created: float, state: str, record: dict) -> None:
        """Write (or rewrite) one job's record."""
        text = json.dumps(record, default=_plain)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO jobs (id, owner, server, created, state, record) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record, "
                "server = excluded.server",
                (job_id, owner, server, created, state, text),
            )

    def get(self, job_id: str, owner: str) -> dict | None:
        """The record of job ``job_id`` if ``owner`` owns it; None otherwise (or for no such job)."""
        if not valid_id(job_id):
            return None
        with self._connect() as conn:
            row = conn.execute(
                "SELECT server, state, record FROM jobs WHERE id = ? AND owner = ?", (job_id, owner)
            ).fetchone()
        return _record(row) if row else None

    def records(self, owner: str, limit: int = 20) -> list[dict]:
        """``owner``'s newest records first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT server, state, record FROM jobs WHERE owner = ? ORDER BY created DESC LIMIT ?",
                (owner, int(limit)),
            ).fetchall()
        return [_record(row) for row in rows]

    def unfinished(self, states: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """``(id, owner, server)`` of every job whose state is one of ``states``."""
        marks = ", ".join("?" * len(states))
        with self._connect() as conn:
            return conn.execute(
                f"SELECT id, owner, server FROM jobs WHERE state IN ({marks})", states
            ).fetchall()

    def set_state(self, job_id: str, state: str, **changes: Any) -> None:
        """Change a stored job's state (and other fields of its record) without loading it."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None:
                record = {**json.loads(row[0]), "state": state, **changes}
                conn.execute(
                    "UPDATE jobs SET state = ?, record = ? WHERE id = ?",
                    (state, json.dumps(record, default=_plain), job_id),
                )
            conn.execute("COMMIT")

    def prune(self, owner: str, keep: int) -> list[str]:
        """Forget ``owner``'s records beyond the newest ``keep`` (and their results); returns their ids."""
        with self._connect() as conn:
            old = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM jobs WHERE owner = ? ORDER BY created DESC LIMIT -1 OFFSET ?",
                    (owner, int(keep)),
                )
            ]
            conn.executemany("DELETE FROM jobs WHERE id = ?", [(job_id,) for job_id in old])
        for job_id in old:
            self.drop_result(job_id)
        return old

    # --- results -------------------------------------------------------------------------------------

    def result_dir(self, job_id: str) -> Path:
        if not valid_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.folder / job_id

    def keep_result(self, job_id: str, model: bytes, card: dict) -> Path:
        """Write a finished job's model and card; returns the model file's path."""
        folder = self.result_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        model_file, card_file = folder / "model.keras", folder / "card.json"
        tmp = folder / ".model.keras.tmp"
        with open(tmp, "wb") as f:
            f.write(model)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, model_file)
        card_file.write_text(json.dumps(card, default=_plain), encoding="utf-8")
        return model_file

    def result(self, job_id: str) -> tuple[Path, dict] | None:
        """The kept model file and card of a job, or None when there is none (any more)."""
        folder = self.result_dir(job_id)
        try:
            card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        model_file = folder / "model.keras"
        return (model_file, card) if model_file.is_file() else None

    def drop_result(self, job_id: str) -> None:
        with contextlib.suppress(ValueError):
            shutil.rmtree(self.result_dir(job_id), ignore_errors=True)


def _record(row: tuple) -> dict:
    server, state, text = row
    return {**json.loads(text), "state": state, "server": server}


def _plain(value: Any) -> Any:
    """numpy scalars and tuples as JSON knows them."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def now() -> float:
    return time.time()
