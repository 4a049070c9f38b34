"""Browser tests: a real Streamlit server driven by headless Chromium (see ``conftest.py``)."""
