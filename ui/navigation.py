"""The app's pages: file, title, Material icon and URL, in one table that ``Home.py`` declares with
``st.navigation`` and the home page links from.

The URL paths are the ones Streamlit derived from the old file names in its legacy multipage mode
(``pages/1_✏️_Draw_and_Predict.py`` was served at ``/Draw_and_Predict``), so bookmarks and shared
links keep working.

The page scripts live in ``app_pages/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside
the entry script as a legacy multipage app, and the first script run of a fresh server then resolves
the URL against that folder's file names before ``Home.py`` declares the real pages: a direct visit
to ``/Draw_and_Predict`` showed a "Page not found" dialog over the right page.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

APP_NAME = "Digit Lab"
APP_ICON = ":material/draw:"  # the browser tab's icon


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page script, relative to the project root (where Home.py is)
    title: str  # in the sidebar, the browser tab and (but for Home) the page's heading
    icon: str  # a Material Symbols icon, which needs no emoji font
    url_path: str  # "" for the home page at "/"
    summary: str  # what the page offers, a sentence for the home page's links

    @property
    def heading(self) -> str:
        """The page's title with its icon, as Streamlit's Markdown shows it."""
        return f"{self.icon} {self.title}"


HOME = PageSpec(
    "app_pages/home.py",
    "Home",
    ":material/home:",
    "",
    "What the app is, and the models it has.",
)
DRAW = PageSpec(
    "app_pages/draw.py",
    "Draw & Predict",
    ":material/draw:",
    "Draw_and_Predict",
    "Draw a digit and watch the answer change.",
)
EVALUATE = PageSpec(
    "app_pages/evaluate.py",
    "Evaluate",
    ":material/analytics:",
    "Evaluate",
    "Accuracy, confusions and mistakes, ANN against CNN.",
)
TRAIN = PageSpec(
    "app_pages/train.py",
    "Train",
    ":material/model_training:",
    "Train",
    "Train an ANN or a CNN here, watch it learn, keep the best runs.",
)
HANDWRITING = PageSpec(
    "app_pages/handwriting.py",
    "My handwriting",
    ":material/gesture:",
    "My_handwriting",
    "Your saved drawings, to measure every model on them and fine-tune one.",
)
PAGES = (HOME, DRAW, EVALUATE, TRAIN, HANDWRITING)


def tab_title(page_title: str) -> str:
    """The browser tab's title for a page: ``"Evaluate · Digit Lab"``, the home page's ``"Digit Lab"``."""
    return APP_NAME if page_title == HOME.title else f"{page_title} · {APP_NAME}"


def app_pages() -> list[st.Page]:
    """The pages for ``st.navigation``, the home page first and default."""
    return [
        st.Page(
            spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path or None, default=spec is HOME
        )
        for spec in PAGES
    ]
