"""Home: what the app is, a link to each page, and a card per model in the registry.
Imports no TensorFlow, so it opens at once."""

import streamlit as st

from digit_core.registry import TRAIN_COMMAND, models_dir
from ui.identity import models
from ui.navigation import APP_NAME, HOME, PAGES


def model_card_ui(entry, default: str) -> None:
    card = entry.card or {}
    with st.container(border=True):
        st.subheader(entry.name)
        if not entry.ok:
            st.error(f"Unusable: {entry.error}")
            return
        marker = " · the default" if entry.name == default else ""
        created = str(card.get("created", "?"))[:10]
        st.caption(f"{card.get('architecture', '?').upper()} · trained {created}{marker}")
        left, right = st.columns(2)
        accuracy = card.get("test_accuracy")
        left.metric("MNIST test accuracy", f"{accuracy:.2%}" if isinstance(accuracy, float) else "–")
        params = card.get("parameters")
        right.metric("Parameters", f"{params:,}" if isinstance(params, int) else "–")


def links_ui() -> None:
    """A card per page: its link, and what it offers."""
    others = [spec for spec in PAGES if spec is not HOME]
    for column, spec in zip(st.columns(len(others)), others):
        with column, st.container(border=True, height="stretch"):
            st.page_link(spec.path, label=spec.title, icon=spec.icon)
            st.caption(spec.summary)


def models_ui() -> None:
    entries = models().list_models()
    if not entries:
        st.warning(f"No models found in `{models_dir()}`. Train one with `{TRAIN_COMMAND}`.")
        return
    st.header("Available models")
    default = models().default_model()
    for column, entry in zip(st.columns(min(len(entries), 3)), entries[:3]):
        with column:
            model_card_ui(entry, default)
    for entry in entries[3:]:
        model_card_ui(entry, default)


st.title(APP_NAME)
st.write(
    "Draw or upload handwritten digits and see what a neural network predicts, what it sees and "
    "why; study where each model goes wrong and compare a dense network (ANN) with a "
    "convolutional one (CNN)."
)
links_ui()
models_ui()
