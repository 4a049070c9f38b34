"""Browser tests: one real Streamlit server for the session, driven by headless Chromium.

The server runs ``streamlit run Home.py`` from the project root on a free loopback port with a
registry holding copies of the shipped models (the tests assert what the shipped CNN reads, and the
runs they save never land in the project's ``models/``). Its Ray has 2 CPUs, 1 per training
(``tests/conftest.py``). Chromium is Debian's ``/usr/bin/chromium``; Playwright never downloads a
browser here. Without it, or without Playwright, the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from digit_core.handwriting import DB_ENV
from tests.support.browser import new_context
from tests.support.server import CHROMIUM_ARGS, ROOT, SERVERS, ServerError, streamlit_server

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 1000}
STARTUP_TIMEOUT_S = 60.0
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Every test in this folder drives the browser: mark it so ``-m "not e2e"`` leaves them out.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium, or a skip that says why not."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); "
            "Playwright's own browser download is not used"
        )
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def handwriting_db(tmp_path_factory) -> Path:
    """The handwriting database the browser tests' server writes to (never the project's)."""
    return tmp_path_factory.mktemp("handwriting") / "handwriting.sqlite"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """The browser tests' registry: copies of the shipped models."""
    folder = tmp_path_factory.mktemp("models")
    for name in ("cnn", "ann"):
        for suffix in (".keras", ".json"):
            source = ROOT / "models" / f"{name}{suffix}"
            if not source.exists():
                pytest.fail(
                    f"the shipped model file {source} is missing: the browser tests assert what it reads"
                )
            shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture(scope="session")
def server_url(chromium_path, handwriting_db, models_dir):
    """Base URL of a ``streamlit run Home.py`` started for this session, stopped at the end."""
    os.environ[DB_ENV] = str(handwriting_db)  # the server inherits it
    try:
        with streamlit_server(STARTUP_TIMEOUT_S, models_dir) as url:
            yield url
    except ServerError as exc:
        pytest.fail(str(exc))


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
    context = new_context(browser, viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def no_traceback_in_the_server_log(request):
    """Every browser test fails when the server logged a traceback while it ran: an exception the
    page caught and showed politely, or one in a background thread, is still a bug."""
    if "server_url" not in request.fixturenames:
        yield
        return
    server = SERVERS[request.getfixturevalue("server_url")]
    start = server.log_size()
    yield
    logged = server.output(start)
    found = TRACEBACK.search(logged)
    if found:
        pytest.fail(f"the server logged a traceback during this test:\n{logged[found.start() :][:4000]}")
