"""The screen the page is shown on: its content width, reported by a tiny component, and the
drawing canvases' toolbars kept in view on every device.

streamlit-drawable-canvas shows its undo, redo and clear buttons only while the mouse is over the
canvas (a phone has no hover, so they never appear) and puts them over whatever is above it. The
script below pins them, in the canvases' own (shadow) styles, and the CSS leaves room above each
canvas so that they cover nothing. The width lets a page size a canvas to fit a phone's screen.
"""

from __future__ import annotations

import streamlit as st

DESKTOP_WIDTH = 700  # assumed until the browser has said how wide the page is
_CSS = """
.st-key-draw_canvas, .st-key-draw_number_canvas { padding-top: 2.9rem; }
@media (pointer: coarse) {
    .st-key-draw_canvas, .st-key-draw_number_canvas { padding-top: 4rem; }
}
"""
_JS = """
export default function (component) {
    const { setStateValue, parentElement } = component;
    // Always shown; on touch screens larger buttons, a finger's width apart.
    const PIN = `.dc-toolbar { opacity: 1 !important; top: -2.65rem !important; }
        @media (pointer: coarse) {
            .dc-toolbar { top: -3.7rem !important; }
            .dc-icon-button { padding: 0.6rem !important; }
            .dc-icon-button svg { width: 1.1rem !important; height: 1.1rem !important; }
        }`;
    // Every shadow root inside a drawing canvas's container gets the style, whether or not the
    // canvas has drawn its toolbar yet (what happens inside a shadow root is not observed below,
    // so the check is also repeated every half second, which costs next to nothing).
    const pin = () => {
        document.querySelectorAll('.st-key-draw_canvas *, .st-key-draw_number_canvas *').forEach((el) => {
            const root = el.shadowRoot;
            if (root && !root.querySelector('style[data-pin]')) {
                const style = document.createElement('style');
                style.dataset.pin = '1';
                style.textContent = PIN;
                root.appendChild(style);
            }
        });
    };
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    let sent = null;
    const report = () => {
        const box = main || parentElement;
        const style = getComputedStyle(box);
        const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
        const width = Math.round(box.clientWidth - padding);
        if (sent === null || Math.abs(width - sent) >= 16) {
            sent = width;
            setStateValue('width', width);
        }
    };
    report();
    pin();
    const observer = new MutationObserver(pin);
    observer.observe(document.body, { childList: true, subtree: true });
    const timer = setInterval(pin, 500);
    window.addEventListener('resize', report);
    return () => {
        observer.disconnect();
        clearInterval(timer);
        window.removeEventListener('resize', report);
    };
}
"""

_screen = st.components.v2.component("digit_app.screen", css=_CSS, js=_JS, isolate_styles=False)


def screen_width_ui() -> int | None:
    """The width in px of the page's content, once the browser has reported it (None before, and
    in tests without a browser). Also pins the canvases' toolbars (see the module's notes)."""
    result = _screen(key="screen", default={"width": None}, on_width_change=lambda: None)
    width = getattr(result, "width", None)
    return int(width) if isinstance(width, (int, float)) and width > 0 else None
