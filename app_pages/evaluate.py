"""Evaluate: test-set accuracy, confusion matrix, mistakes, and ANN against CNN."""

import pandas as pd
import streamlit as st

from digit_core import registry
from digit_core.evaluation import (
    cell,
    confusion_csv,
    disagreements,
    evaluate,
    from_confusion,
    per_class_csv,
    row_normalised,
    who_was_right,
)
from digit_core.inference import predict, single_image_ms
from digit_core.nondigit import article
from digit_core.robustness import AMOUNTS, TITLES, UNITS
from digit_core.visual import enlarge
from ui.charts import (
    confusion_heatmap,
    history_chart,
    per_class_bars,
    probability_chart,
    robustness_chart,
    test_set_bars,
)
from ui.identity import models
from ui.navigation import EVALUATE
from ui.resources import (
    default_index,
    handwriting_set_ui,
    load_model_ui,
    model_names_ui,
    model_stamp,
    other_writers_set_ui,
    test_set_ui,
)
from ui.robustness import SUBSET, robustness_frame_ui
from ui.text import plain

ROBUSTNESS_TITLES = {
    "shift": "Test digits moved off-centre",
    "rotation": "Test digits turned",
    "stroke": "Test digits drawn with a thinner or thicker pen",
}
GALLERY = 40  # images shown per gallery; the count says how many there are in all
THUMB = 3  # gallery images are 28 x 3 = 84 px

st.title(EVALUATE.heading)
names = model_names_ui()
MNIST_SOURCE, OTHER_SOURCE, HANDWRITING_SOURCE = "MNIST test set", "Other writers (UCI)", "My handwriting"
with st.sidebar:
    source = st.radio(
        "Test set",
        [MNIST_SOURCE, OTHER_SOURCE, HANDWRITING_SOURCE],
        key="eval_source",
        help="MNIST's 10,000 test images; 1,797 digits by 13 writers who are not in MNIST (the UCI "
        "set scikit-learn ships), each read as an uploaded file; or the digits you saved on the "
        "Draw page.",
    )
on_mnist, on_handwriting = source == MNIST_SOURCE, source == HANDWRITING_SOURCE
if on_mnist:
    test_set = test_set_ui()
elif on_handwriting:
    test_set = handwriting_set_ui()
    if test_set is None:
        st.stop()
else:
    test_set = other_writers_set_ui()


# Each cache is keyed by the model file's stamp (and the data's fingerprint): a second visit is
# instant, and a re-saved model is evaluated afresh.
@st.cache_data(show_spinner="Evaluating on the test set…", max_entries=16)
def probabilities_of(name: str, stamp: tuple[int, int], fingerprint: str, _images):
    # ``_images`` is not hashed: the fingerprint stands for it.
    return predict(load_model_ui(name), _images)


@st.cache_data(max_entries=16)
def inference_ms(name: str, stamp: tuple[int, int]) -> float:
    return single_image_ms(load_model_ui(name), test_set.images[0])


@st.cache_data(max_entries=16)
def file_sha256(name: str, stamp: tuple[int, int]) -> str:
    return registry.file_sha256(models().model_path(name))


@st.cache_data(max_entries=4)
def model_bytes(name: str, stamp: tuple[int, int]) -> bytes:
    return models().read_model_bytes(name)


def number(card: dict, key: str, fmt: str) -> str:
    value = card.get(key)
    return format(value, fmt) if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def report(name: str):
    """``(evaluation, probabilities, card)`` for model ``name`` (probabilities None without data),
    or None after a warning when neither the data nor the model's card has the figures."""
    try:
        card = models().read_card(name)
        if test_set is None:
            return from_confusion(card["confusion"], card.get("test_loss", float("nan"))), None, card
    except (registry.ModelError, KeyError, TypeError, ValueError) as exc:
        st.warning(f"No figures for model {plain(name)}: its card cannot be used ({plain(exc)}).")
        return None
    probabilities = probabilities_of(name, model_stamp(name), test_set.fingerprint, test_set.images)
    return evaluate(probabilities, test_set.labels), probabilities, card


def headline_ui(name: str, result, card: dict) -> None:
    columns = st.columns(6)
    columns[0].metric("Accuracy", f"{result.accuracy:.2%}")
    columns[1].metric("Loss", f"{result.loss:.4f}" if result.loss == result.loss else "–")
    columns[2].metric("Errors", f"{result.errors:,}", help=f"Misread test images, of {result.count:,}.")
    columns[3].metric("Parameters", number(card, "parameters", ","))
    columns[4].metric("Size on disk", f"{model_stamp(name)[1] / 2**20:.2f} MB")
    if test_set is not None:
        columns[5].metric(
            "One image",
            f"{inference_ms(name, model_stamp(name)):.2f} ms",
            help="Median time to predict one 28×28 image on this server.",
        )
        if not on_mnist:
            mnist = number(card, "test_accuracy", ".2%")
            refused = (
                f" The upload path refused {len(test_set.refused):,} of the files (not counted here)."
                if test_set.refused
                else ""
            )
            st.caption(
                f"Evaluated on {result.count:,} digits: {plain(test_set.source)}; on MNIST's test "
                f"set this model scores {mnist} (its card).{refused}"
            )
            return
        same = card.get("data_fingerprint") == test_set.fingerprint and card.get(
            "model_sha256"
        ) == file_sha256(name, model_stamp(name))
        stored = number(card, "test_accuracy", ".2%")
        agrees = stored == f"{result.accuracy:.2%}"
        note = "matches the model card's" if agrees else f"differs from the card's {stored}"
        origin = "" if same else " (the card was made with another file or other data)"
        st.caption(
            f"Evaluated on {result.count:,} test images from {plain(test_set.source)}; "
            f"the accuracy {note}{origin}."
        )


def gallery_ui(indices, captions) -> None:
    if len(indices) == 0:
        st.caption("No images here.")
        return
    images = [enlarge(test_set.images[i], THUMB) for i in indices[:GALLERY]]
    st.image(images, caption=list(captions[:GALLERY]), width=28 * THUMB)


def pick_cell() -> None:
    # Clicking a heatmap cell moves the two selectors to it (callbacks run before the script).
    chosen = st.session_state.eval_heatmap.selection.get("cell") or []
    if chosen:
        st.session_state.eval_true = int(chosen[0]["true"])
        st.session_state.eval_predicted = int(chosen[0]["predicted"])


def confusion_ui(result, probabilities) -> None:
    st.subheader("Confusion matrix")
    by_rate = st.toggle(
        "Row-normalised rates",
        key="eval_rates",
        help="Colour by the share of each true digit instead of raw counts.",
    )
    chart = confusion_heatmap(
        result.confusion.tolist(),
        row_normalised(result.confusion).tolist(),
        by_rate=by_rate,
        selectable=probabilities is not None,
    )
    if probabilities is None:
        st.altair_chart(chart)
        return
    left, right = st.columns([1, 1])
    with left:
        st.altair_chart(chart, on_select=pick_cell, selection_mode="cell", key="eval_heatmap")
    with right:
        if "eval_true" not in st.session_state:  # start on the most common mistake
            st.session_state.eval_true, st.session_state.eval_predicted = result.worst_confusion()
        true_col, pred_col = st.columns(2)
        true = true_col.selectbox("True digit", range(10), key="eval_true")
        predicted = pred_col.selectbox("Predicted digit", range(10), key="eval_predicted")
        found = cell(probabilities, test_set.labels, true, predicted)
        st.markdown(
            f"**{len(found):,}** test images of {article(true)} **{true}** predicted as **{predicted}**"
            + (f" (the first {GALLERY} shown)" if len(found) > GALLERY else "")
        )
        with st.container(key="eval_cell"):
            gallery_ui(found, [f"{probabilities[i, predicted]:.0%}" for i in found])


def per_class_ui(result) -> None:
    st.subheader("Per digit")
    frame = pd.DataFrame(result.per_class()).set_index("digit")
    worst = result.hardest_digit()
    st.caption(f"The hardest digit for this model is **{worst}** (lowest F1). Click a column to sort.")
    styled = frame.style.format({"precision": "{:.2%}", "recall": "{:.2%}", "f1": "{:.2%}"}).apply(
        lambda row: ["background-color: rgba(255, 99, 71, 0.25)" if row.name == worst else ""] * len(row),
        axis=1,
    )
    left, right = st.columns(2)
    left.dataframe(styled, width="stretch", key="eval_per_class")
    right.altair_chart(per_class_bars({"accuracy": result.recall.tolist()}), width="stretch")


def mistakes_ui(result, probabilities) -> None:
    st.subheader("Most confident mistakes")
    shown = result.mistakes[:12]
    if not shown:
        st.caption("No mistakes on this test set.")
        return
    for start in range(0, len(shown), 6):
        for column, mistake in zip(st.columns(6), shown[start : start + 6]):
            column.image(
                enlarge(test_set.images[mistake.index], THUMB),
                width=28 * THUMB,
                caption=f"true {mistake.true} → {mistake.predicted} ({mistake.confidence:.0%})",
            )
            with column.expander("probabilities"):
                chart = probability_chart(probabilities[mistake.index], mistake.predicted, height=120)
                st.altair_chart(chart, width="stretch")


def one_model_ui() -> None:
    name = st.selectbox(
        "Model",
        names,
        index=default_index(names),
        key="eval_model",
        help="The shipped models come first; the Train page sets the default.",
    )
    found = report(name)
    if found is None:
        return
    result, probabilities, card = found
    headline_ui(name, result, card)
    confusion_ui(result, probabilities)
    per_class_ui(result)
    if probabilities is not None:
        mistakes_ui(result, probabilities)
    if card.get("history"):
        st.subheader("Training history")
        st.altair_chart(history_chart(card["history"]), width="stretch")
    st.subheader("Downloads")
    columns = st.columns(3)
    columns[0].download_button(
        "Confusion matrix (CSV)",
        confusion_csv(result.confusion),
        f"{name}-confusion.csv",
        "text/csv",
        key="eval_download_confusion",
    )
    columns[1].download_button(
        "Per-digit metrics (CSV)",
        per_class_csv(result),
        f"{name}-per-digit.csv",
        "text/csv",
        key="eval_download_per_class",
    )
    columns[2].download_button(
        "Model file (.keras)",
        model_bytes(name, model_stamp(name)),
        f"{name}.keras",
        "application/octet-stream",
        key="eval_download_model",
    )


def compare_ui() -> None:
    default_a, default_b = ("ann", "cnn") if {"ann", "cnn"} <= set(names) else (names[0], names[-1])
    pick_a, pick_b = st.columns(2)
    first = pick_a.selectbox("First model", names, index=names.index(default_a), key="eval_first")
    second = pick_b.selectbox("Second model", names, index=names.index(default_b), key="eval_second")
    reports = {name: report(name) for name in (first, second)}
    if None in reports.values():
        return
    with st.container(key="eval_compare"):
        for column, (name, (result, _, card)) in zip(st.columns(2), reports.items()):
            with column:
                st.markdown(f"#### {name}")
                a, b, c = st.columns(3)
                a.metric("Accuracy", f"{result.accuracy:.2%}")
                b.metric("Parameters", number(card, "parameters", ","))
                c.metric("Size", f"{model_stamp(name)[1] / 2**20:.2f} MB")
                d, e, _ = st.columns(3)
                d.metric("Training time", number(card, "training_seconds", ".0f") + " s")
                if test_set is not None:
                    e.metric("One image", f"{inference_ms(name, model_stamp(name)):.2f} ms")
                st.altair_chart(
                    confusion_heatmap(
                        result.confusion.tolist(), row_normalised(result.confusion).tolist(), size=300
                    )
                )
    st.subheader("Accuracy per digit")
    st.altair_chart(
        per_class_bars({name: r[0].recall.tolist() for name, r in reports.items()}), width="stretch"
    )
    if test_set is None or first == second:
        return
    st.subheader("Where they disagree")
    found = disagreements(reports[first][1], reports[second][1], test_set.labels)
    right = who_was_right(found)
    st.markdown(
        f"**{len(found):,}** test images: **{first}** right on {right['first']}, "
        f"**{second}** right on {right['second']}, neither on {right['neither']}."
    )
    winner = {"first": f"{first} right", "second": f"{second} right", "neither": "both wrong"}
    gallery_ui(
        [d.index for d in found],
        [f"true {d.true} · {first} {d.first} · {second} {d.second} · {winner[d.right]}" for d in found],
    )


def mnist_vs_others_ui() -> None:
    """Every model's MNIST accuracy beside its accuracy on digits by other writers (the UCI set,
    read as uploads) and on the user's handwriting set: how far MNIST overstates new writers."""
    st.markdown(
        "A model is tested on MNIST digits written by the same kind of people, scanned the same "
        "way, as the ones it learned from. Digits by **other writers**, arriving as files, are "
        "harder: the gap below is how far the MNIST figure overstates what the model does for "
        "someone new."
    )
    mnist = test_set if on_mnist else None
    others = test_set if source == OTHER_SOURCE else other_writers_set_ui()
    handwriting = test_set if on_handwriting else handwriting_set_ui()

    def accuracy(name: str, data) -> float:
        probabilities = probabilities_of(name, model_stamp(name), data.fingerprint, data.images)
        right = evaluate(probabilities, data.labels).accuracy * len(data.labels)
        return right / (len(data.labels) + len(data.refused))  # a refused file is a digit not read

    rows = []
    for name in names:
        try:
            card = models().read_card(name)
        except registry.ModelError:
            continue
        row = {"model": name, "MNIST": accuracy(name, mnist) if mnist else card.get("test_accuracy")}
        row["other writers"] = accuracy(name, others)
        if isinstance(row["MNIST"], float):
            row["gap"] = row["MNIST"] - row["other writers"]
        if handwriting is not None:
            row["my handwriting"] = accuracy(name, handwriting)
        rows.append(row)
    frame = pd.DataFrame(rows)
    total = len(others.labels) + len(others.refused)
    columns = {
        "MNIST": st.column_config.NumberColumn("MNIST test accuracy", format="percent"),
        "other writers": st.column_config.NumberColumn(
            f"other writers ({total:,} UCI digits as uploads)", format="percent"
        ),
        "gap": st.column_config.NumberColumn(
            "MNIST overstates by", format="percent", help="MNIST accuracy minus other writers'."
        ),
    }
    if handwriting is not None:
        columns["my handwriting"] = st.column_config.NumberColumn(
            f"my handwriting ({len(handwriting.labels):,} digits)", format="percent"
        )
    with st.container(key="eval_versus"):
        st.dataframe(frame, hide_index=True, width="stretch", column_config=columns)
    if len(frame):
        st.altair_chart(test_set_bars(frame.drop(columns=["gap"], errors="ignore")), width="stretch")
    if others.refused:
        st.caption(
            f"{len(others.refused):,} of the other writers' files were refused by the upload path "
            "and count as misread."
        )


def robustness_ui() -> None:
    """Each model's accuracy as MNIST test digits are shifted, rotated and re-penned."""
    st.markdown(
        f"The classic lesson: take {SUBSET:,} MNIST test digits, move them off-centre, turn them or "
        "change the pen, and measure each model again. An ANN learns fixed places on the page; a "
        "CNN's filters slide over it, so it should hold up better as digits move."
    )
    mnist = test_set if on_mnist else test_set_ui()
    if mnist is None:
        return
    shown = [name for name in ("ann", "cnn") if name in names] or [names[0]]
    if not st.toggle("Measure robustness", key="eval_robustness", help="A few seconds, once per server."):
        st.info("Turn on **Measure robustness** to measure it (once per server, then shared).")
        return
    models = {name: load_model_ui(name) for name in shown}
    stamps = {name: model_stamp(name) for name in shown}
    frame = robustness_frame_ui(models, stamps, mnist.images, mnist.labels, mnist.fingerprint)
    with st.container(key="eval_robustness_charts"):
        for distortion in AMOUNTS:
            rows = frame[frame["distortion"] == distortion]
            unit = f"{TITLES[distortion]} ({UNITS[distortion]})"
            chart = robustness_chart(rows, ROBUSTNESS_TITLES[distortion], unit)
            st.altair_chart(chart, width="stretch")
    st.caption(
        "Shifts go in a random direction per digit and turns in a random sense; a negative pen "
        "thins the strokes (keeping every stroke), a positive one thickens them."
    )


one_tab, compare_tab, versus_tab, robust_tab = st.tabs(
    ["One model", "ANN vs CNN", "MNIST vs other writers", "Robustness"]
)
with one_tab:
    one_model_ui()
with compare_tab:
    compare_ui()
with versus_tab:
    mnist_vs_others_ui()
with robust_tab:
    robustness_ui()
