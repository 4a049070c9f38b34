"""The user's own handwriting set: labelled drawings in an SQLite database (no TensorFlow).

Each sample keeps the 28x28 model input (``(28, 28) uint8``, white on black, as MNIST), the raw
drawing as PNG, the label, the time, and what the model predicted when it was saved. Every write
is one transaction, so several sessions can add at once and an import is all or nothing. The set
moves between machines as ``.npz`` (``images``, ``labels``) or as a zip of PNGs with ``labels.csv``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import logging
import os
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .spec import IMAGE_SIZE, NUM_CLASSES

log = logging.getLogger(__name__)

DB_ENV = "DIGIT_HANDWRITING_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "handwriting.sqlite"
BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another one before giving up
MAX_IMPORT_BYTES = 200 * 2**20
MAX_IMPORT_SAMPLES = 100_000
MAX_PNG_BYTES = 2 * 2**20  # one raw drawing
MAX_LABELS_BYTES = 10 * 2**20  # labels.csv of an imported zip

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    image BLOB NOT NULL CHECK (length(image) = 784),
    drawing BLOB,
    created TEXT NOT NULL,
    predicted INTEGER CHECK (predicted IS NULL OR predicted BETWEEN 0 AND 9),
    confidence REAL,
    model TEXT
);
"""


class HandwritingError(Exception):
    """The handwriting set cannot be read or written; the message says why and what to do."""


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``added`` new samples; ``skipped`` exact duplicates (the same image and
    label as a sample already in the set, or earlier in the same file) that were not added again."""

    added: int
    skipped: int

    def __str__(self) -> str:
        return f"{self.added:,} added, {self.skipped:,} already there"


@dataclass(frozen=True)
class Removed:
    """A deleted sample, whole, so that :meth:`HandwritingStore.restore` can put it back."""

    id: int
    row: tuple  # label, image, drawing, created, predicted, confidence, model


@dataclass(frozen=True)
class Sample:
    id: int
    label: int
    image: np.ndarray  # (28, 28) uint8, white digit on black
    created: str
    predicted: int | None
    confidence: float | None
    model: str | None


def db_path() -> Path:
    """``$DIGIT_HANDWRITING_DB`` if set, else ``data/handwriting.sqlite`` in the project."""
    env = os.environ.get(DB_ENV)
    return Path(env).expanduser() if env else DEFAULT_DB


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A model input ``(28, 28)`` float in [0, 1] (or uint8) as ``(28, 28) uint8``."""
    array = np.asarray(image)
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected a ({IMAGE_SIZE}, {IMAGE_SIZE}) image, got {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError("expected pixel values in [0, 1]")
    return (array * 255).round().astype(np.uint8)


def _check_label(label: object) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < NUM_CLASSES:
        raise ValueError(f"a label is a digit 0-9, got {label!r}")
    return int(label)


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode (readers never wait for a writer; it stays so once set). Switching
    needs the file to itself and SQLite does not wait for that, so a new file that several writers
    open at once is retried here until ``timeout``."""
    deadline = time.monotonic() + timeout
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class HandwritingStore:
    """The handwriting set in the SQLite file ``path`` (created on first write)."""

    def __init__(self, path: str | os.PathLike | None = None, timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path) if path is not None else db_path()
        self.timeout = timeout

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success), with errors made plain."""
        conn = None
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            _use_wal(conn, self.timeout)
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            if write:
                conn.execute(SCHEMA)
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            _rollback(conn)
            if isinstance(exc, (sqlite3.Error, OSError)):
                log.warning("handwriting set %s: %s: %s", self.path, type(exc).__name__, exc)
                raise self._explain(exc) from exc
            raise
        finally:
            if conn is not None:
                conn.close()

    def _explain(self, exc: sqlite3.Error | OSError) -> HandwritingError:
        """What a database or disk error means for the user."""
        where = f"the handwriting set {self.path}"
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            return HandwritingError(f"{where} is busy (locked by another program); try again in a moment")
        if isinstance(exc, sqlite3.OperationalError):
            return HandwritingError(f"{where} cannot be used: {exc}")
        if isinstance(exc, sqlite3.IntegrityError):  # a row the schema refuses: not a damaged file
            return HandwritingError(f"a sample was refused by the handwriting set: {exc}")
        if isinstance(exc, sqlite3.Error):
            return HandwritingError(
                f"{where} is damaged ({exc}); move it away or point {DB_ENV} to "
                f"another file to start a new one"
            )
        return HandwritingError(f"{where} cannot be opened: {exc.strerror or exc}")

    def _read(self, query: str, args: tuple = ()) -> list[tuple]:
        """The rows of a query; none while the set has no file or no table yet (nothing saved)."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'samples'").fetchone():
                return []
            return conn.execute(query, args).fetchall()

    # --- writing ---------------------------------------------------------------------------------

    def add(
        self,
        image: np.ndarray,
        label: int,
        drawing_png: bytes | None = None,
        predicted: int | None = None,
        confidence: float | None = None,
        model: str | None = None,
    ) -> int:
        """Store one sample; ``image`` is the model input. Returns the new sample's id."""
        row = _row(image, label, drawing_png, predicted, confidence, model)
        with self._connect(write=True) as conn:
            sample_id = conn.execute(
                "INSERT INTO samples (label, image, drawing, created, predicted, confidence, "
                "model) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            ).lastrowid
        assert sample_id is not None  # an INSERT always has one
        return sample_id

    def delete(self, sample_id: int) -> bool:
        """Remove one sample; False if there was none with that id."""
        with self._connect(write=True) as conn:
            deleted = conn.execute("DELETE FROM samples WHERE id = ?", (int(sample_id),)).rowcount > 0
        if deleted:
            log.info("handwriting set %s: deleted sample %d", self.path, sample_id)
        return deleted

    def remove(self, sample_id: int) -> Removed | None:
        """Delete one sample and return it whole (for :meth:`restore`); None if there was none."""
        with self._connect(write=True) as conn:
            row = conn.execute(
                "SELECT label, image, drawing, created, predicted, confidence, model FROM samples "
                "WHERE id = ?",
                (int(sample_id),),
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM samples WHERE id = ?", (int(sample_id),))
        log.info("handwriting set %s: deleted sample %d", self.path, sample_id)
        return Removed(int(sample_id), tuple(row))

    def restore(self, removed: Removed) -> bool:
        """Put a removed sample back, with its id; False if that id is taken (already restored)."""
        with self._connect(write=True) as conn:
            restored = (
                conn.execute(
                    "INSERT OR IGNORE INTO samples (id, label, image, drawing, created, predicted, "
                    "confidence, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (removed.id, *removed.row),
                ).rowcount
                > 0
            )
        if restored:
            log.info("handwriting set %s: restored sample %d", self.path, removed.id)
        return restored

    def add_many(self, images: np.ndarray, labels: np.ndarray) -> int:
        """Store many samples in one transaction: all of them or, on any error, none."""
        rows = [_row(image, label) for image, label in zip(images, labels)]
        with self._connect(write=True) as conn:
            conn.executemany(
                "INSERT INTO samples (label, image, drawing, created, predicted, confidence, "
                "model) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        log.info("handwriting set %s: added %d samples in one transaction", self.path, len(rows))
        return len(rows)

    def add_new(self, images: np.ndarray, labels: np.ndarray) -> ImportResult:
        """Store the samples that are not already in the set (the same image with the same label),
        in one transaction: all of those or, on any error, none."""
        rows = [_row(image, label) for image, label in zip(images, labels)]
        with self._connect(write=True) as conn:
            seen = {(label, _key(blob)) for label, blob in conn.execute("SELECT label, image FROM samples")}
            new = []
            for row in rows:
                key = (row[0], _key(row[1]))
                if key not in seen:
                    seen.add(key)
                    new.append(row)
            conn.executemany(
                "INSERT INTO samples (label, image, drawing, created, predicted, confidence, "
                "model) VALUES (?, ?, ?, ?, ?, ?, ?)",
                new,
            )
        result = ImportResult(len(new), len(rows) - len(new))
        log.info("handwriting set %s: %s, in one transaction", self.path, result)
        return result

    # --- reading ---------------------------------------------------------------------------------

    def version(self) -> tuple[int, int, int]:
        """Changes whenever the set does (samples are only ever added or deleted, never edited):
        ``(count, largest id, sum of ids)``; a cache key for exports."""
        rows = self._read("SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM samples")
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else (0, 0, 0)

    def counts(self) -> list[int]:
        """Samples per digit, ``[count of 0s, ..., count of 9s]``."""
        found = [0] * NUM_CLASSES
        for label, count in self._read("SELECT label, COUNT(*) FROM samples GROUP BY label"):
            found[label] = count
        return found

    def samples(self, label: int | None = None, limit: int = 1000) -> list[Sample]:
        """The newest samples first, of one digit or all."""
        query = "SELECT id, label, image, created, predicted, confidence, model FROM samples"
        args: tuple = ()
        if label is not None:
            query, args = query + " WHERE label = ?", (_check_label(label),)
        rows = self._read(query + " ORDER BY id DESC LIMIT ?", (*args, int(limit)))
        return [Sample(r[0], r[1], _image(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def drawing(self, sample_id: int) -> bytes | None:
        """The raw drawing of one sample as PNG bytes, if it was kept."""
        rows = self._read("SELECT drawing FROM samples WHERE id = ?", (int(sample_id),))
        return rows[0][0] if rows else None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sample, oldest first: images ``(N, 28, 28) uint8`` and labels ``(N,) uint8``."""
        rows = self._read("SELECT image, label FROM samples ORDER BY id")
        images = np.zeros((len(rows), IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        for i, (blob, _) in enumerate(rows):
            images[i] = _image(blob)
        return images, np.array([r[1] for r in rows], dtype=np.uint8)

    # --- moving the set ---------------------------------------------------------------------------

    def export_npz(self) -> bytes:
        images, labels = self.arrays()
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=images, labels=labels)
        return buffer.getvalue()

    def export_zip(self) -> bytes:
        """A zip of ``<n>_<label>.png`` model inputs (n counts from 0) and ``labels.csv``
        (columns ``file``, ``label``)."""
        images, labels = self.arrays()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            table = io.StringIO()
            writer = csv.writer(table)
            writer.writerow(["file", "label"])
            for index, (image, label) in enumerate(zip(images, labels)):
                name = f"{index:05d}_{label}.png"
                archive.writestr(name, _png(image))
                writer.writerow([name, int(label)])
            archive.writestr("labels.csv", table.getvalue())
        return buffer.getvalue()

    def import_file(self, name: str, data: bytes) -> ImportResult:
        """Import a ``.npz`` or ``.zip`` export; every sample is checked before any is stored, and
        exact duplicates of samples already there are skipped (importing your own export twice
        adds nothing). Raises :class:`HandwritingError` saying what is wrong."""
        if len(data) > MAX_IMPORT_BYTES:
            raise HandwritingError(f"{name} is larger than {MAX_IMPORT_BYTES // 2**20} MB")
        if name.lower().endswith(".npz"):
            images, labels = read_npz(data)
        elif name.lower().endswith(".zip"):
            images, labels = read_zip(data)
        else:
            raise HandwritingError(f"{name}: expected a .npz or a .zip export")
        log.info("handwriting set %s: importing %d samples from %s", self.path, len(labels), name)
        return self.add_new(images, labels)


def digest(image: np.ndarray) -> str:
    """A short hash of one image, to tell whether a drawing was already saved."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]


def _key(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """A short hash of a set's contents: equal fingerprints mean identical sets."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()[:16]


def _npy_shape(archive: zipfile.ZipFile, member: str) -> tuple[int, ...]:
    """The shape an ``.npy`` member declares, read from its header without loading the array."""
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        shape, _, _ = (
            np.lib.format.read_array_header_1_0(f)
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0(f)
        )
    return shape


def read_npz(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``images`` and ``labels`` from an ``.npz`` export, checked; no pickles are loaded, and the
    declared sizes are checked before any array is (a small file may declare a huge one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if not {"images.npy", "labels.npy"} <= names:
                raise HandwritingError("the .npz must hold arrays named 'images' and 'labels'")
            shape = _npy_shape(archive, "images.npy")
            if len(shape) != 3 or shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
                raise HandwritingError(f"images must have shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), got {shape}")
            if shape[0] > MAX_IMPORT_SAMPLES or _npy_shape(archive, "labels.npy") != (shape[0],):
                raise HandwritingError(
                    f"{shape[0]:,} images: at most {MAX_IMPORT_SAMPLES:,}, each with one label"
                )
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except HandwritingError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise HandwritingError(f"not a readable .npz file ({exc})") from exc
    return _checked(images, labels)


def read_zip(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels from a zip of PNGs with ``labels.csv`` (columns ``file``, ``label``)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise HandwritingError(f"not a readable zip file ({exc})") from exc
    with archive:
        try:
            if archive.getinfo("labels.csv").file_size > MAX_LABELS_BYTES:
                raise HandwritingError(f"labels.csv is larger than {MAX_LABELS_BYTES // 2**20} MB")
            table = archive.read("labels.csv").decode("utf-8")
            rows = list(csv.DictReader(io.StringIO(table)))
        except KeyError as exc:
            raise HandwritingError("the zip has no labels.csv (columns: file, label)") from exc
        except (UnicodeDecodeError, zipfile.BadZipFile, OSError, csv.Error) as exc:
            raise HandwritingError(f"labels.csv cannot be read ({exc})") from exc
        if rows and not {"file", "label"} <= set(rows[0]):
            raise HandwritingError("labels.csv needs the columns file and label")
        if len(rows) > MAX_IMPORT_SAMPLES:
            raise HandwritingError(f"more than {MAX_IMPORT_SAMPLES:,} samples")
        images, labels = [], []
        for line, row in enumerate(rows, start=2):
            where = f"labels.csv line {line}"
            try:
                label = int(row["label"])
                info = archive.getinfo(row["file"])
                if info.file_size > MAX_PNG_BYTES:
                    raise HandwritingError(f"{where}: {row['file']} is too large")
                with Image.open(io.BytesIO(archive.read(info))) as picture:
                    if picture.size != (IMAGE_SIZE, IMAGE_SIZE):  # checked before decoding
                        raise HandwritingError(
                            f"{where}: {row['file']} is {picture.size[0]}x"
                            f"{picture.size[1]}, not {IMAGE_SIZE}x{IMAGE_SIZE}"
                        )
                    images.append(np.asarray(picture.convert("L"), dtype=np.uint8))
            except HandwritingError:
                raise
            except KeyError as exc:
                raise HandwritingError(f"{where}: {row.get('file')!r} is not in the zip") from exc
            except (ValueError, TypeError) as exc:
                raise HandwritingError(f"{where}: the label {row.get('label')!r} is not a digit") from exc
            except (OSError, zipfile.BadZipFile, Image.DecompressionBombError) as exc:
                raise HandwritingError(f"{where}: {row['file']} is not a readable PNG ({exc})") from exc
            labels.append(label)
    if not images:
        raise HandwritingError("the zip holds no samples")
    return _checked(np.stack(images), np.array(labels))


def _checked(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise HandwritingError(f"images must have shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), got {images.shape}")
    if labels.shape != (len(images),):
        raise HandwritingError(f"{len(images)} images but labels of shape {labels.shape}")
    if len(images) > MAX_IMPORT_SAMPLES:
        raise HandwritingError(f"more than {MAX_IMPORT_SAMPLES:,} samples")
    if not np.issubdtype(labels.dtype, np.integer) or (
        len(labels) and not (labels.min() >= 0 and labels.max() < NUM_CLASSES)
    ):
        raise HandwritingError("labels must be digits 0-9")
    if images.dtype != np.uint8:
        if (
            not np.issubdtype(images.dtype, np.floating)
            or not np.all(np.isfinite(images))
            or (len(images) and (images.min() < 0 or images.max() > 1))
        ):
            raise HandwritingError("images must be uint8, or floats in [0, 1]")
        images = (images * 255).round().astype(np.uint8)
    return images, labels.astype(np.uint8)


def _row(
    image: np.ndarray,
    label: int,
    drawing_png: bytes | None = None,
    predicted: int | None = None,
    confidence: float | None = None,
    model: str | None = None,
) -> tuple:
    if drawing_png is not None and len(drawing_png) > MAX_PNG_BYTES:
        raise ValueError("the drawing is too large to keep")
    return (
        _check_label(label),
        to_uint8(image).tobytes(),
        drawing_png,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        None if predicted is None else _check_label(predicted),
        None if confidence is None else float(confidence),
        model,
    )


def _image(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE).copy()


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing_png(rgba: np.ndarray) -> bytes:
    """A canvas drawing ``(H, W, 4) uint8`` as PNG bytes, to keep beside the model input."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgba, dtype=np.uint8)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _rollback(conn: sqlite3.Connection | None) -> None:
    if conn is not None and conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
