"""The model registry: safe names, atomic saves that survive being killed, safe loads."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from digit_core import registry
from digit_core.config import ANNConfig
from digit_core.inference import predict
from digit_core.models import build_ann
from digit_core.registry import (
    ModelError,
    ModelNotFoundError,
    file_sha256,
    list_models,
    load_model,
    resolve,
    save_model,
    validate_name,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def tiny_model(seed: int, units: tuple[int, ...] = (16,)):
    """A small ANN whose every weight (batch-norm statistics included) is shifted at random, so a
    load that dropped or reinitialised any weight would predict differently."""
    keras.utils.set_random_seed(seed)
    model = build_ann(ANNConfig(units=units))
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def random_images(n: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)


def temp_leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".tmp" in p.name)


@pytest.fixture(autouse=True)
def never_the_project_registry(monkeypatch, tmp_path):
    """Even a call that forgot ``root=`` lands in a temporary folder, never in models/."""
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path / "default-registry"))


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "",
        "a/b",
        "/abs",
        "a\0b",
        "a\\0b",
        "..",
        "x" * 65,
        "naïve",
        ".hidden",
        "-dash",
        "a..b",
        "with space",
        None,
    ],
)
def test_validate_name_refuses_unsafe_names(name):
    with pytest.raises(ValueError, match="invalid model name"):
        validate_name(name)


@pytest.mark.parametrize("name", ["cnn", "my-model_2.v1", "A", "x" * 64])
def test_validate_name_accepts_safe_names(name):
    assert validate_name(name) == name


def test_validate_name_refuses_a_trailing_newline():
    with pytest.raises(ValueError):
        validate_name("cnn\n")


def test_save_model_refuses_a_path_traversal_name_without_writing(tmp_path):
    root = tmp_path / "reg"
    with pytest.raises(ValueError, match="invalid model name"):
        save_model(tiny_model(0), "../escape", {}, root=root)
    assert not (tmp_path / "escape.keras").exists()


# --- save and load -------------------------------------------------------------------------------


def test_save_then_load_predicts_identically(tmp_path):
    model = tiny_model(1)
    x = random_images()
    path = save_model(model, "round", {"arch": "ann"}, root=tmp_path)

    loaded = load_model("round", root=tmp_path)

    assert path == tmp_path / "round.keras"
    np.testing.assert_array_equal(predict(loaded, x), predict(model, x))
    # A freshly initialised model of the same shape does not predict the same: the check has teeth.
    assert not np.allclose(predict(tiny_model(2), x), predict(model, x))


def test_load_model_also_accepts_a_path_to_the_file(tmp_path):
    model = tiny_model(3)
    path = save_model(model, "bypath", {}, root=tmp_path)
    x = random_images(4)
    np.testing.assert_array_equal(predict(load_model(path), x), predict(model, x))


def test_card_records_name_size_and_checksum_and_keeps_given_fields(tmp_path):
    path = save_model(tiny_model(4), "carded", {"arch": "ann", "accuracy": 0.5}, root=tmp_path)

    card = json.loads((tmp_path / "carded.json").read_text())

    assert card["name"] == "carded"
    assert card["file_bytes"] == path.stat().st_size
    assert card["model_sha256"] == file_sha256(path)
    assert card["arch"] == "ann" and card["accuracy"] == 0.5
    assert registry.read_card("carded", root=tmp_path) == card


def test_saved_file_has_weights_but_no_optimizer_state(tmp_path):
    model = tiny_model(5, units=(64,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(random_images(8)[..., None], np.arange(8), epochs=1, verbose=0)  # builds Adam's slots
    params = model.count_params()
    limit = 2 * 4 * params + 64 * 1024

    path = save_model(model, "lean", {}, root=tmp_path)

    assert path.stat().st_size < limit
    assert path.stat().st_size > 4 * params  # the float32 weights are all there
    # Keras' own save of the same compiled model carries Adam's state and exceeds the limit.
    model.save(tmp_path / "plain.keras")
    assert (tmp_path / "plain.keras").stat().st_size > limit


def test_overwrite_false_refuses_and_leaves_the_old_model_untouched(tmp_path):
    save_model(tiny_model(6), "keep", {"version": "A"}, root=tmp_path)
    old_model = (tmp_path / "keep.keras").read_bytes()
    old_card = (tmp_path / "keep.json").read_bytes()

    with pytest.raises(ModelError, match="'keep' already exists"):
        save_model(tiny_model(7), "keep", {"version": "B"}, root=tmp_path, overwrite=False)

    assert (tmp_path / "keep.keras").read_bytes() == old_model
    assert (tmp_path / "keep.json").read_bytes() == old_card
    assert temp_leftovers(tmp_path) == []


def test_overwrite_true_replaces_model_and_card(tmp_path):
    save_model(tiny_model(8), "swap", {"version": "A"}, root=tmp_path)
    new = tiny_model(9)
    save_model(new, "swap", {"version": "B"}, root=tmp_path)

    x = random_images(4)
    np.testing.assert_array_equal(predict(load_model("swap", root=tmp_path), x), predict(new, x))
    assert registry.read_card("swap", root=tmp_path)["version"] == "B"
    assert temp_leftovers(tmp_path) == []


# --- listing -------------------------------------------------------------------------------------


def test_list_models_puts_shipped_models_first_then_alphabetical(tmp_path):
    save_model(tiny_model(10), "zeta", {}, root=tmp_path)
    for name in ("alpha", "ann", "cnn", "beta"):
        shutil.copy(tmp_path / "zeta.keras", tmp_path / f"{name}.keras")
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name}))

    entries = list_models(tmp_path)

    assert [e.name for e in entries] == ["cnn", "ann", "alpha", "beta", "zeta"]
    assert all(e.ok for e in entries)


def test_list_models_reports_broken_entries_and_keeps_good_ones_ok(tmp_path):
    save_model(tiny_model(11), "good", {"arch": "ann"}, root=tmp_path)
    # A model file of random bytes with a perfectly fine card.
    (tmp_path / "garbage.keras").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "garbage.json").write_text(json.dumps({"arch": "ann"}))
    # A fine model file with a card that is not JSON.
    shutil.copy(tmp_path / "good.keras", tmp_path / "badcard.keras")
    (tmp_path / "badcard.json").write_text("{not json")
    # A card whose model file is gone.
    (tmp_path / "orphan.json").write_text(json.dumps({"arch": "ann"}))

    entries = {e.name: e for e in list_models(tmp_path)}

    assert set(entries) == {"good", "garbage", "badcard", "orphan"}
    assert entries["good"].ok and entries["good"].error is None
    assert entries["good"].card["arch"] == "ann"

    assert not entries["garbage"].ok
    assert "garbage.keras is not a .keras archive" in entries["garbage"].error
    assert entries["garbage"].card == {"arch": "ann"}

    assert not entries["badcard"].ok
    assert "unreadable" in entries["badcard"].error and "badcard.json" in entries["badcard"].error
    assert entries["badcard"].card is None

    assert not entries["orphan"].ok
    assert "orphan.keras is missing" in entries["orphan"].error


def test_list_models_of_a_missing_folder_is_empty(tmp_path):
    assert list_models(tmp_path / "nowhere") == []


def test_list_models_ignores_temp_and_lock_files(tmp_path):
    save_model(tiny_model(12), "solo", {}, root=tmp_path)
    (tmp_path / ".solo.abc123.tmp.keras").write_bytes(b"half a model")
    (tmp_path / ".solo.def456.tmp.json").write_text("{")
    assert (tmp_path / ".registry.lock").exists()

    assert [(e.name, e.ok) for e in list_models(tmp_path)] == [("solo", True)]


def test_load_model_of_a_corrupt_file_raises_model_error_naming_it(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(np.random.default_rng(1).bytes(2048))

    with pytest.raises(ModelError) as info:
        load_model("broken", root=tmp_path)

    assert str(path) in str(info.value)
    assert "cannot load model" in str(info.value)


def test_resolve_of_a_missing_name_says_how_to_train_it(tmp_path):
    with pytest.raises(ModelNotFoundError) as info:
        resolve("ghost", root=tmp_path)

    message = str(info.value)
    assert str(tmp_path / "ghost.keras") in message
    # The hint names the same registry folder, so following it makes the model that was missing.
    assert f"python -m digit_core --models-dir {tmp_path} train --arch cnn --name ghost" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ModelError)


def test_load_model_refuses_a_lambda_layer_because_loads_are_safe(tmp_path):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Lambda(lambda t: t)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    path = tmp_path / "sneaky.keras"
    keras.Model(inputs, outputs).save(path)
    # The file itself is fine: Keras loads it once safe mode is off.
    assert keras.saving.load_model(path, compile=False, safe_mode=False) is not None

    with pytest.raises(ModelError, match="cannot load model") as info:
        load_model("sneaky", root=tmp_path)
    assert str(path) in str(info.value)


# --- crash safety with a real, SIGKILLed process -------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    import keras
    import numpy as np

    import digit_core.registry as registry
    from digit_core.config import ANNConfig
    from digit_core.inference import predict
    from digit_core.models import build_ann

    root, mode, work = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    keras.utils.set_random_seed(123)
    model_b = build_ann(ANNConfig(units=(16,)))
    rng = np.random.default_rng(123)
    model_b.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(w.dtype)
                         for w in model_b.get_weights()])
    np.save(work / "b_probs.npy", predict(model_b, np.load(work / "x.npy")))

    if mode == "after_temp_write":
        original = registry._write_model_file

        def write_then_die(model, path):
            original(model, path)
            os.kill(os.getpid(), signal.SIGKILL)

        registry._write_model_file = write_then_die
    elif mode == "between_renames":
        real_replace = os.replace
        renames = []

        def replace_then_die(src, dst):
            if Path(dst).parent == root:
                renames.append(dst)
                if len(renames) == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
            real_replace(src, dst)

        os.replace = replace_then_die
    else:
        raise SystemExit(f"unknown mode {mode}")

    registry.save_model(model_b, "m", {"version": "B"}, root=root)
    sys.exit(3)  # never reached: the process was killed inside save_model
    """
)


def save_in_child_and_kill(tmp_path: Path, root: Path, mode: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        registry.MODELS_DIR_ENV: str(root),
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(root), mode, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def saved_a(tmp_path):
    """Model A saved as 'm' in a fresh registry; returns (root, model A, its card, inputs)."""
    root = tmp_path / "registry"
    model_a = tiny_model(99)
    save_model(model_a, "m", {"version": "A"}, root=root)
    x = random_images(32, seed=5)
    np.save(tmp_path / "x.npy", x)
    return root, model_a, registry.read_card("m", root=root), x


def test_kill_during_save_leaves_the_previous_model_intact(tmp_path, saved_a):
    root, model_a, card_a, x = saved_a
    old_bytes = (root / "m.keras").read_bytes()

    result = save_in_child_and_kill(tmp_path, root, "after_temp_write")

    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    # The child did get as far as writing the new model to a temporary file.
    assert any(name.endswith(".tmp.keras") for name in temp_leftovers(root))
    assert (root / "m.keras").read_bytes() == old_bytes
    np.testing.assert_array_equal(predict(load_model("m", root=root), x), predict(model_a, x))
    entries = list_models(root)
    assert [(e.name, e.ok) for e in entries] == [("m", True)]
    assert entries[0].card == card_a


def test_kill_between_renames_leaves_a_whole_new_model_with_a_stale_card(tmp_path, saved_a):
    root, model_a, card_a, x = saved_a

    result = save_in_child_and_kill(tmp_path, root, "between_renames")

    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    assert any(name.endswith(".tmp.json") for name in temp_leftovers(root))
    # The model file is B's, whole and loadable.
    b_probs = np.load(tmp_path / "b_probs.npy")
    loaded = predict(load_model("m", root=root), x)
    np.testing.assert_allclose(loaded, b_probs, rtol=0, atol=1e-6)
    assert not np.allclose(loaded, predict(model_a, x))
    # The card is still A's, and its checksum shows that it no longer describes the file.
    entries = list_models(root)
    assert [(e.name, e.ok) for e in entries] == [("m", True)]
    assert entries[0].card == card_a
    assert card_a["model_sha256"] != file_sha256(root / "m.keras")


def test_model_bytes_are_the_saved_file_for_download(tmp_path):
    from digit_core.registry import read_model_bytes

    path = save_model(build_ann(ANNConfig(units=(4,))), "dl", {"architecture": "ann"}, root=tmp_path)
    assert read_model_bytes("dl", tmp_path) == path.read_bytes()
    with pytest.raises(ModelError, match="cannot read model 'gone'"):
        read_model_bytes("gone", tmp_path)
    with pytest.raises(ValueError, match="invalid model name"):
        read_model_bytes("../etc", tmp_path)


@pytest.mark.parametrize("name", ["mine.keras", "mine.json", "MINE.KERAS"])
def test_names_that_would_read_as_file_paths_are_refused(name):
    with pytest.raises(ValueError, match="not ending in .keras or .json"):
        validate_name(name)


def test_saves_defaults_deletes_and_failures_are_logged(tmp_path, caplog):
    root = tmp_path / "registry"
    with caplog.at_level(logging.INFO, logger="digit_core"):
        path = save_model(tiny_model(1), "m", {}, root=root)
        size = path.stat().st_size
        registry.set_default("m", root)
        registry.delete_model("m", root)
        (root / "bad.keras").write_bytes(b"garbage")
        with pytest.raises(registry.ModelError):
            registry.load_model("bad", root)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "digit_core.registry"]
    assert messages[:3] == [
        ("INFO", f"saved model 'm' as {path} ({size} bytes)"),
        ("INFO", f"model 'm' is now the default in {root}"),
        ("INFO", f"deleted model 'm' from {root}"),
    ]
    assert messages[3][0] == "WARNING" and messages[3][1].startswith(
        f"cannot load model {root / 'bad.keras'}: "
    )
    assert len(messages) == 4
