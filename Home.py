"""Entry point: ``streamlit run Home.py``. Declares the pages and sets up, once, what every page
shares; the pages themselves are in ``app_pages/`` (see :mod:`ui.navigation`). Imports no TensorFlow."""

import streamlit as st

from ui.keras_state import keep_keras_state_between_runs
from ui.logs import send_library_logs_to_stderr
from ui.navigation import APP_ICON, app_pages, tab_title

keep_keras_state_between_runs()
send_library_logs_to_stderr()
page = st.navigation(app_pages())
st.set_page_config(page_title=tab_title(page.title), page_icon=APP_ICON, layout="wide")
page.run()
