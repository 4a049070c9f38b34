"""Where ``digit_core``'s log goes in the app: the server's stderr, beside Streamlit's own lines.

The library only logs (it adds no handler but a ``NullHandler``); this is the app deciding what to
do with it, once per server process however often ``Home.py`` runs.
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
