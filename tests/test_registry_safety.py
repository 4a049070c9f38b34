"""Nothing lost, nobody in where they do not belong: the registry on a full or read-only disk, under
two savers at once, against hostile names, links and files, and the pages beside broken models.

tests/test_registry.py holds the basic name rules, the round trips and the SIGKILL-mid-save tests.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import io
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digit_core import data, registry
from digit_core.config import ANNConfig
from digit_core.evaluation import evaluate
from digit_core.inference import predict
from digit_core.models import build_ann
from digit_core.predictions import predict_uploads
from digit_core.preprocess import to_mnist
from digit_core.registry import ModelError, ModelNotFoundError, file_sha256, list_models, save_model
from tests.support import strokes
from tests.support.helpers import ENTRY, script, write_idx
from ui import navigation, widgets

ROOT = Path(__file__).resolve().parent.parent
HOME = ENTRY
DRAW = script(navigation.DRAW)
EVALUATE = script(navigation.EVALUATE)


def tiny_model(seed: int):
    """A small ANN with random weights: two seeds give models that predict differently."""
    keras.utils.set_random_seed(seed)
    model = build_ann(ANNConfig(units=(16,)))
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def images(n: int = 8) -> np.ndarray:
    return np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (temporary ones included) with its bytes; the lock file aside."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".registry.lock"}


def tree(folder: Path) -> dict[str, bytes | None]:
    """Everything under ``folder``: files with their bytes, folders and links as None."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() and not p.is_symlink() else None
        for p in folder.rglob("*")
    }


def registry_with(root: Path, *names: str) -> Path:
    """``root`` holding a stand-in ``.keras`` and a card for each name (no TensorFlow needed)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / f"{name}.keras").write_bytes(f"model {name}".encode())
        (root / f"{name}.json").write_text(json.dumps({"name": name}))
    return root


@pytest.fixture(autouse=True)
def never_the_project_registry(monkeypatch, tmp_path):
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path / "default-registry"))


@pytest.fixture
def saved(tmp_path):
    """Model 'm' (version A) in a fresh registry: ``(root, model, snapshot of the registry)``."""
    root = tmp_path / "registry"
    model = tiny_model(1)
    save_model(model, "m", {"version": "A"}, root=root)
    return root, model, snapshot(root)


# --- names and paths never leave the registry ----------------------------------------------------

HOSTILE_NAMES = [
    "..",
    ".",
    "../outside/victim",
    "../../etc/passwd",
    "a/b",
    "a\\b",
    "OUTSIDE",
    "/etc/passwd",
    "C:\\victim",
    "a\0b",
    "\0",
    "victim\0.keras",
    "x" * 65,
    "x" * 5000,
    "naïve",
    "ｃｎｎ",
    "٣",
    "модель",
    "😀",
    "",
    " ",
    "\t",
    "cnn ",
    " cnn",
    "a\nb",
    "~",
    "~root",
    "$HOME",
    "victim.keras",
    "victim.json",
    "cnn.KERAS",
    "-rf",
]
NAMED = {
    "validate_name": lambda name, root: registry.validate_name(name),
    "model_path": registry.model_path,
    "card_path": registry.card_path,
    "read_card": registry.read_card,
    "read_model_bytes": registry.read_model_bytes,
    "save_model": lambda name, root: save_model(None, name, {}, root=root),
    "delete_model": registry.delete_model,
    "set_default": registry.set_default,
}


@pytest.mark.parametrize("function", sorted(NAMED))
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda name: ascii(name)[:24])
def test_a_hostile_name_is_refused_and_nothing_outside_the_registry_changes(tmp_path, function, name):
    root = registry_with(tmp_path / "registry", "victim")
    outside = registry_with(tmp_path / "outside", "victim")
    name = name.replace("OUTSIDE", str(outside / "victim"))
    before = tree(tmp_path)

    with pytest.raises(ValueError, match="invalid model name"):
        NAMED[function](name, root)

    assert tree(tmp_path) == before  # not even a lock file or a folder appeared


def test_saving_over_a_symlink_replaces_the_link_not_the_file_it_points_to(tmp_path):
    root, outside = tmp_path / "registry", tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.keras").write_bytes(b"not yours")
    root.mkdir()
    (root / "link.keras").symlink_to(outside / "victim.keras")

    save_model(tiny_model(2), "link", {}, root=root)

    assert (outside / "victim.keras").read_bytes() == b"not yours"
    assert not (root / "link.keras").is_symlink()
    assert registry.read_card("link", root)["model_sha256"] == file_sha256(root / "link.keras")


# --- deleting and the default ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cnn", "ann"])
def test_the_shipped_defaults_cannot_be_deleted(tmp_path, name):
    root = registry_with(tmp_path, "cnn", "ann")
    before = snapshot(root)
    with pytest.raises(ModelError, match="shipped default and cannot be deleted"):
        registry.delete_model(name, root)
    assert snapshot(root) == before


def test_another_name_for_a_shipped_file_cannot_delete_it(tmp_path):
    # On a case-insensitive disk CNN.keras *is* cnn.keras; a hard link is the same on any disk.
    root = registry_with(tmp_path, "cnn")
    os.link(root / "cnn.keras", root / "CNN.keras")
    with pytest.raises(ModelError, match="'CNN' is a shipped default"):
        registry.delete_model("CNN", root)
    assert (root / "CNN.keras").exists() and (root / "cnn.keras").read_bytes() == b"model cnn"


def test_deleting_a_symlinked_model_removes_the_link_but_never_its_target(tmp_path):
    root, outside = registry_with(tmp_path / "registry", "cnn"), registry_with(tmp_path / "outside", "victim")
    (root / "link.keras").symlink_to(outside / "victim.keras")
    (root / "link.json").symlink_to(outside / "victim.json")
    (root / "dangling.keras").symlink_to(outside / "gone.keras")
    target_before = snapshot(outside)

    registry.delete_model("link", root)
    registry.delete_model("dangling", root)  # a broken link is still a model entry to remove

    assert snapshot(outside) == target_before
    assert sorted(p.name for p in root.iterdir()) == [".registry.lock", "cnn.json", "cnn.keras"]


def test_deleting_the_default_model_makes_the_shipped_cnn_the_default_again(tmp_path):
    root = registry_with(tmp_path, "cnn", "mine", "other")
    registry.set_default("mine", root)
    assert registry.default_model(root) == "mine"

    registry.delete_model("mine", root)

    assert registry.default_model(root) == "cnn"
    assert not (root / registry.DEFAULT_FILE).exists()
    assert sorted(e.name for e in list_models(root)) == ["cnn", "other"]


def test_a_tampered_default_file_falls_back_to_the_shipped_model(tmp_path):
    root = registry_with(tmp_path / "registry", "cnn")
    registry_with(tmp_path, "victim")
    (root / registry.DEFAULT_FILE).write_text("../victim")
    assert registry.default_model(root) == "cnn"


def test_deleting_a_missing_model_says_so_and_touches_nothing(tmp_path):
    root = registry_with(tmp_path, "cnn", "other")
    before = snapshot(root)
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'"):
        registry.delete_model("ghost", root)
    with pytest.raises(ModelNotFoundError, match="no registry at"):
        registry.delete_model("ghost", tmp_path / "nowhere")
    assert snapshot(root) == before and not (tmp_path / "nowhere").exists()


# --- broken files are listed with their reason ---------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def truncate(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


BROKEN = {  # name -> (how to break a copy of a good model, the reason list_models must give)
    "foreign": (
        lambda root: _zip(root / "foreign.keras", {"word/document.xml": b"<w/>"}),
        "foreign.keras is a zip archive but not a Keras model (no config.json)",
    ),
    "truncated": (
        lambda root: truncate(root / "truncated.keras", 3000),
        "truncated.keras is not a .keras archive",
    ),
    "listcard": (lambda root: (root / "listcard.json").write_text("[1, 2]"), "is not a JSON object"),
    "deepcard": (
        lambda root: (root / "deepcard.json").write_text("[" * 100_000 + "]" * 100_000),
        "deepcard.json is unreadable: nested too deeply",
    ),
    "latin1card": (
        lambda root: (root / "latin1card.json").write_bytes('{"a": "é"}'.encode("latin-1")),
        "latin1card.json is unreadable",
    ),
    "nocard": (lambda root: (root / "nocard.json").unlink(), "no card for model 'nocard'"),
    "typedcard": (
        lambda root: (root / "typedcard.json").write_text('{"architecture": 5, "created": "x"}'),
        "card field 'architecture' is not text",
    ),
    "historycard": (
        lambda root: (root / "historycard.json").write_text('{"history": [{"epoch": "one"}]}'),
        "card field 'history' has an epoch without numeric epoch, loss and accuracy",
    ),
}


def broken_registry(root: Path) -> Path:
    """A good model 'good' (a tiny ANN) beside one broken entry per :data:`BROKEN` case."""
    save_model(tiny_model(3), "good", {"architecture": "ann"}, root=root)
    for name, (breaker, _) in BROKEN.items():
        shutil.copy(root / "good.keras", root / f"{name}.keras")
        (root / f"{name}.json").write_text(json.dumps({"architecture": "ann"}))
        breaker(root)
    return root


def test_every_broken_file_or_card_is_listed_with_its_reason_and_the_good_model_still_loads(tmp_path):
    root = broken_registry(tmp_path)

    entries = {e.name: e for e in list_models(root)}

    assert entries["good"].ok
    for name, (_, reason) in BROKEN.items():
        assert not entries[name].ok, name
        assert reason in entries[name].error, (name, entries[name].error)
    x = images()
    np.testing.assert_array_equal(predict(registry.load_model("good", root), x), predict(tiny_model(3), x))


# --- safe loading: foreign code never runs -------------------------------------------------------


def save_lambda_model(path: Path, marker: Path) -> None:
    """A ``.keras`` file with a Lambda layer whose Python code creates ``marker`` when it runs."""
    code = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")  # a lambda: saved as bytecode
    inputs = keras.Input(shape=(28, 28, 1))
    hidden = keras.layers.Flatten()(keras.layers.Lambda(code)(inputs))
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden)).save(path)
    marker.unlink()  # building the model ran the code once


def test_a_lambda_layer_is_refused_by_safe_mode_without_running_its_code(tmp_path):
    marker = tmp_path / "ran"
    save_lambda_model(tmp_path / "sneaky.keras", marker)

    with pytest.raises(ModelError, match="Lambda") as info:
        registry.load_model("sneaky", tmp_path)

    assert "safe_mode" in str(info.value)
    assert not marker.exists()
    keras.saving.load_model(tmp_path / "sneaky.keras", safe_mode=False)  # the check has teeth:
    assert marker.exists()  # an unsafe load does run it


def test_a_class_from_a_foreign_module_is_refused_without_importing_it(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_layers.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Boom: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = save_model(tiny_model(4), "foreign", {}, root=tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = (
        members["config.json"]
        .decode()
        .replace(
            '"module": "keras.layers", "class_name": "Dense"', '"module": "evil_layers", "class_name": "Boom"'
        )
    )
    assert "evil_layers" in config
    _zip(path, {**members, "config.json": config.encode()})

    with pytest.raises(ModelError, match="Could not locate class 'Boom'"):
        registry.load_model("foreign", tmp_path)

    assert not marker.exists()
    monkeypatch.delitem(sys.modules, "evil_layers", raising=False)
    __import__("evil_layers")  # the module would have left its mark, had it been imported
    assert marker.exists()


# --- a full or read-only disk --------------------------------------------------------------------


@contextlib.contextmanager
def file_size_limit(limit: int):
    """Files of this process cannot grow beyond ``limit`` bytes: writes fail with EFBIG, as they
    fail with ENOSPC on a full disk (SIGXFSZ ignored so the process is not killed instead)."""
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("fails", ["model", "card"])
def test_a_disk_that_fills_up_gives_a_clear_error_and_leaves_the_registry_as_it_was(saved, fails):
    root, model_a, before = saved
    size = (root / "m.keras").stat().st_size
    # The card can only fail after the whole model is written when it is the larger file.
    limit, card = (20_000, {}) if fails == "model" else (size + 4096, {"notes": "x" * 200_000})
    model_b = tiny_model(2)

    with file_size_limit(limit), pytest.raises(ModelError) as info:
        save_model(model_b, "m", {"version": "B", **card}, root=root)

    assert str(info.value) == f"could not save model 'm' in {root}: File too large"
    assert snapshot(root) == before  # byte for byte, and no temporary file left behind
    x = images()
    np.testing.assert_array_equal(predict(registry.load_model("m", root), x), predict(model_a, x))


def test_no_space_left_reported_while_flushing_is_a_clear_error(saved, monkeypatch):
    root, _, before = saved

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    model_b = tiny_model(2)
    with monkeypatch.context() as patch, pytest.raises(ModelError) as info:
        patch.setattr(registry.os, "fsync", full)
        save_model(model_b, "m", {"version": "B"}, root=root)
    assert str(info.value) == f"could not save model 'm' in {root}: No space left on device"
    assert snapshot(root) == before


def _refuse(error: int):
    def refuse(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    return refuse


READ_ONLY = {  # where a read-only registry stops a save, simulated (root ignores permissions)
    "lock file": ("open", _refuse(errno.EROFS)),
    "temporary file": ("tempfile.mkstemp", _refuse(errno.EACCES)),
    "rename": ("os.replace", _refuse(errno.EROFS)),  # after both temporary files are written
}


@pytest.mark.parametrize("where", sorted(READ_ONLY))
def test_a_read_only_registry_gives_a_clear_error_and_leaves_it_as_it_was(saved, monkeypatch, where):
    root, _, before = saved
    target, refuse = READ_ONLY[where]
    model_b = tiny_model(2)  # built first: the refusal is for the registry, not Keras
    with monkeypatch.context() as patch, pytest.raises(ModelError) as info:
        if target == "open":
            patch.setattr(registry, "open", refuse, raising=False)  # shadows the built-in there
        else:
            patch.setattr(target, refuse)
        save_model(model_b, "m", {"version": "B"}, root=root)

    reason = "Read-only file system" if where != "temporary file" else "Permission denied"
    assert str(info.value) == f"could not save model 'm' in {root}: {reason}"
    assert snapshot(root) == before


NOBODY = 65534  # the unprivileged user and group of Debian and most Linux systems
CHILD_TIMEOUT_S = 60


def as_unprivileged_child(work) -> str:
    """Run ``work()`` in a forked child, as the unprivileged user when this process is root (root
    writes anywhere, whatever a folder's permissions say, and CI runs as root); return what it
    returned, or ``"raised <Exception>: <message>"``. The child uses only what is already imported.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(reader)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                outcome = str(work())
            except Exception as exc:  # noqa: BLE001 - reported to the parent as text
                outcome = f"raised {type(exc).__name__}: {exc}"
            os.write(writer, outcome.encode())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        with os.fdopen(reader, "rb") as pipe:
            ready = select.select([pipe], [], [], CHILD_TIMEOUT_S)[0]
            outcome = pipe.read().decode() if ready else None
    finally:
        if outcome is None:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert outcome is not None, f"the child did not answer within {CHILD_TIMEOUT_S} s"
    return outcome


@pytest.fixture
def world_readable(saved):
    """``saved``'s registry copied where any user may read it (the test's own tmp_path is root's
    alone): ``(root, snapshot)``."""
    outer = Path(tempfile.mkdtemp(prefix="registry-"))
    outer.chmod(0o755)
    root = outer / "registry"
    shutil.copytree(saved[0], root)
    yield root, snapshot(root)
    root.chmod(0o755)
    shutil.rmtree(outer)


def test_a_registry_folder_without_write_permission_refuses_a_save_cleanly(world_readable):
    root, before = world_readable
    root.chmod(0o555)

    def read_then_save():
        names = [entry.name for entry in list_models(root)]  # it can read the registry ...
        try:
            save_model(None, "m", {"version": "B"}, root=root)  # ... but not write to it
        except ModelError as exc:
            return f"{names} ModelError: {exc}"
        return f"{names} saved"

    outcome = as_unprivileged_child(read_then_save)
    assert outcome.startswith("['m'] ModelError: could not save model 'm' in "), outcome
    assert outcome.endswith(": Permission denied"), outcome
    assert snapshot(root) == before


# --- two savers at once ----------------------------------------------------------------------------


def slow_writes(monkeypatch, seconds: float) -> None:
    """Each save holds on to its model file for a while, so two saves started together overlap."""
    original = registry._write_model_file

    def write_slowly(model, path):
        original(model, path)
        time.sleep(seconds)

    monkeypatch.setattr(registry, "_write_model_file", write_slowly)


def assert_whole(root: Path, name: str, probabilities: np.ndarray) -> None:
    """Model ``name`` matches its card's checksum, predicts ``probabilities`` for :func:`images`, and
    no temporary file is left."""
    card = registry.read_card(name, root)
    assert card["model_sha256"] == file_sha256(root / f"{name}.keras")
    np.testing.assert_allclose(predict(registry.load_model(name, root), images()), probabilities, atol=1e-6)
    assert [p.name for p in root.iterdir() if ".tmp" in p.name] == []


def test_two_sessions_saving_one_name_at_once_one_wins_and_the_other_is_told(tmp_path, monkeypatch):
    # Streamlit sessions are threads of one server process.
    models = {"first": tiny_model(5), "second": tiny_model(6)}
    slow_writes(monkeypatch, 0.5)
    start, outcome = threading.Barrier(2), {}

    def session(who):
        start.wait()
        try:
            save_model(models[who], "same", {"by": who}, root=tmp_path, overwrite=False)
            outcome[who] = "saved"
        except ModelError as exc:
            outcome[who] = str(exc)

    threads = [threading.Thread(target=session, args=(who,)) for who in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winner = registry.read_card("same", tmp_path)["by"]
    loser = "second" if winner == "first" else "first"
    assert outcome == {winner: "saved", loser: "a model named 'same' already exists"}
    assert_whole(tmp_path, "same", predict(models[winner], images()))


RIVAL = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import keras
    import numpy as np

    from digit_core import registry
    from digit_core.config import ANNConfig
    from digit_core.inference import predict
    from digit_core.models import build_ann

    root, work = Path(sys.argv[1]), Path(sys.argv[2])
    keras.utils.set_random_seed(7)
    model = build_ann(ANNConfig(units=(16,)))
    original = registry._write_model_file
    registry._write_model_file = lambda m, p: (original(m, p), time.sleep(1.0))
    np.save(work / "probabilities.npy", predict(model, np.load(work / "images.npy")))
    (work / "ready").touch()  # TensorFlow is warm: both saves can start together
    while not (work / "go").exists():
        time.sleep(0.005)
    try:
        registry.save_model(model, "same", {"by": "process"}, root=root, overwrite=False)
        print("saved")
    except registry.ModelError as exc:
        print(exc)
    """
)


def test_a_save_from_another_process_at_the_same_moment_cannot_corrupt_either(tmp_path, monkeypatch):
    root = tmp_path / "registry"
    root.mkdir()
    ours = tiny_model(8)
    np.save(tmp_path / "images.npy", images())
    slow_writes(monkeypatch, 1.0)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rival = subprocess.Popen(
        [sys.executable, "-c", RIVAL, str(root), str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "ready").exists() and rival.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    try:
        save_model(ours, "same", {"by": "us"}, root=root, overwrite=False)
        we_said = "saved"
    except ModelError as exc:
        we_said = str(exc)
    out, err = rival.communicate(timeout=120)

    assert rival.returncode == 0, err[-3000:]
    said = {"us": we_said, "process": out.strip().splitlines()[-1]}
    winner = registry.read_card("same", root)["by"]
    loser = "process" if winner == "us" else "us"
    assert said == {winner: "saved", loser: "a model named 'same' already exists"}
    theirs = np.load(tmp_path / "probabilities.npy")
    assert_whole(root, "same", predict(ours, images()) if winner == "us" else theirs)


HOLD_LOCK_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from digit_core import registry

    with registry._locked(Path(sys.argv[1])):
        Path(sys.argv[2]).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_saver_killed_while_holding_the_lock_does_not_block_the_next_save(saved):
    root, _, _ = saved
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-c", HOLD_LOCK_AND_DIE, str(root), str(root.parent / "held")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL and (root.parent / "held").exists(), done.stderr
    model_b = tiny_model(2)
    saver = threading.Thread(target=save_model, args=(model_b, "m", {"version": "B"}, root))
    saver.start()
    saver.join(60)
    assert not saver.is_alive(), "the dead process's lock was never released"
    assert registry.read_card("m", root)["version"] == "B"


# --- uploads stay in memory ----------------------------------------------------------------------

_writes: list | None = None  # what the audit hook records while a test watches; None: not watching
_hooked: list = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
WRITE_EVENTS = {
    "tempfile.mkstemp",
    "tempfile.mkdtemp",
    "os.mkdir",
    "os.rename",
    "os.link",
    "os.symlink",
    "shutil.copyfile",
}


def _audit(event: str, args: tuple) -> None:
    if _writes is None:
        return
    if event == "open" and ((args[1] and any(c in str(args[1]) for c in "wax+")) or args[2] & WRITE_FLAGS):
        _writes.append((event, args[0]))
    elif event in WRITE_EVENTS:
        _writes.append((event, args[0] if args else None))


@contextlib.contextmanager
def file_writes():
    """Every file opened for writing (or made, renamed, linked) by Python code in this process."""
    global _writes
    if _audit not in _hooked:
        sys.addaudithook(_audit)  # hooks stay for the life of the process: this one idles unwatched
        _hooked.append(_audit)
    _writes = found = []
    try:
        yield found
    finally:
        _writes = None


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing(digit: int, paper=(0, 0, 0, 255), ink=(255, 255, 255, 255)) -> np.ndarray:
    return strokes.draw_digit(digit, strokes.Style(width=18), ink=ink, paper=paper)


def test_uploads_are_decoded_and_predicted_without_writing_any_file():
    model = tiny_model(9)
    uploads = [
        ("five.png", png(drawing(5, paper=(255, 255, 255, 255), ink=(0, 0, 0, 255)))),
        ("../../etc/cron.d/x.png", png(drawing(3))),
        ("broken.png", b"\x89PNG\r\n\x1a\n nope"),
    ]
    with file_writes() as written:  # the watcher sees a temporary file: it can fail
        tempfile.TemporaryFile().close()
    assert written

    with file_writes() as written:
        results = predict_uploads(model, uploads)

    assert written == []
    assert [r.name for r in results] == [name for name, _ in uploads]
    assert [r.prediction is not None for r in results] == [True, True, False]


# --- user text is never raw HTML -----------------------------------------------------------------

HTML_CALLS = {"html", "iframe"}  # st.html, components.html / components.iframe
PAGE_SCRIPTS = [
    ROOT / "Home.py",
    *sorted((ROOT / "app_pages").glob("*.py")),
    *sorted((ROOT / "ui").glob("*.py")),
]


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda p: p.name)
def test_no_page_renders_raw_html(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    unsafe = [
        f"line {node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword)
        and node.arg == "unsafe_allow_html"
        and not (isinstance(node.value, ast.Constant) and node.value.value is False)
    ]
    html = [
        f"line {node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in HTML_CALLS
    ]
    assert unsafe == [] and html == []


def walk(node):
    yield node
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else []:
        yield from walk(child)


def assert_no_html_rendered(at) -> None:
    """No element of the run lets HTML through: Markdown of every kind keeps allow_html off."""
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        assert not getattr(proto, "allow_html", False), node
        assert getattr(node, "type", None) not in HTML_CALLS, node


# --- the pages beside broken models --------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_registry(tmp_path_factory):
    """The shipped CNN as 'cnn', a Lambda model that writes a marker when run, and every broken
    entry of :data:`BROKEN`; returns ``(root, marker)``."""
    root = broken_registry(tmp_path_factory.mktemp("mixed"))
    shutil.copy(registry.PROJECT_MODELS_DIR / "cnn.keras", root / "cnn.keras")
    shutil.copy(registry.PROJECT_MODELS_DIR / "cnn.json", root / "cnn.json")
    marker = root.parent / "lambda-ran"
    save_lambda_model(root / "sneaky.keras", marker)
    (root / "sneaky.json").write_text('{"architecture": "ann"}')
    return root, marker


def test_home_names_each_broken_model_with_its_reason_and_shows_the_good_ones(monkeypatch, mixed_registry):
    root, _ = mixed_registry
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(root))
    at = AppTest.from_file(HOME, default_timeout=60).run()

    assert not at.exception
    assert [h.value for h in at.subheader] == ["cnn", *sorted(["good", "sneaky", *BROKEN])]
    errors = [e.value for e in at.error]
    assert len(errors) == len(BROKEN)
    for _, reason in BROKEN.values():
        assert any(error.startswith("Unusable: ") and reason in error for error in errors), reason
    accuracies = [m.value for m in at.metric if m.label == "MNIST test accuracy"]
    shipped = json.loads((root / "cnn.json").read_text())["test_accuracy"]
    assert accuracies == [f"{shipped:.2%}", "–", "–"]  # cnn's card, then good and sneaky without a figure
    assert_no_html_rendered(at)


def run_draw(monkeypatch, root: Path, canvas=None):
    """The Draw page on registry ``root``, its one-digit canvas returning ``canvas``."""
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(root))
    monkeypatch.setattr(widgets, "canvas_image_ui", lambda key, *a: canvas if key == "draw_canvas" else None)
    return AppTest.from_file(DRAW, default_timeout=120).run()


def test_draw_page_offers_only_whole_models_and_refuses_the_unsafe_one_without_running_it(
    monkeypatch, mixed_registry
):
    root, marker = mixed_registry
    at = run_draw(monkeypatch, root, drawing(3))
    assert not at.exception
    assert at.selectbox(key="draw_model").options == ["cnn", "good", "sneaky"]
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["3"]

    at.selectbox(key="draw_model").set_value("sneaky").run()

    assert not at.exception
    assert "Model **sneaky** cannot be used" in at.error[0].value and "Lambda" in at.error[0].value
    assert not marker.exists()  # must not: run the model's code to find out
    at.selectbox(key="draw_model").set_value("cnn").run()
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["3"] and not at.error


def test_draw_page_uploads_show_an_html_file_name_as_text_and_write_no_file(monkeypatch, mixed_registry):
    root, _ = mixed_registry
    at = run_draw(monkeypatch, root)
    name = "<img src=x onerror=alert(1)>.png"
    second = name.replace(".png", "2.png")
    at.file_uploader(key="draw_uploads").set_value(
        [(name, b"<script>alert(1)</script>", "image/png"), (second, png(drawing(7)), "image/png")]
    )
    with file_writes() as written:
        at.run()

    assert not at.exception
    assert written == []  # must not: write an upload (or anything else) to disk
    message = at.error[0].value
    assert message.startswith("\\<img src=x onerror=alert\\(1\\)\\>\\.png: ")  # shows as typed
    assert at.dataframe[0].value["file"].tolist() == [name, second]  # plain table cells
    assert_no_html_rendered(at)


def test_evaluate_page_works_with_the_good_model_and_offers_no_broken_one(
    monkeypatch, tmp_path, mixed_registry
):
    root, _ = mixed_registry
    only_files = tmp_path / "registry"  # without the Lambda model, which the list cannot tell apart
    shutil.copytree(root, only_files, ignore=shutil.ignore_patterns("sneaky.*"))
    rng = np.random.default_rng(5)
    labels = np.arange(20) % 10
    digits = np.stack(
        [(to_mnist(strokes.draw_digit(d, strokes.random_style(rng), rng)) * 255).round() for d in labels]
    ).astype(np.uint8)
    for split in ("train", "t10k"):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", digits)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(only_files))
    expected = evaluate(predict(registry.load_model("cnn", only_files), digits), labels)

    at = AppTest.from_file(EVALUATE, default_timeout=300).run()

    assert not at.exception
    assert at.selectbox(key="eval_model").options == ["cnn", "good"]
    assert {m.label: m.value for m in at.tabs[0].metric}["Accuracy"] == f"{expected.accuracy:.2%}"
    assert not at.error
    assert_no_html_rendered(at)
