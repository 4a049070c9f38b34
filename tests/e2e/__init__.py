"""Browser tests (real Streamlit server, headless Chromium); a package so that module names do not clash
with the AppTest tests one folder up (tests/test_draw_page.py)."""
