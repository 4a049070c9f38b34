"""The app's layout: one entry point that declares the pages with ``st.navigation``, plain ASCII page
scripts in ``app_pages/`` (no ``pages/`` folder), the old URLs kept, set-up done once, and
Streamlit's private API touched nowhere (trainings run in worker processes, so Streamlit's clean-up
of Keras' state after each script run has nothing of theirs to break)."""

import ast
import logging
import re
import sys

from streamlit.testing.v1 import AppTest

from tests.support.helpers import ENTRY, ROOT
from ui import logs, navigation
from ui.navigation import DRAW, EVALUATE, HANDWRITING, HOME, PAGES, TRAIN, app_pages, tab_title

# The URLs Streamlit's legacy multipage mode derived from the old file names
# (pages/1_✏️_Draw_and_Predict.py -> /Draw_and_Predict): bookmarks and shared links use them.
LEGACY_URLS = {DRAW: "Draw_and_Predict", EVALUATE: "Evaluate", TRAIN: "Train", HANDWRITING: "My_handwriting"}


def calls(path, name: str) -> list[int]:
    """Lines of ``path`` that call something named ``name`` (``st.name(...)`` or ``name(...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) == name or getattr(node.func, "id", None) == name)
    ]


def python_files() -> list:
    return [ROOT / "Home.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def test_app_pages_holds_exactly_the_declared_page_scripts_with_ascii_names():
    found = sorted(p.name for p in (ROOT / "app_pages").iterdir() if p.name != "__pycache__")
    assert found == sorted(spec.path.removeprefix("app_pages/") for spec in PAGES)
    assert all(re.fullmatch(r"[a-z_]+\.py", name) for name in found), found


def test_there_is_no_pages_folder_for_streamlit_to_mistake_for_a_legacy_app():
    # With one, a fresh server's first run resolves the URL against its file names first, and a
    # direct visit to /Draw_and_Predict shows "Page not found" over the right page.
    assert not (ROOT / "pages").exists()


def test_every_old_url_is_kept_and_each_page_has_a_material_icon():
    assert {spec: spec.url_path for spec in PAGES if spec is not HOME} == LEGACY_URLS
    assert HOME.url_path == ""  # the home page is "/"
    for spec in PAGES:
        assert re.fullmatch(r":material/[a-z_]+:", spec.icon), spec.icon
        assert spec.title.isascii() and spec.heading == f"{spec.icon} {spec.title}"


def test_the_navigation_declares_each_page_with_its_title_icon_and_url(monkeypatch):
    # st.Page needs a running script; what matters here is what it is given.
    monkeypatch.setattr(navigation.st, "Page", lambda page, **options: (page, options))
    assert app_pages() == [
        (
            spec.path,
            dict(title=spec.title, icon=spec.icon, url_path=spec.url_path or None, default=spec is HOME),
        )
        for spec in PAGES
    ]
    assert all((ROOT / spec.path).is_file() for spec in PAGES)


def test_the_entry_point_alone_sets_up_the_app_and_calls_st_navigation():
    entry = ROOT / "Home.py"
    assert len(calls(entry, "navigation")) == 1 and len(calls(entry, "set_page_config")) == 1
    assert len(calls(entry, "account_ui")) == 1  # who is signed in, or the sign-in page, once
    assert len(calls(entry, "send_library_logs_to_stderr")) == 1
    assert len(calls(entry, "quiet_browser_disconnects")) == 1
    for path in python_files():
        if path != entry:  # must not: configure the page again, or declare pages, elsewhere
            assert calls(path, "set_page_config") == [] and calls(path, "navigation") == [], path


def test_streamlits_private_api_is_touched_nowhere():
    touching = [
        path.relative_to(ROOT).as_posix()
        for path in python_files()
        if re.search(r"\bscript_runner\b|\._[a-z]\w*\s*=", path.read_text(encoding="utf-8"))
    ]
    assert touching == []
    assert not (ROOT / "ui" / "keras_state.py").exists()


def test_the_entry_point_opens_home_and_switches_to_a_page():
    at = AppTest.from_file(ENTRY, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Digit Lab"

    at.switch_page(HANDWRITING.path).run()
    assert not at.exception
    assert [t.value for t in at.title] == [HANDWRITING.heading]  # that page, not the home page's title


def test_the_app_sends_the_librarys_log_to_stderr_once(monkeypatch, capsys):
    library = logging.getLogger("digit_core")
    monkeypatch.setattr(library, "handlers", list(library.handlers))  # restored after the test
    monkeypatch.setattr(library, "level", library.level)
    first, again = logs.send_library_logs_to_stderr(), logs.send_library_logs_to_stderr()
    assert first is again and library.handlers.count(first) == 1
    logging.getLogger("digit_core.jobs").info("job abc finished")
    assert " INFO digit_core.jobs: job abc finished" in capsys.readouterr().err


def _uvicorn_error(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        return logging.getLogger("uvicorn.error").makeRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application\n", (), sys.exc_info()
        )


def test_a_browser_leaving_while_its_socket_opens_is_one_log_line_and_other_errors_keep_theirs(monkeypatch):
    from starlette.websockets import WebSocketDisconnected

    uvicorn = logging.getLogger("uvicorn.error")
    monkeypatch.setattr(uvicorn, "filters", list(uvicorn.filters))
    quiet = logs.quiet_browser_disconnects()
    assert logs.quiet_browser_disconnects() is quiet and uvicorn.filters.count(quiet) == 1

    try:  # as Streamlit 1.67 does it: the disconnect, then a second close while handling it
        raise WebSocketDisconnected('WebSocket is not connected. Need to call "accept" first.')
    except WebSocketDisconnected:
        left = _uvicorn_error(WebSocketDisconnected('Cannot call "send" once a close message has been sent.'))
    assert quiet.filter(left) and left.exc_info is None and left.levelno == logging.INFO
    assert "browser left" in left.getMessage() and "Traceback" not in logging.Formatter().format(left)

    broken = _uvicorn_error(ValueError("a real bug"))
    assert quiet.filter(broken) and broken.levelno == logging.ERROR
    assert "Traceback (most recent call last)" in logging.Formatter().format(broken)


def test_each_page_has_its_own_browser_tab_title():
    assert [tab_title(spec.title) for spec in PAGES] == [
        "Digit Lab",
        "Draw & Predict · Digit Lab",
        "Evaluate · Digit Lab",
        "Train · Digit Lab",
        "My handwriting · Digit Lab",
    ]
