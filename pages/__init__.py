"""The Streamlit side shared by the pages: cached models, the canvas and the charts.

It lives in the package's ``__init__`` because Streamlit shows every other ``pages/*.py`` file as a
page. No model maths here: that is ``digit_core``'s.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from digit_core import registry

TRAIN_COMMAND = "python -m digit_core train --arch cnn --name cnn"


@st.cache_resource(max_entries=8, show_spinner="Loading model…")
def _cached_model(name: str, stamp: tuple[int, int]):
    # ``stamp`` (modification time, size) is part of the key, so a re-saved file is picked up.
    return registry.load_model(name)


def usable_model_names() -> list[str]:
    """Registry models that look whole, shipped defaults first."""
    return [entry.name for entry in registry.list_models() if entry.ok]


def load_model_ui(name: str):
    """The model ``name``, loaded once per process; on failure an error and ``st.stop()``."""
    try:
        stat = registry.model_path(name).stat()
        return _cached_model(name, (stat.st_mtime_ns, stat.st_size))
    except (OSError, registry.ModelError, ValueError) as exc:
        st.error(f"Model **{name}** cannot be used: {exc}\n\nTrain one with `{TRAIN_COMMAND}`.")
        st.stop()


def canvas_image_ui(key: str, width: int, height: int, pen: int):
    """A white-on-black drawing canvas; returns its ``(H, W, 4) uint8`` RGBA image or None.

    Sends the drawing after every stroke, so predictions update live.
    """
    # Imported here: the component registers itself with the running Streamlit server.
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=pen, stroke_color="#FFFFFF", background_color="#000000",
                       height=height, width=width, drawing_mode="freedraw", return_image_data=True,
                       update_streamlit=True, key=key)
    return result.image_data


def probability_chart(probabilities, highlight: int, height: int = 220) -> alt.Chart:
    """Bar chart of the ten probabilities, the predicted digit highlighted, with tooltips."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)],
                          "probability": [float(p) for p in probabilities]})
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
