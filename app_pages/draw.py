"""Draw & Predict: live prediction on a canvas, a number of several digits, and uploads."""

import re

import numpy as np
import streamlit as st

from digit_core.handwriting import HandwritingError, digest, drawing_png
from digit_core.inference import predict
from digit_core.nondigit import article, refusal
from digit_core.predictions import (
    DEFAULT_THRESHOLD,
    predict_prepared,
    predict_uploads,
    results_csv,
    results_json,
    results_table,
)
from digit_core.preprocess import MAX_IMAGE_BYTES, prepare
from digit_core.segment import split_digits
from digit_core.visual import enlarge
from ui.charts import probability_chart
from ui.identity import handwriting
from ui.inside import ann_inside_ui, feature_maps_ui, robustness_ui, saliency_ui
from ui.navigation import DRAW
from ui.resources import default_index, load_model_ui, model_names_ui, model_stamp
from ui.screen import DESKTOP_WIDTH, screen_width_ui
from ui.text import plain
from ui.widgets import canvas_image_ui

# A digit drawn ~200 px tall is scaled by 1/10 into MNIST's 20 px box, so an 18 px pen becomes
# MNIST's median stroke of about 1.8 px.
DEFAULT_PEN = 18
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
THUMBNAILS_PER_ROW = 6
MAX_UPLOADS = 100  # files read per batch: bounds the work of one rerun
NUMBER_HEIGHT = 200  # px: the number canvas; its width fits the screen, up to DESKTOP_WIDTH
VIEWS = ("Chart", "Log scale", "Top 3")


@st.cache_data(show_spinner="Reading the uploads…", max_entries=4)
def upload_results(name: str, stamp: tuple[int, int], file_ids: tuple[str, ...], _files):
    # Keyed by the files' ids, not their bytes: a rerun for a slider does not read them again.
    return predict_uploads(load_model_ui(name), [(f.name, f.getvalue()) for f in _files])


if "draw_threshold" not in st.session_state:
    st.session_state.draw_threshold = DEFAULT_THRESHOLD

st.title(DRAW.heading)
names = model_names_ui()

with st.sidebar:
    model_name = st.selectbox(
        "Model",
        names,
        index=default_index(names),
        key="draw_model",
        help="Models from the registry; the Train page sets the default.",
    )
    compare = st.toggle(
        "ANN vs CNN side by side",
        key="draw_compare",
        disabled=not {"ann", "cnn"} <= set(names),
        help="Show the shipped ANN's and CNN's answers for the same drawing.",
    )
    pen = st.slider(
        "Pen width",
        4,
        40,
        DEFAULT_PEN,
        key="draw_pen",
        help="18 px matches MNIST's stroke thickness once the digit is scaled.",
    )
    threshold = st.slider(
        "Sure above",
        0.3,
        0.99,
        key="draw_threshold",
        help="Below this confidence the page says it is not sure.",
    )


def prediction_ui(model, prepared, title: str | None = None):
    """The answer for one prepared image: digit, confidence, doubt, probabilities; returns it."""
    prediction = predict_prepared(model, [prepared])[0]
    if title:
        st.caption(title)
    st.metric(
        "Prediction",
        str(prediction.digit),
        f"{prediction.confidence:.1%} confident",
        delta_color="off",
        delta_arrow="off",
    )
    if prediction.unsure(threshold):
        st.warning(
            f"Not sure: it looks most like {article(prediction.digit)} **{prediction.digit}**, "
            f"or else {article(prediction.runner_up)} **{prediction.runner_up}**."
        )
    probabilities, view = prediction.probabilities, st.session_state.draw_view
    if view == "Top 3":
        top = np.argsort(-probabilities)[:3]
        st.markdown("  \n".join(f"**{d}**: {probabilities[d]:.3%}" for d in top))
    else:
        chart = probability_chart(probabilities, prediction.digit, log=view == "Log scale")
        st.altair_chart(chart, width="stretch")
    return prediction


def typed_label() -> None:
    # Enter in the box: keep what was typed for the fragment's run, and empty the box for the next.
    st.session_state.draw_typed = st.session_state.draw_label.strip()
    st.session_state.draw_label = ""


def save_sample_ui(image, prepared, prediction) -> None:
    """Keep this drawing, labelled, in the user's handwriting set: one click to confirm the
    prediction, or type the right digit and press Enter."""
    # Both widgets act through callbacks, which run before this: the save happens first, so the
    # widgets below are drawn as they are after it.
    drawn = digest(prepared.image)
    # The click carries the drawing and digit it confirmed: a stroke that came in between voids it.
    confirmed = st.session_state.pop("draw_confirmed", None)
    label = confirmed[1] if confirmed is not None and confirmed[0] == drawn else None
    typed = st.session_state.pop("draw_typed", None)
    problem = None
    if typed:
        if re.fullmatch("[0-9]", typed):  # not str.isdigit: "²" is a digit to it
            label = int(typed)
        else:
            problem = f"Type one digit, 0-9 (not {plain(typed)})."
    if label is not None:
        try:
            sample = handwriting().add(
                prepared.image, label, drawing_png(image), prediction.digit, prediction.confidence, model_name
            )
            st.session_state.draw_saved = (drawn, label, sample)
        except (HandwritingError, ValueError) as exc:
            problem = f"Not saved: {plain(exc)}"
    saved = st.session_state.get("draw_saved")
    same = saved is not None and saved[0] == drawn
    with st.container(key="draw_save"):
        confirm, correct = st.columns(2, vertical_alignment="bottom")
        confirm.button(
            f"✓ It is {article(prediction.digit)} {prediction.digit}: save it",
            key="draw_confirm",
            disabled=same,
            on_click=st.session_state.update,
            kwargs={"draw_confirmed": (drawn, prediction.digit)},
            help="Add this drawing to your handwriting set (see the My handwriting page).",
        )
        correct.text_input(
            f"Not {article(prediction.digit)} {prediction.digit}? Type the right digit, then Enter",
            max_chars=1,
            key="draw_label",
            on_change=typed_label,
            disabled=same,
        )
        if problem:
            st.error(problem)
        elif same:
            st.success(
                f"Saved as {article(saved[1])} **{saved[1]}** in your handwriting set "
                f"(sample {saved[2]}). Draw the next one."
            )


def both_models() -> dict:
    """The shipped ANN and CNN (those of them in the registry), by name."""
    return {name: load_model_ui(name) for name in ("ann", "cnn") if name in names}


def inside_ui(prepared, shown: list[str]) -> None:
    """Why the models answered (a saliency map each), what is inside them, and how robust they are."""
    models = both_models()
    why, cnn_tab, ann_tab, robust_tab = st.tabs(
        ["Why this answer", "Inside the CNN", "Inside the ANN", "Move, turn, thicken"]
    )
    with why, st.container(key="draw_saliency"):
        seen, *maps = st.columns(1 + len(shown))
        seen.image(enlarge(prepared.image, 6), caption="What the model sees (28×28)", width=168)
        for column, name in zip(maps, shown):
            with column:
                saliency_ui(name, load_model_ui(name), prepared.image)
    with cnn_tab, st.container(key="draw_inside_cnn"):
        if "cnn" in models:
            feature_maps_ui(models["cnn"], prepared.image)
        else:
            st.info("There is no model named cnn in the registry.")
    with ann_tab, st.container(key="draw_inside_ann"):
        if "ann" in models:
            ann_inside_ui(models["ann"], prepared.image)
        else:
            st.info("There is no model named ann in the registry.")
    with robust_tab, st.container(key="draw_robustness"):
        robustness_ui(prepared.image, models or {model_name: load_model_ui(model_name)})


def refusal_of(prepared) -> str | None:
    """Why the drawing is not a digit (its ink, its shape, or both models' answers), or None."""
    models = both_models()
    answers = {name: predict(model, prepared.image)[0] for name, model in models.items()}
    return refusal(prepared, answers)


# Fragments: a stroke reruns only its own canvas's part of the page, which keeps answers quick.
@st.fragment
def single_digit_ui() -> None:
    left, right = st.columns([1, 1])
    with left:
        st.caption("Draw one digit with the mouse or a finger. Undo, redo and clear are above the canvas.")
        image = canvas_image_ui("draw_canvas", 280, 280, pen)
    prepared = prepare(image) if image is not None else None
    with right, st.container(key="prediction"):
        if prepared is None or prepared.blank:
            st.info("Draw a digit on the canvas: the prediction appears as soon as you lift the pen.")
            return
        refused = refusal_of(prepared)
        if refused:  # the model's guess is still shown, but nothing is offered for saving
            st.error(
                f"{refused[:1].upper()}{refused[1:]}. The answers below are the models' guesses all the same."
            )
        st.radio("Probabilities", VIEWS, horizontal=True, key="draw_view", label_visibility="collapsed")
        if compare:
            answers = {}
            for column, name in zip(st.columns(2), ("ann", "cnn")):
                with column:
                    answers[name] = prediction_ui(load_model_ui(name), prepared, title=name.upper())
            prediction = answers.get(model_name) or predict_prepared(load_model_ui(model_name), [prepared])[0]
        else:
            prediction = prediction_ui(load_model_ui(model_name), prepared)
    if not refused:
        save_sample_ui(image, prepared, prediction)
    inside_ui(prepared, ["ann", "cnn"] if compare else [model_name])


def reader(images: np.ndarray) -> np.ndarray:
    """Probabilities ``(N, 10)`` from the chosen model: how the number's cuts are judged."""
    return predict(load_model_ui(model_name), images)


@st.fragment
def number_ui(width: int) -> None:
    st.caption("Write a number. Digits that touch are cut apart where the model reads both sides best.")
    image = canvas_image_ui("draw_number_canvas", width, NUMBER_HEIGHT, pen)
    pieces = split_digits(image, read=reader) if image is not None else []
    with st.container(key="number"):
        if not pieces:
            st.info("Write a number (a year, a phone number): it is read as soon as you lift the pen.")
            return
        predictions = predict_prepared(load_model_ui(model_name), [p.prepared for p in pieces])
        st.metric("Number", "".join(str(p.digit) for p in predictions))
        if any(p.unsure for p in pieces):
            st.warning(
                "I cannot tell whether some of it is one digit or digits that touch: leave a little "
                "space between the digits to be sure."
            )
        elif any(p.split for p in pieces):
            st.caption("Some digits touched: they were cut apart where the model read both sides best.")
        for column, piece, prediction in zip(st.columns(len(pieces)), pieces, predictions):
            column.image(enlarge(piece.prepared.image, 3))
            column.markdown(f"**{prediction.digit}** · {prediction.confidence:.0%}")


def upload_ui() -> None:
    files = st.file_uploader(
        "Images of digits",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="draw_uploads",
        help=f"PNG, JPEG, BMP, GIF or WebP, up to {MAX_IMAGE_BYTES // 2**20} MB "
        "each. Photos of dark ink on paper work too.",
    )
    if not files:
        st.info("Upload one or more images: each gets its own prediction.")
        return
    if len(files) > MAX_UPLOADS:
        st.warning(f"{len(files)} files: only the first {MAX_UPLOADS} are read.")
        files = files[:MAX_UPLOADS]
    results = upload_results(model_name, model_stamp(model_name), tuple(f.file_id for f in files), files)
    st.dataframe(results_table(results), hide_index=True, width="stretch")
    for result in results:
        if result.error:
            st.error(f"{plain(result.name)}: {plain(result.error)}")
    shown = [r for r in results if r.prediction is not None]
    for row in range(0, len(shown), THUMBNAILS_PER_ROW):
        for column, result in zip(st.columns(THUMBNAILS_PER_ROW), shown[row : row + THUMBNAILS_PER_ROW]):
            caption = f"{result.name}: {result.prediction.digit}"
            column.image(enlarge(result.prepared.image, 3), caption=caption)
    csv_column, json_column = st.columns(2)
    csv_column.download_button(
        "Download CSV", results_csv(results), "predictions.csv", "text/csv", key="draw_download_csv"
    )
    json_column.download_button(
        "Download JSON",
        results_json(results),
        "predictions.json",
        "application/json",
        key="draw_download_json",
    )


if "draw_view" not in st.session_state:
    st.session_state.draw_view = VIEWS[0]
# The number canvas fits the page's width (a phone's 390 px screen leaves about 350 px).
number_width = min(DESKTOP_WIDTH, screen_width_ui() or DESKTOP_WIDTH)
draw_tab, number_tab, upload_tab = st.tabs(["One digit", "A number", "Upload"])
with draw_tab:
    single_digit_ui()
with number_tab:
    number_ui(number_width)
with upload_tab:
    upload_ui()
