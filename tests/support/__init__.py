"""Code the tests (and the benchmarks in ``bench/``) share: test drawings, small data sets, the awkward
upload corpus, AppTest helpers, a real Streamlit server and browser helpers. None of it is a test."""
