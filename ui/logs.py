"""Where ``digit_core``'s log goes in the app: the server's stderr, beside Streamlit's own lines.

The library only logs (it adds no handler but a ``NullHandler``); this is the app deciding what to
do with it, once per server process however often ``Home.py`` runs. Also what uvicorn logs when a
browser leaves early: one line, not a traceback.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as Streamlit's lines read
_HANDLER_NAME = "digit-lab-stderr"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes, not to the one at set-up."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def send_library_logs_to_stderr(level: int = logging.INFO) -> logging.Handler:
    """Log ``digit_core``'s records at ``level`` and above to stderr; returns the handler (the same
    one on every call)."""
    logger = logging.getLogger("digit_core")
    for handler in logger.handlers:
        if handler.get_name() == _HANDLER_NAME:
            return handler
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    formatter = logging.Formatter(FORMAT)
    formatter.default_msec_format = "%s.%03d"  # 23:06:47.377, as Streamlit writes it
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


class _BrowserLeftFilter(logging.Filter):
    """Turns uvicorn's traceback for a browser that left while its websocket opened into one line.

    Streamlit 1.67 answers that disconnect by closing the socket a second time, which raises again;
    uvicorn then logs "Exception in ASGI application" with a full traceback. Nothing failed on the
    server: the next browser is served as usual, so the log says so in one line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and _is_browser_disconnect(error):
            record.msg, record.args = "A browser left while its connection was opening (%s)", (error,)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def _is_browser_disconnect(error: BaseException) -> bool:
    from starlette.websockets import WebSocketDisconnected

    seen: BaseException | None = error
    while seen is not None:  # the disconnect, or an exception raised while handling it
        if isinstance(seen, WebSocketDisconnected):
            return True
        seen = seen.__context__
    return False


def quiet_browser_disconnects() -> logging.Filter:
    """Install, once per process, the filter above on uvicorn's error log; returns it."""
    logger = logging.getLogger("uvicorn.error")
    for existing in logger.filters:
        if isinstance(existing, _BrowserLeftFilter):
            return existing
    added = _BrowserLeftFilter()
    logger.addFilter(added)
    return added
