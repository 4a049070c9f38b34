"""Draw & Predict's views of what a network does with one drawing: saliency maps, feature maps,
hidden activations and weight templates, and the robustness sliders. The maths is
``digit_core.inside``'s, ``digit_core.robustness``' and ``digit_core.saliency``'s."""

from __future__ import annotations

import numpy as np
import streamlit as st

from digit_core import inside
from digit_core.inference import predict
from digit_core.nondigit import article
from digit_core.robustness import Distortion, distort
from digit_core.saliency import explain
from digit_core.visual import (
    colour_bar,
    colourise,
    enlarge,
    feature_grid,
    overlay,
    saliency_bar,
    template_grid,
)

MAPS_SHOWN = 16  # feature maps per block, strongest first
UNITS_SHOWN = 16  # ANN units whose templates are shown, most active first
SALIENCY = {
    "Grad-CAM": "Grad-CAM weighs the last convolution's feature maps by how much each raises the "
    "answer: bright where the CNN looked.",
    "integrated gradients": "Integrated gradients add up, pixel by pixel, how much the ink moved the "
    "answer on the way from a blank image to this one: bright where the ink mattered.",
}


def legend_ui(bar: np.ndarray, low: str, high: str) -> None:
    """A colour bar with its two ends named."""
    st.image(bar, width=240)
    st.caption(f"{low} ◀ ▶ {high}")


def saliency_ui(name: str, model, image: np.ndarray) -> None:
    """Why model ``name`` answered as it did: its saliency map over the 28x28 input, a sentence
    on the method and a legend."""
    heat, method = explain(model, image)
    st.image(enlarge(overlay(image, heat), 6), caption=f"Why the {name.upper()} said so: {method}", width=168)
    st.caption(SALIENCY[method])
    legend_ui(saliency_bar(), "ink that did not matter", "ink that mattered most")


def feature_maps_ui(model, image: np.ndarray) -> None:
    """The CNN's feature maps, one grid per convolution block, strongest filters first."""
    blocks = inside.feature_maps(model, image)
    if not blocks:
        st.info(f"The {model.name} model has no convolution layers.")
        return
    st.markdown(
        "Each small image is one filter's **feature map**: where in the drawing that filter found "
        "its pattern (an edge, a corner, a curve). Block 1 sees small strokes; later blocks combine "
        "them into larger parts on a coarser grid. Strongest filters first."
    )
    for block in blocks:
        count = min(MAPS_SHOWN, len(block.maps))
        with st.container(key=f"draw_block_{block.block}"):
            st.caption(
                f"Convolution block {block.block} ({block.layer}): {count} of {len(block.maps)} filters, "
                f"{block.maps.shape[1]}×{block.maps.shape[2]} each, {block.active} respond at all"
            )
            st.image(feature_grid(block.maps, block.order, count, columns=8))
    legend_ui(colour_bar("response"), "no response", "strongest response in the grid")


def ann_inside_ui(model, image: np.ndarray) -> None:
    """The ANN's hidden activations and its first layer's weights as 28x28 templates."""
    layers = inside.activations(model, image)
    st.markdown(
        "Each square is one **hidden unit** of the ANN, in order: how strongly it fires for this "
        "drawing. The ANN sees the 784 pixels as one long list, so a unit knows nothing of which "
        "pixels are neighbours."
    )
    for layer in layers:
        side = int(np.ceil(np.sqrt(len(layer.values))))
        values = np.zeros(side * side, np.float32)
        values[: len(layer.values)] = layer.values
        high = float(values.max()) or 1.0
        with st.container(key=f"draw_hidden_{layer.layer}"):
            st.caption(f"Hidden layer {layer.layer} ({len(layer.values)} units)")
            st.image(enlarge(colourise(values.reshape(side, side), "response", 0.0, high), 6))
    legend_ui(colour_bar("response"), "silent", "fires most")
    try:
        weights = inside.templates(model)
    except ValueError as exc:
        st.info(str(exc))
        return
    first = layers[0].order[:UNITS_SHOWN] if layers else np.arange(UNITS_SHOWN)
    with st.container(key="draw_templates"):
        st.markdown(
            "The **templates** of the first layer's most active units: each unit multiplies every "
            "pixel by its weight and adds them up, so it fires for ink on red and is held back by "
            "ink on blue. They are fixed places on the page: move the digit and they no longer match."
        )
        st.image(template_grid(weights, first, columns=8, scale=3))
    legend_ui(colour_bar("weight"), "ink here lowers the unit", "ink here raises it")


def robustness_ui(image: np.ndarray, models: dict) -> None:
    """Sliders that move, turn, thicken or blur the 28x28 input, with every model's answer."""
    st.markdown(
        "Move, turn, thicken or blur the digit the models see and watch their answers. The ANN "
        "learned fixed places on the page, so shifting usually fools it first; the CNN's filters "
        "slide over the image."
    )
    left, right = st.columns(2)
    with left:
        dx = st.slider("Shift right (px)", -6, 6, 0, key="draw_shift_x")
        dy = st.slider("Shift down (px)", -6, 6, 0, key="draw_shift_y")
        turn = st.slider("Rotate (degrees, anticlockwise)", -45, 45, 0, step=5, key="draw_rotate")
        pen = st.slider("Pen: thinner (−) or thicker (+) (px)", -1, 3, 0, key="draw_pen_change")
        sigma = st.slider("Blur (px)", 0.0, 3.0, 0.0, step=0.5, key="draw_blur")
    moved = distort(image, Distortion(float(dx), float(dy), float(turn), int(pen), float(sigma)))
    with right:
        st.image(enlarge(moved, 6), caption="What the models see now (28×28)")
        with st.container(key="draw_robust_answers"):
            for column, (name, model) in zip(st.columns(len(models)), models.items()):
                probabilities = predict(model, moved)[0]
                digit = int(np.argmax(probabilities))
                column.metric(
                    name.upper(),
                    str(digit),
                    f"{probabilities[digit]:.0%}",
                    delta_color="off",
                    delta_arrow="off",
                )
                column.caption(f"reads {article(digit)} {digit}")
