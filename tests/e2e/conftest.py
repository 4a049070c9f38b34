"""Browser tests: one real Streamlit server for the session, driven by headless Chromium.

The server runs ``streamlit run Home.py`` from the project root on a free loopback port with the
registry in ``models/`` (``DIGIT_MODELS_DIR`` is removed from its environment: the tests assert
what the shipped CNN reads). Chromium is Debian's ``/usr/bin/chromium``; Playwright never
downloads a browser here. Without it, or without Playwright, the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
STARTUP_TIMEOUT_S = 60.0
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Every test in this folder drives the browser: mark it so ``-m "not e2e"`` leaves them out.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium, or a skip that says why not."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); "
                    "Playwright's own browser download is not used")
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def server_url(chromium_path):
    """Base URL of a ``streamlit run Home.py`` started for this session, stopped at the end."""
    if not (ROOT / "models" / "cnn.keras").exists():
        pytest.fail(f"the shipped model {ROOT / 'models' / 'cnn.keras'} is missing: the browser tests "
                    "assert what it reads")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("DIGIT_MODELS_DIR", None)  # the shipped models in models/
    command = [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

        def output() -> str:
            log.seek(0)
            return log.read()[-5000:]

        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not _healthy(url):
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited with {process.returncode} before answering:\n{output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer {url}/_stcore/health within "
                                f"{STARTUP_TIMEOUT_S:.0f} s:\n{output()}")
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page (so a fresh Streamlit session) for each test."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()
