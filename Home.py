"""Entry point and home page: ``streamlit run Home.py``. Imports no TensorFlow."""

import streamlit as st

from digit_core.registry import TRAIN_COMMAND, default_model, list_models, models_dir

st.set_page_config(page_title="Digit Lab", page_icon="✍️", layout="wide")


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


DRAW_PAGE = "pages/1_✏️_Draw_and_Predict.py"
EVALUATE_PAGE = "pages/2_📊_Evaluate.py"
TRAIN_PAGE = "pages/3_🏋️_Train.py"
HANDWRITING_PAGE = "pages/4_📝_My_handwriting.py"


def home() -> None:
    st.title("✍️ Digit Lab")
    st.write(
        "Draw or upload handwritten digits and see what a neural network predicts, what it sees and "
        "why; study where each model goes wrong and compare a dense network (ANN) with a "
        "convolutional one (CNN)."
    )
    st.page_link(DRAW_PAGE, label="Draw & Predict: draw a digit and watch the answer change", icon="✏️")
    st.page_link(
        EVALUATE_PAGE, label="Evaluate: accuracy, confusions and mistakes, ANN against CNN", icon="📊"
    )
    st.page_link(
        TRAIN_PAGE, label="Train: train an ANN or a CNN here, watch it learn, keep the best runs", icon="🏋️"
    )
    st.page_link(
        HANDWRITING_PAGE,
        label="My handwriting: your saved drawings, to measure every model on them and fine-tune one",
        icon="📝",
    )
    entries = list_models()
    if not entries:
        st.warning(f"No models found in `{models_dir()}`. Train one with `{TRAIN_COMMAND}`.")
        return
    st.header("Available models")
    default = default_model()
    for column, entry in zip(st.columns(min(len(entries), 3)), entries[:3]):
        with column:
            model_card_ui(entry, default)
    for entry in entries[3:]:
        model_card_ui(entry, default)


home()
