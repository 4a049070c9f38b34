"""Entry point: ``streamlit run Home.py``. Declares the pages and sets up, once, what every page
shares; the pages themselves are in ``pages/`` (see :mod:`ui.navigation`). Imports no TensorFlow."""

import streamlit as st

from ui.keras_state import keep_keras_state_between_runs
from ui.logs import send_library_logs_to_stderr
from ui.navigation import app_pages

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
keep_keras_state_between_runs()
send_library_logs_to_stderr()
st.navigation(app_pages()).run()
