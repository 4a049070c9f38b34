"""The set-up ``Home.py`` does once for every session, done for tests that run one page script with
``AppTest`` (which skips the entry point). Without it, Streamlit would clear Keras' global state
after each of those runs, under the feet of a training running in the background."""

from streamlit.runtime.scriptrunner import script_runner

from ui.keras_state import keep_keras_state_between_runs

# Streamlit's own clean-up, kept before anything replaces it: for the tests of that replacement.
STREAMLIT_CLEAN_UP = script_runner._clean_problem_modules


def set_up_like_the_entry_point() -> None:
    keep_keras_state_between_runs()
