"""Saved models: ``<root>/<name>.keras`` beside a ``<root>/<name>.json`` card.

Listing and reading cards need no TensorFlow. Saving is atomic: both files are written to
temporary names in the same folder, flushed to disk, then renamed over the old ones, model first,
so a crash never leaves a half-written model. A crash between the two renames leaves the new,
whole model beside the old card, which its ``model_sha256`` then shows to be stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # listing and reading cards need no TensorFlow
    import keras

log = logging.getLogger(__name__)

MODELS_DIR_ENV = "DIGIT_MODELS_DIR"
PROJECT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = ("cnn", "ann")  # the defaults committed with the project
TRAIN_COMMAND = "python -m digit_core train --arch cnn --name cnn"  # what to run when there is none
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_RULE = (
    "1-64 characters: letters, digits, '_', '-', '.', starting with a letter or digit, no '..', "
    "not ending in .keras or .json"
)


class ModelError(Exception):
    """A model cannot be saved or loaded; the message says which and why."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    pass


def models_dir() -> Path:
    """The registry folder: ``$DIGIT_MODELS_DIR`` if set, else the project's ``models/``."""
    env = os.environ.get(MODELS_DIR_ENV)
    return Path(env).expanduser() if env else PROJECT_MODELS_DIR


def validate_name(name: str) -> str:
    """Return ``name`` if it is a safe model name, else raise ``ValueError`` saying the rule."""
    if (
        not isinstance(name, str)
        or not NAME_PATTERN.fullmatch(name)
        or ".." in name
        or name.lower().endswith((".keras", ".json"))
    ):  # would read as a path, not a name
        raise ValueError(f"invalid model name {name!r}: use {NAME_RULE}")
    return name


def model_path(name: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / f"{validate_name(name)}.keras"


def card_path(name: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / f"{validate_name(name)}.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelEntry:
    """One registry entry. ``error`` says why it cannot be used; ``card`` may still be there.

    An entry is ``ok`` when its file is a zip archive holding a Keras ``config.json`` and its card
    is a JSON object whose displayed fields have the right types (see :func:`card_problem`). Whether
    Keras accepts the archive (safe mode, known classes) is only known by :func:`load_model`.
    """

    name: str
    path: Path
    card: dict[str, Any] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_card(name: str, root: Path | None = None) -> dict[str, Any]:
    """The JSON card of model ``name``; raises :class:`ModelError` when missing or unreadable."""
    path = card_path(name, root)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"no card for model {name!r} ({path})") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"card {path} is unreadable: {exc}") from exc
    except RecursionError as exc:  # json gives up on deeply nested lists this way, not ValueError
        raise ModelError(f"card {path} is unreadable: nested too deeply") from exc
    if not isinstance(card, dict):
        raise ModelError(f"card {path} is not a JSON object")
    return card


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def card_problem(card: dict[str, Any]) -> str | None:
    """Why the pages could not show ``card``, or None. Only the fields they display are checked:
    ``architecture``, ``created`` and ``name`` are text, ``history`` is a list of epochs with
    numeric ``epoch``, ``loss`` and ``accuracy`` (``val_loss``, ``val_accuracy``: number or null)."""
    for key in ("architecture", "created", "name"):
        if key in card and not isinstance(card[key], str):
            return f"card field {key!r} is not text"
    history = card.get("history", [])
    if not isinstance(history, list):
        return "card field 'history' is not a list"
    for epoch in history:
        if not (
            isinstance(epoch, dict)
            and all(_is_number(epoch.get(k)) for k in ("epoch", "loss", "accuracy"))
            and all(epoch.get(k) is None or _is_number(epoch[k]) for k in ("val_loss", "val_accuracy"))
        ):
            return "card field 'history' has an epoch without numeric epoch, loss and accuracy"
    return None


def _archive_problem(path: Path) -> str | None:
    """Why ``path`` is not a Keras archive, or None. Cheap: reads the zip's directory only."""
    if not path.is_file():
        return f"model file {path.name} is missing"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except Exception:  # any failure to read the zip's directory (BadZipFile, OSError, EOFError...)
        return f"{path.name} is not a .keras archive"
    if "config.json" not in names:
        return f"{path.name} is a zip archive but not a Keras model (no config.json)"
    return None


def _entry(name: str, root: Path) -> ModelEntry:
    path = model_path(name, root)
    card: dict[str, Any] | None = None
    problems: list[str | None] = []
    try:
        card = read_card(name, root)
    except ModelError as exc:
        problems.append(str(exc))
    else:
        problems.append(card_problem(card))
    problems.append(_archive_problem(path))
    return ModelEntry(name, path, card, "; ".join(p for p in problems if p) or None)


def list_models(root: Path | None = None) -> list[ModelEntry]:
    """Every model in the registry, shipped defaults first, broken ones with their reason."""
    root = root or models_dir()
    if not root.is_dir():
        return []
    names = set()
    for path in root.iterdir():
        if path.suffix in (".keras", ".json") and not path.name.startswith("."):
            with contextlib.suppress(ValueError):
                names.add(validate_name(path.stem))
    order = sorted(names, key=lambda n: (n not in SHIPPED, SHIPPED.index(n) if n in SHIPPED else 0, n))
    return [_entry(name, root) for name in order]


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One writer at a time per registry folder (also across processes)."""
    with open(root / ".registry.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_dir(root: Path) -> None:
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_path(root: Path, name: str, suffix: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}", dir=root)
    os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the model from other users of the server
    os.close(fd)
    return Path(tmp)


def _write_model_file(model: keras.Model, path: Path) -> None:
    import keras

    # An uncompiled copy: the optimizer's state would triple the file and is not needed to predict.
    bare = keras.Model.from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def write_model_file(model: keras.Model, path: Path) -> None:
    """Write ``model`` to ``path`` as the registry stores it: a ``.keras`` file without optimizer
    state, flushed to disk (a training worker sends these bytes to :func:`save_model_file`)."""
    _write_model_file(model, path)


def _copy_model_file(source: Path, path: Path) -> None:
    with open(source, "rb") as src, open(path, "wb") as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())


def save_model(
    model: keras.Model, name: str, card: dict[str, Any], root: Path | None = None, overwrite: bool = True
) -> Path:
    """Save ``model`` and its ``card`` as ``name`` atomically; return the ``.keras`` path.

    Adds ``name``, ``file_bytes`` and ``model_sha256`` to the card. Raises ``ValueError`` on a bad
    name, :class:`ModelError` if ``name`` exists and ``overwrite`` is false or the disk refuses.
    """
    return _install(lambda tmp: _write_model_file(model, tmp), name, card, root, overwrite)


def save_model_file(
    source: Path, name: str, card: dict[str, Any], root: Path | None = None, overwrite: bool = False
) -> Path:
    """Like :func:`save_model` for a ``.keras`` file already written (a training job's result,
    made in a worker process): it is copied in under the registry's lock, atomically, after
    checking that it is a Keras archive."""
    validate_name(name)
    problem = _archive_problem(Path(source))
    if problem is not None:
        raise ModelError(f"cannot save {name!r}: {problem}")
    return _install(lambda tmp: _copy_model_file(Path(source), tmp), name, card, root, overwrite)


def _install(
    write: Callable[[Path], None], name: str, card: dict[str, Any], root: Path | None, overwrite: bool
) -> Path:
    validate_name(name)
    root = root or models_dir()
    final_model, final_card = model_path(name, root), card_path(name, root)
    tmp_model = tmp_card = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root):
            if not overwrite and (final_model.exists() or final_card.exists()):
                raise ModelError(f"a model named {name!r} already exists")
            tmp_model = _temp_path(root, name, ".keras")
            write(tmp_model)
            card = {
                **card,
                "name": name,
                "file_bytes": tmp_model.stat().st_size,
                "model_sha256": file_sha256(tmp_model),
            }
            tmp_card = _temp_path(root, name, ".json")
            with open(tmp_card, "w", encoding="utf-8") as f:
                json.dump(card, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            # Model first: if we die between the renames, the new model is whole and its
            # card is merely stale (detectable through model_sha256).
            os.replace(tmp_model, final_model)
            os.replace(tmp_card, final_card)
            _fsync_dir(root)
    except OSError as exc:
        log.warning("could not save model %r in %s: %s", name, root, exc)
        raise ModelError(f"could not save model {name!r} in {root}: {exc.strerror or exc}") from exc
    finally:
        for tmp in (tmp_model, tmp_card):
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
    log.info("saved model %r as %s (%s bytes)", name, final_model, card["file_bytes"])
    return final_model


def read_model_bytes(name: str, root: Path | None = None) -> bytes:
    """The ``.keras`` file of model ``name``, for downloading."""
    try:
        return model_path(name, root).read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read model {name!r}: {exc.strerror or exc}") from exc


def resolve(name_or_path: str | os.PathLike, root: Path | None = None) -> Path:
    """A registry name (``"cnn"``) or a path to a ``.keras`` file -> that file's path."""
    text = os.fspath(name_or_path)
    if text.endswith(".keras") or os.sep in text or "/" in text:
        path = Path(text).expanduser()
    else:
        path = model_path(text, root)
    if not path.is_file():
        where = f" --models-dir {root}" if root is not None else ""
        raise ModelNotFoundError(
            f"no model at {path}. Train one with: python -m digit_core{where} train --arch cnn "
            f"--name {path.stem}"
        )
    return path


def load_model(name_or_path: str | os.PathLike, root: Path | None = None) -> keras.Model:
    """Load a model by registry name or path, with Keras' safe mode on (no arbitrary code)."""
    path = resolve(name_or_path, root)
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; all mean "unusable"
        log.warning("cannot load model %s: %s: %s", path, type(exc).__name__, exc)
        raise ModelError(f"cannot load model {path}: {type(exc).__name__}: {exc}") from exc


DEFAULT_FILE = ".default"  # holds the name of the model the pages start with


def delete_model(name: str, root: Path | None = None) -> None:
    """Remove model ``name`` (its ``.keras`` and its card) from the registry.

    Raises ``ValueError`` for a bad name, :class:`ModelError` for a shipped default (or another
    name for the same file), a missing model or a disk that refuses. Only the two directory entries
    of that name inside ``root`` are touched: a symlink is removed, never what it points to. If the
    model was the default, :func:`default_model` goes back to the shipped one.
    """
    validate_name(name)
    root = root or models_dir()
    files = [model_path(name, root), card_path(name, root)]
    if name in SHIPPED or any(
        _same_entry(path, root / f"{s}{path.suffix}") for path in files for s in SHIPPED
    ):
        raise ModelError(f"{name!r} is a shipped default and cannot be deleted")
    if not root.is_dir():
        raise ModelNotFoundError(f"no model named {name!r} (no registry at {root})")
    try:
        with _locked(root):
            # lexists: a symlink is removed as a link (its target, wherever it is, is left alone),
            # even when it dangles.
            if not any(os.path.lexists(path) for path in files):
                raise ModelNotFoundError(f"no model named {name!r}")
            for path in files:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            if _read_default(root) == name:
                (root / DEFAULT_FILE).unlink()
            _fsync_dir(root)
        log.info("deleted model %r from %s", name, root)
    except ModelNotFoundError:  # a FileNotFoundError too: not to be reworded as a disk failure
        raise
    except OSError as exc:
        raise ModelError(f"could not delete model {name!r} in {root}: {exc.strerror or exc}") from exc


def _same_entry(path: Path, shipped: Path) -> bool:
    """Whether ``path`` and ``shipped`` are one file (same inode; symlinks are not followed): on a
    case-insensitive disk ``CNN.keras`` *is* ``cnn.keras``. A hard link to a shipped file counts."""
    try:
        a, b = os.lstat(path), os.lstat(shipped)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_default(root: Path) -> str | None:
    try:
        return validate_name((root / DEFAULT_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def default_model(root: Path | None = None) -> str:
    """The model the pages start with: the one set by :func:`set_default` while it is usable,
    else the first shipped default."""
    root = root or models_dir()
    chosen = _read_default(root)
    if chosen is not None and model_path(chosen, root).is_file():
        return chosen
    return SHIPPED[0]


def set_default(name: str, root: Path | None = None) -> None:
    """Make model ``name`` the one the pages start with (for every user of this registry)."""
    root = root or models_dir()
    if not model_path(name, root).is_file():
        raise ModelNotFoundError(f"no model named {name!r}")
    _write_default(name, root)


def _write_default(name: str, root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root):
            tmp = _temp_path(root, "default", ".txt")
            tmp.write_text(name, encoding="utf-8")
            os.replace(tmp, root / DEFAULT_FILE)
        log.info("model %r is now the default in %s", name, root)
    except OSError as exc:
        raise ModelError(f"could not set the default model in {root}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Registry:
    """One person's models: their own saved runs in ``own`` over the shared ones in ``shared``.

    ``shared`` holds the shipped defaults (and whatever the server's operator put there); in a
    personal view (``own`` is not ``shared``) they can be listed, read and loaded, never deleted or
    replaced, and no saved run may take a shared model's name. Only names are accepted, never
    paths, and every lookup stays inside these two folders, so nobody reaches another person's
    folder through a name. ``Registry.single()`` is the one folder of the single-person app.
    """

    own: Path
    shared: Path

    @classmethod
    def single(cls, root: Path | None = None) -> Registry:
        root = root or models_dir()
        return cls(root, root)

    @property
    def personal(self) -> bool:
        return os.path.abspath(self.own) != os.path.abspath(self.shared)

    def _has(self, name: str, root: Path) -> bool:
        return any(os.path.lexists(root / f"{validate_name(name)}{suffix}") for suffix in (".keras", ".json"))

    def root_of(self, name: str) -> Path:
        """The folder that holds ``name``: the person's own first (``own`` when it is nowhere)."""
        validate_name(name)
        if self.personal and not self._has(name, self.own) and self._has(name, self.shared):
            return self.shared
        return self.own

    def read_only(self, name: str) -> bool:
        """Whether ``name`` cannot be deleted here: a shipped default, or a shared model."""
        return name in SHIPPED or (self.personal and self.root_of(name) == self.shared)

    def list_models(self) -> list[ModelEntry]:
        """The shared models (shipped defaults first), then the person's own."""
        own = list_models(self.own)
        if not self.personal:
            return own
        mine = {entry.name for entry in own}
        return [entry for entry in list_models(self.shared) if entry.name not in mine] + own

    def read_card(self, name: str) -> dict[str, Any]:
        return read_card(name, self.root_of(name))

    def model_path(self, name: str) -> Path:
        return model_path(name, self.root_of(name))

    def load_model(self, name: str) -> keras.Model:
        return load_model(self.model_path(name))

    def read_model_bytes(self, name: str) -> bytes:
        return read_model_bytes(name, self.root_of(name))

    def _check_writable(self, name: str) -> None:
        validate_name(name)
        if self.personal and self._has(name, self.shared):
            raise ModelError(f"{name!r} is the name of a shared model; choose another")

    def save_model(
        self, model: keras.Model, name: str, card: dict[str, Any], overwrite: bool = False
    ) -> Path:
        self._check_writable(name)
        return save_model(model, name, card, self.own, overwrite)

    def save_model_file(self, source: Path, name: str, card: dict[str, Any], overwrite: bool = False) -> Path:
        self._check_writable(name)
        return save_model_file(source, name, card, self.own, overwrite)

    def delete_model(self, name: str) -> None:
        if self.personal and self.root_of(name) == self.shared:
            raise ModelError(f"{name!r} is a shared model and cannot be deleted")
        delete_model(name, self.own)

    def default_model(self) -> str:
        """The person's chosen default while it is usable, else the shared default."""
        if not self.personal:
            return default_model(self.own)
        chosen = _read_default(self.own)
        if chosen is not None and self.model_path(chosen).is_file():
            return chosen
        return default_model(self.shared)

    def set_default(self, name: str) -> None:
        if not self.model_path(name).is_file():
            raise ModelNotFoundError(f"no model named {name!r}")
        _write_default(name, self.own)


def describe(entry: ModelEntry) -> dict[str, Any]:
    """One row of the runs table: what a saved model is, how it was trained, how it scores."""
    card = entry.card or {}
    found_train, found_history = card.get("train_config"), card.get("history")
    train: dict[str, Any] = found_train if isinstance(found_train, dict) else {}
    history: list[Any] = found_history if isinstance(found_history, list) else []

    def number(value: object) -> object:
        return value if _is_number(value) else None

    return {
        "name": entry.name,
        "architecture": str(card.get("architecture", "?")).upper(),
        "test accuracy": number(card.get("test_accuracy")),
        "epochs run": len(history) or None,
        "batch size": number(train.get("batch_size")),
        "learning rate": number(train.get("learning_rate")),
        "optimizer": train.get("optimizer"),
        "augmented": train.get("augment") is not None if train else None,
        "training images": number(train.get("limit")),
        "seed": number(train.get("seed")),
        "training s": number(card.get("training_seconds")),
        "parameters": number(card.get("parameters")),
        "created": str(card.get("created", ""))[:16].replace("T", " "),
        "shipped": entry.name in SHIPPED,
        "problem": entry.error or "",
    }
