"""The Streamlit side shared by the pages: cached models, the canvas and the charts.

It lives in the package's ``__init__`` because Streamlit shows every other ``pages/*.py`` file as a
page. No model maths here: that is ``digit_core``'s.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from digit_core import registry
from digit_core.data import DataError, MnistNotFoundError, load_mnist, search_paths
from digit_core.handwriting import HandwritingError, HandwritingStore, fingerprint

TRAIN_COMMAND = registry.TRAIN_COMMAND


def _keep_keras_state_between_runs() -> None:
    """Stop Streamlit from clearing Keras' global state after every script run of every session.

    That clearing (``script_runner._clean_problem_modules``) resets layer-name counters, seeds and
    TensorFlow's default graph for every thread, so a training running in the background
    (:mod:`digit_core.jobs`) failed at random with "the name 'activation' is used 2 times" when
    another session's run ended while it built its model. The app needs no such clearing: its models
    are cached on purpose, and it uses no matplotlib (the other module that function cleans).
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = lambda: None


_keep_keras_state_between_runs()


@st.cache_resource(max_entries=8, show_spinner="Loading model…")
def _cached_model(name: str, stamp: tuple[int, int]):
    # ``stamp`` (modification time, size) is part of the key, so a re-saved file is picked up.
    return registry.load_model(name)


def model_stamp(name: str) -> tuple[int, int]:
    """(modification time, size) of a model's file: changes whenever the model is re-saved."""
    stat = registry.model_path(name).stat()
    return stat.st_mtime_ns, stat.st_size


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>:])")


def plain(text) -> str:
    """``text`` with Markdown's special characters escaped, to show user-given names as they are."""
    return _MARKDOWN.sub(r"\\\1", str(text))


class TestSet(NamedTuple):
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8
    fingerprint: str  # of the whole MNIST the test split came from
    source: str


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
        images, labels = HandwritingStore().arrays()
    except HandwritingError as exc:
        st.error(f"The handwriting set cannot be used: {plain(exc)}")
        return None
    if not len(labels):
        st.info("Your handwriting set is empty: draw digits on the Draw & Predict page and save them.")
        return None
    return TestSet(images, labels, fingerprint(images, labels), "your handwriting set")


def usable_model_names() -> list[str]:
    """Registry models that look whole, shipped defaults first."""
    return [entry.name for entry in registry.list_models() if entry.ok]


def default_index(names: list[str]) -> int:
    """Position of the registry's default model in ``names`` (0 when it is not there)."""
    default = registry.default_model()
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
        return _cached_model(name, model_stamp(name))
    except (OSError, registry.ModelError, ValueError) as exc:
        st.error(f"Model **{name}** cannot be used: {exc}\n\nTrain one with `{TRAIN_COMMAND}`.")
        st.stop()


def canvas_image_ui(key: str, width: int, height: int, pen: int):
    """A white-on-black drawing canvas; returns its ``(H, W, 4) uint8`` RGBA image or None.

    Sends the drawing after every stroke, so predictions update live.
    """
    # Imported here: the component registers itself with the running Streamlit server.
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=pen,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=height,
        width=width,
        drawing_mode="freedraw",
        return_image_data=True,
        update_streamlit=True,
        key=key,
    )
    return result.image_data


def probability_chart(probabilities, highlight: int, height: int = 220) -> alt.Chart:
    """Bar chart of the ten probabilities, the predicted digit highlighted, with tooltips."""
    frame = pd.DataFrame(
        {"digit": [str(d) for d in range(10)], "probability": [float(p) for p in probabilities]}
    )
    frame["predicted"] = frame["digit"] == str(highlight)
    return (
        alt.Chart(frame, height=height)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", sort=None, axis=alt.Axis(labelAngle=0, title="digit")),
            y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.condition("datum.predicted", alt.value("#4C6EF5"), alt.value("#ADB5BD")),
            tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("probability:Q", format=".2%")],
        )
    )


def confusion_heatmap(
    confusion, rates, by_rate: bool = False, selectable: bool = False, size: int = 380
) -> alt.Chart:
    """Heatmap of a confusion matrix (rows true, columns predicted) showing counts, or the
    row-normalised ``rates`` when ``by_rate``; both on hover.

    With ``selectable``, clicking a cell selects its ``true`` and ``predicted`` digits (the
    selection is named ``cell``).
    """
    rows = [
        {"true": t, "predicted": p, "count": int(confusion[t][p]), "rate": float(rates[t][p])}
        for t in range(10)
        for p in range(10)
    ]
    frame = pd.DataFrame(rows)
    field = "rate" if by_rate else "count"
    base = alt.Chart(frame, width=size, height=size).encode(
        x=alt.X("predicted:O", title="predicted digit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:O", title="true digit"),
    )
    # A log-like colour scale: the diagonal would otherwise wash out every mistake.
    heat = base.mark_rect().encode(
        color=alt.Color(f"{field}:Q", scale=alt.Scale(type="symlog", scheme="blues"), legend=None),
        tooltip=[
            alt.Tooltip("true:O"),
            alt.Tooltip("predicted:O"),
            alt.Tooltip("count:Q"),
            alt.Tooltip("rate:Q", format=".2%", title="share of true digit"),
        ],
    )
    if selectable:
        picked = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
        heat = heat.add_params(picked).encode(opacity=alt.condition(picked, alt.value(1.0), alt.value(0.55)))
    text = base.mark_text(fontSize=11 if not by_rate else 9).encode(
        text=alt.Text(f"{field}:Q", format=".1%" if by_rate else "d"),
        color=alt.condition(alt.datum.true == alt.datum.predicted, alt.value("white"), alt.value("#333")),
    )
    return heat + text


def per_class_bars(per_model: dict[str, list[float]], title: str = "accuracy") -> alt.Chart:
    """Bars of a per-digit figure; several models side by side when ``per_model`` has several."""
    frame = pd.DataFrame(
        [
            {"digit": str(d), "model": name, title: float(v)}
            for name, values in per_model.items()
            for d, v in enumerate(values)
        ]
    )
    low = max(0.0, float(frame[title].min()) - 0.02)
    several = len(per_model) > 1
    return (
        alt.Chart(frame, height=240)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
            xOffset="model:N",
            y=alt.Y(
                f"{title}:Q",
                scale=alt.Scale(domain=[low, 1.0], clamp=True),
                axis=alt.Axis(format=".0%", title=title, labelPadding=4),
            ),
            color=alt.Color("model:N", legend=alt.Legend(orient="top") if several else None),
            tooltip=["model:N", "digit:N", alt.Tooltip(f"{title}:Q", format=".2%")],
        )
    )


def counts_chart(counts: list[int]) -> alt.Chart:
    """Bars of how many samples there are of each digit."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "samples": counts})
    return (
        alt.Chart(frame, height=160)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("samples:Q", axis=alt.Axis(tickMinStep=1)),
            tooltip=["digit:N", "samples:Q"],
        )
    )


def test_set_bars(frame: pd.DataFrame) -> alt.Chart:
    """Each model's accuracy on each test set, grouped by model; ``frame`` has a ``model`` column
    and one column of accuracies per test set."""
    long = frame.melt("model", var_name="test set", value_name="accuracy")
    return (
        alt.Chart(long, height=260)
        .mark_bar()
        .encode(
            x=alt.X("model:N", axis=alt.Axis(labelAngle=0)),
            xOffset="test set:N",
            y=alt.Y("accuracy:Q", axis=alt.Axis(format="%")),
            color="test set:N",
            tooltip=["model:N", "test set:N", alt.Tooltip("accuracy:Q", format=".2%")],
        )
    )


def batch_loss_chart(steps: list[int], losses: list[float], batches_per_epoch: int) -> alt.Chart:
    """The smoothed training loss after every batch, with the epoch on the x axis."""
    frame = pd.DataFrame({"epoch": [s / max(1, batches_per_epoch) for s in steps], "loss": losses})
    return (
        alt.Chart(frame, height=220, title="training loss per batch (smoothed)")
        .mark_line()
        .encode(
            x=alt.X("epoch:Q", title="epoch"),
            y=alt.Y("loss:Q", scale=alt.Scale(zero=False), title="loss"),
            tooltip=[alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip("loss:Q", format=".4f")],
        )
    )


def epoch_chart(history: list[dict], metric: str) -> alt.Chart:
    """One metric ("loss" or "accuracy") per epoch, training against validation."""
    rows = []
    for entry in history:
        rows.append({"epoch": entry["epoch"], "set": "training", metric: entry[metric]})
        if entry.get(f"val_{metric}") is not None:
            rows.append({"epoch": entry["epoch"], "set": "validation", metric: entry[f"val_{metric}"]})
    axis = alt.Axis(format=".1%") if metric == "accuracy" else alt.Axis()
    chart = alt.Chart(pd.DataFrame(rows), height=220, title=f"{metric} per epoch")
    return chart.mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False), axis=axis),
        color=alt.Color("set:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["epoch:Q", "set:N", alt.Tooltip(f"{metric}:Q", format=".4f")],
    )


def history_chart(history: list[dict]) -> alt.Chart:
    """Loss and accuracy per epoch, training against validation, from a model card's history."""
    rows = []
    for entry in history:
        for metric in ("loss", "accuracy"):
            rows.append(
                {"epoch": entry["epoch"], "metric": metric, "set": "training", "value": entry[metric]}
            )
            if entry.get(f"val_{metric}") is not None:
                rows.append(
                    {
                        "epoch": entry["epoch"],
                        "metric": metric,
                        "set": "validation",
                        "value": entry[f"val_{metric}"],
                    }
                )
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, height=220)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
            color="set:N",
            tooltip=["epoch:Q", "set:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .facet(column=alt.Column("metric:N", title=None))
        .resolve_scale(y="independent")
    )
