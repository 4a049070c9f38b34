"""The Streamlit side of the app, shared by the pages.

- :mod:`ui.charts`: altair charts (no Streamlit);
- :mod:`ui.text`: user-given text shown as it is in Markdown (no Streamlit);
- :mod:`ui.resources`: models, test sets and training data through Streamlit's caches, and the
  messages shown when one is missing;
- :mod:`ui.widgets`: the drawing canvas;
- :mod:`ui.identity`: who uses the app (sign-in) and so whose data a page shows;
- :mod:`ui.logs`: ``digit_core``'s log to the server's stderr, set up once by ``Home.py``.

Pages live in ``app_pages/`` and are declared in ``Home.py`` with ``st.navigation``.
"""
