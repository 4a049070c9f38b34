"""What pages share through Streamlit's caches: models, the test sets, the training data, and
the messages a page shows when one of them is missing. No model maths here: that is ``digit_core``'s.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import streamlit as st

from digit_core import other_writers, registry
from digit_core.data import DataError, MnistNotFoundError, load_mnist, search_paths
from digit_core.handwriting import HandwritingError, fingerprint

from .identity import models, workspace
from .text import plain

TRAIN_COMMAND = registry.TRAIN_COMMAND


@st.cache_resource(max_entries=8, show_spinner="Loading model…")
def _cached_model(path: str, stamp: tuple[int, int, str]):
    # ``stamp`` (modification time, size, file) is part of the key, so a re-saved file is picked up;
    # the file's path, not the model's name, so that two people's models of one name never meet.
    return registry.load_model(path)


def model_stamp(name: str) -> tuple[int, int, str]:
    """(modification time, size, path) of this session's model ``name``: changes whenever the
    model is re-saved, and differs between two people's models of the same name."""
    path = models().model_path(name)
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size, str(path)


class TestSet(NamedTuple):
    images: np.ndarray  # (N, 28, 28) uint8 as MNIST, or float32 in [0, 1] as the upload path gives
    labels: np.ndarray  # (N,) uint8
    fingerprint: str  # of the whole MNIST the test split came from, or of the images and labels
    source: str
    refused: tuple[tuple[str, str], ...] = ()  # (file, reason) the upload path refused: not in images


@st.cache_data(show_spinner="Loading the MNIST test set…", max_entries=2)
def _test_set(paths: tuple[str, ...]) -> TestSet:
    mnist = load_mnist(download=False)  # a page never downloads behind the user's back
    return TestSet(mnist.test_images, mnist.test_labels, mnist.fingerprint(), mnist.source)


def test_set_ui() -> TestSet | None:
    """The MNIST test set, or ``None`` after a warning that says how to provide it (a failure is
    not cached, so adding the files later works)."""
    try:
        return _test_set(tuple(str(p) for p in search_paths()))
    except (MnistNotFoundError, DataError) as exc:
        st.warning(
            f"The MNIST test set is not available, so the figures below are the ones stored in "
            f"the model cards. {exc}\n\nTo evaluate here, put the four `*-ubyte.gz` files (or "
            f"`mnist.npz`) in a folder and start the app with `DIGIT_DATA_DIR` set to it."
        )
        return None


def handwriting_set_ui() -> TestSet | None:
    """The user's handwriting set as a test set, or ``None`` after saying why there is none."""
    try:
        images, labels = workspace().handwriting().arrays()
    except HandwritingError as exc:
        st.error(f"The handwriting set cannot be used: {plain(exc)}")
        return None
    if not len(labels):
        st.info("Your handwriting set is empty: draw digits on the Draw & Predict page and save them.")
        return None
    return TestSet(images, labels, fingerprint(images, labels), "your handwriting set")


@st.cache_resource
def _other_writers_memo() -> dict:
    # One per server process, shared by every session: the set is read once, under the lock, with
    # a progress bar shown to whoever reads it first (a cache_data function could not draw it).
    return {"lock": threading.Lock()}


def other_writers_set_ui() -> TestSet:
    """The UCI digits (scikit-learn ships them) as a test set: each one a 160 px PNG sent through
    the same upload path as a user's file, with a progress bar the first time (about 30 s)."""
    memo = _other_writers_memo()
    with memo["lock"]:
        if "set" not in memo:
            bar = st.progress(0.0, text="Reading the other writers' digits as uploads…")

            def on_progress(done: int, total: int) -> None:
                bar.progress(
                    done / total, text=f"Reading the other writers' digits as uploads: {done:,} / {total:,}"
                )

            files = other_writers.uci_files()
            images, labels, refused = other_writers.read_through_upload_path(files, on_progress)
            source = (
                f"the {len(files):,} UCI digits of 13 writers not in MNIST, each read as an uploaded file"
            )
            memo["set"] = TestSet(images, labels, fingerprint(images, labels), source, tuple(refused))
            bar.empty()
    return memo["set"]


def usable_model_names() -> list[str]:
    """This session's usable models (whole-looking), shipped defaults first."""
    return [entry.name for entry in models().list_models() if entry.ok]


def default_index(names: list[str]) -> int:
    """Position of the registry's default model in ``names`` (0 when it is not there)."""
    default = models().default_model()
    return names.index(default) if default in names else 0


def train_data_ui():
    """The whole MNIST (a :class:`digit_core.data.Mnist`), or ``None`` after a warning that says
    how to provide it, with a button to download it for those who have the internet."""
    try:
        with st.spinner("Loading MNIST…"):
            return load_mnist(download=False)  # cached per process by digit_core.data
    except (MnistNotFoundError, DataError) as exc:
        st.warning(
            f"Training needs MNIST, which was not found. {exc}\n\nPut the four `*-ubyte.gz` "
            f"files (or `mnist.npz`) in a folder and start the app with `DIGIT_DATA_DIR` set "
            f"to it, or download it (about 11 MB) if this machine has the internet."
        )
    if st.button("Download MNIST", key="train_download"):
        try:
            with st.spinner("Downloading MNIST…"):
                return load_mnist(download=True)
        except (MnistNotFoundError, DataError) as exc:
            st.error(f"The download failed: {exc}")
    return None


def model_names_ui() -> list[str]:
    """The usable models' names; with none, an error naming the train command and ``st.stop()``."""
    names = usable_model_names()
    if not names:
        st.error(f"No usable model in the registry. Train one with `{TRAIN_COMMAND}`.")
        st.stop()
    return names


def load_model_ui(name: str):
    """The model ``name``, loaded once per process; on failure an error and ``st.stop()``."""
    try:
        stamp = model_stamp(name)
        return _cached_model(stamp[2], stamp)
    except (OSError, registry.ModelError, ValueError) as exc:
        st.error(f"Model **{name}** cannot be used: {exc}\n\nTrain one with `{TRAIN_COMMAND}`.")
        st.stop()
