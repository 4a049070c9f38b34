"""Entry point: ``streamlit run Home.py``. Declares the pages and sets up, once, what every page
shares; the pages themselves are in ``app_pages/`` (see :mod:`ui.navigation`). Imports no TensorFlow."""

import streamlit as st

from ui.identity import account_ui, needs_sign_in
from ui.logs import quiet_browser_disconnects, send_library_logs_to_stderr
from ui.navigation import APP_ICON, app_pages, tab_title

send_library_logs_to_stderr()
quiet_browser_disconnects()
# Someone who must sign in first sees no pages, only the sign-in page that account_ui() shows.
page = st.navigation(app_pages(), position="hidden" if needs_sign_in() else "sidebar")
st.set_page_config(page_title=tab_title(page.title), page_icon=APP_ICON, layout="wide")
account_ui()
page.run()
