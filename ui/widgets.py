"""Widgets of our own: the drawing canvas."""

from __future__ import annotations


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
