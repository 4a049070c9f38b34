"""MNIST as uint8 arrays, found locally first and downloaded only as a last resort.

Search order: ``$DIGIT_DATA_DIR`` (four ``*-ubyte.gz`` IDX files or ``mnist.npz``), the project's
``data/`` folder, Keras' cache (``~/.keras/datasets/mnist.npz``), then Keras' own downloader.
Importing this module loads nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .spec import IMAGE_SIZE, NUM_CLASSES

DATA_DIR_ENV = "DIGIT_DATA_DIR"
PROJECT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
KERAS_CACHE = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension


class DataError(ValueError):
    """A data file exists but cannot be used; the message names the file and the problem."""


class MnistNotFoundError(FileNotFoundError):
    """MNIST is in none of the places searched and could not be downloaded."""


@dataclass(frozen=True)
class Mnist:
    """MNIST arrays: images ``(N, 28, 28) uint8`` (white digit on black), labels ``(N,) uint8``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    def fingerprint(self) -> str:
        """A short sha256 over all four arrays: equal fingerprints mean identical data."""
        return _fingerprint(self.train_images, self.train_labels, self.test_images, self.test_labels)


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _open(path: Path) -> gzip.GzipFile | io.BufferedReader:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip'd or plain) of unsigned bytes, validating its header and size.

    Returns ``(N, rows, cols) uint8`` for an image file (magic 2051) or ``(N,) uint8`` for a
    label file (magic 2049). Raises :class:`DataError` naming the file on any inconsistency.
    """
    path = Path(path)
    try:
        with _open(path) as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    if len(raw) < 8:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
    magic, count = struct.unpack(">II", raw[:8])
    shape: tuple[int, ...]
    if magic == IMAGES_MAGIC:
        if len(raw) < 16:
            raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == LABELS_MAGIC:
        shape, offset = (count,), 8
    else:
        raise DataError(f"{path}: bad IDX magic number {magic} (expected {IMAGES_MAGIC} or {LABELS_MAGIC})")
    expected = int(np.prod(shape))
    found = len(raw) - offset
    if found != expected:
        kind = "truncated" if found < expected else "has trailing bytes"
        raise DataError(f"{path}: {kind}: header promises {expected} values, file holds {found}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def validate(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str) -> None:
    """Raise :class:`DataError` unless images are ``(N, 28, 28) uint8`` and labels ``(N,)`` in 0..9.

    The message names the file at fault: ``images_name`` or ``labels_name``.
    """
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{images_name}: images have shape {images.shape}, expected (N, 28, 28)")
    if images.dtype != np.uint8:
        raise DataError(f"{images_name}: images have dtype {images.dtype}, expected uint8")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels_name}: labels of shape {labels.shape} for {len(images)} images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{labels_name}: labels have dtype {labels.dtype}, expected integers")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{labels_name}: labels outside 0..9 (found {labels.min()}..{labels.max()})")


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder: Path) -> Mnist | None:
    paths = {key: _find_idx(folder, stem) for key, stem in IDX_FILES.items()}
    if not any(paths.values()):
        return None
    found = {key: path for key, path in paths.items() if path is not None}
    missing = [IDX_FILES[k] for k in paths if k not in found]
    if missing:
        raise DataError(f"{folder}: incomplete MNIST, missing {', '.join(missing)}")
    arrays = {key: read_idx(path) for key, path in found.items()}
    for split in ("train", "test"):
        validate(
            arrays[f"{split}_images"],
            arrays[f"{split}_labels"],
            str(found[f"{split}_images"]),
            str(found[f"{split}_labels"]),
        )
    return Mnist(**arrays, source=str(folder))


def _load_npz(path: Path) -> Mnist:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {
                "train_images": npz["x_train"],
                "train_labels": npz["y_train"],
                "test_images": npz["x_test"],
                "test_labels": npz["y_test"],
            }
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not a usable mnist.npz ({exc})") from exc
    for split in ("train", "test"):
        validate(
            arrays[f"{split}_images"], arrays[f"{split}_labels"], f"{path} (x_{split})", f"{path} (y_{split})"
        )
    # Only now that they are known to be 0..9 can labels be narrowed without wrapping.
    arrays = {k: v.astype(np.uint8) if k.endswith("labels") else v for k, v in arrays.items()}
    return Mnist(**arrays, source=str(path))


def _load_folder(folder: Path) -> Mnist | None:
    if not folder.is_dir():
        return None
    found = _load_idx_folder(folder)
    if found is None and (folder / "mnist.npz").is_file():
        found = _load_npz(folder / "mnist.npz")
    return found


def search_paths() -> list[Path]:
    """The folders searched for MNIST, in order."""
    paths = []
    if os.environ.get(DATA_DIR_ENV):
        paths.append(Path(os.environ[DATA_DIR_ENV]).expanduser())
    return paths + [PROJECT_DATA_DIR, KERAS_CACHE]


def load_mnist(download: bool = True) -> Mnist:
    """Load MNIST from the first place that has it (see the module docstring).

    With ``download=False`` a missing data set raises :class:`MnistNotFoundError` instead of
    reaching the network. Results are cached per search path for the life of the process.
    """
    return _load_cached(tuple(str(p) for p in search_paths()), download)


@lru_cache(maxsize=2)
def _load_cached(paths: tuple[str, ...], download: bool) -> Mnist:
    for folder in paths:
        found = _load_folder(Path(folder))
        if found is not None:
            return found
    if not download:
        raise MnistNotFoundError(
            f"MNIST not found in {', '.join(paths)}. Set {DATA_DIR_ENV} to a folder holding the four "
            "*-ubyte.gz files or mnist.npz."
        )
    return _download()


def _download() -> Mnist:
    import keras  # Heavy import, needed only for this last resort.

    try:
        (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
    except Exception as exc:  # noqa: BLE001 - any network or file failure means "not found"
        raise MnistNotFoundError(
            f"MNIST not found locally and the download failed ({exc}). Set {DATA_DIR_ENV} to a "
            "folder holding the four *-ubyte.gz files or mnist.npz."
        ) from exc
    validate(xtr, ytr, "downloaded x_train", "downloaded y_train")
    validate(xte, yte, "downloaded x_test", "downloaded y_test")
    return Mnist(xtr, ytr.astype(np.uint8), xte, yte.astype(np.uint8), source="keras download")
