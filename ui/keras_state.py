"""The one change the app makes to Streamlit's own behaviour, kept here so it is easy to find and
to remove.

After every script run of every session, Streamlit's script runner calls
``keras.backend.clear_session()`` (in ``script_runner._clean_problem_modules``, a private function).
That resets *all* of Keras' global state for every thread at once: layer-name counters, the global
seed, the call context that carries ``training=`` into nested layers, name scopes. A training running
in the background (:mod:`digit_core.jobs`) failed at random with "the name 'activation' is used 2
times" when another session's run ended while it built its model, and could be hit in subtler ways
mid-step. The app needs no such clearing: its models are cached on purpose, and it uses no
matplotlib (the other module that function cleans).

Streamlit offers no public switch for this, and naming every layer explicitly fixes only the name
clash, not the seed or the call context, so the private function is replaced here, in one place.
Moving trainings into worker processes (planned) removes the need; then delete this module and its
call in ``Home.py``.
"""

from __future__ import annotations


def keep_keras_state_between_runs() -> bool:
    """Stop Streamlit from clearing Keras' global state after every script run of every session.

    Returns whether the patch was applied (False when this Streamlit has no such function, in which
    case there is nothing to turn off). Idempotent.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _keep_everything
    return True


def _keep_everything() -> None:
    """Stands in for Streamlit's clean-up: clears nothing."""
