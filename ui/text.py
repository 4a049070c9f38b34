"""Showing user-given text in Streamlit's Markdown as it is (no Streamlit import needed)."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>:])")


def plain(text) -> str:
    """``text`` with Markdown's special characters escaped, to show user-given names as they are."""
    return _MARKDOWN.sub(r"\\\1", str(text))
