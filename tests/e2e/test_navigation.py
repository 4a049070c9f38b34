"""The app's navigation in a real browser: every URL of the old multipage layout still opens its page,
and the sidebar lists every page with its Material icon drawn (not its name as text); a fresh
server opens a page URL first, and stays idle with a page open."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from digit_core.handwriting import DB_ENV
from tests.support.browser import EXCEPTION, FIRST_LOAD_MS, expect, new_context, wait_idle
from tests.support.server import running_server
from ui.navigation import APP_NAME, HANDWRITING, HOME, PAGES, tab_title

pytestmark = pytest.mark.e2e

ICON_MAX_PX = 32  # a drawn icon is about 20 px wide; its name as text ("model_training") is ~100 px


@pytest.mark.parametrize("spec", PAGES, ids=[spec.url_path or "home" for spec in PAGES])
def test_every_old_url_opens_its_page_with_the_navigation_beside_it(page, server_url, spec):
    page.goto(f"{server_url}/{spec.url_path}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(APP_NAME if spec is HOME else spec.title, timeout=FIRST_LOAD_MS)
    wait_idle(page)
    expect(page).to_have_title(tab_title(spec.title))
    assert page.url == f"{server_url}/{spec.url_path}"  # not redirected elsewhere

    nav = page.get_by_test_id("stSidebarNav")
    links = nav.get_by_role("link")
    expect(links).to_have_count(len(PAGES))
    for i, listed in enumerate(PAGES):
        expect(links.nth(i)).to_have_accessible_name(listed.title)
        expect(links.nth(i)).to_have_attribute("href", f"{server_url}/{listed.url_path}")
    expect(nav.locator('[aria-current="page"]')).to_have_accessible_name(spec.title)
    icons = nav.get_by_test_id("stIconMaterial")
    expect(icons).to_have_count(len(PAGES))
    for i in range(len(PAGES)):
        box = icons.nth(i).bounding_box()
        assert box is not None and 0 < box["width"] <= ICON_MAX_PX, (icons.nth(i).inner_text(), box)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_the_sidebar_takes_the_user_from_page_to_page(page, server_url):
    page.goto(server_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(APP_NAME, timeout=FIRST_LOAD_MS)
    for spec in [*PAGES[1:], HOME]:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=spec.title, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            APP_NAME if spec is HOME else spec.title, timeout=FIRST_LOAD_MS
        )
        expect(page).to_have_url(f"{server_url}/{spec.url_path}")
    expect(page.locator(EXCEPTION)).to_have_count(0)


@contextmanager
def fresh_server_page(browser, handwriting_db, path: str):
    """A server of its own, started now, and a browser page opening ``path`` as its first visit:
    ``(server, page)``."""
    with running_server(60, env={DB_ENV: str(handwriting_db)}) as server:
        context = new_context(browser, viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{server.url}/{path}")
            yield server, page
        finally:
            context.close()


def test_a_page_url_opened_first_on_a_fresh_server_opens_without_a_page_not_found(browser, handwriting_db):
    # The first script run of a server is where Streamlit decides whether the app is a legacy
    # multipage one (a pages/ folder): then it looked the URL up among that folder's files first.
    with fresh_server_page(browser, handwriting_db, HANDWRITING.url_path) as (_server, page):
        expect(page.get_by_role("heading", level=1)).to_contain_text(HANDWRITING.title, timeout=FIRST_LOAD_MS)
        wait_idle(page)
        expect(page.get_by_test_id("stDialog")).to_have_count(0)  # must not: "Page not found"
        expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_server_with_a_page_open_and_nothing_to_do_stays_idle(browser, handwriting_db):
    # Served as `make run` serves it (the project's .streamlit/config.toml, a .venv in the folder):
    # Streamlit's default file watcher walked the whole folder, overflowed the inotify queue with
    # its own walk and walked again, keeping a whole core busy for as long as the server ran.
    with fresh_server_page(browser, handwriting_db, HOME.url_path) as (server, page):
        expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=FIRST_LOAD_MS)
        wait_idle(page)
        page.wait_for_timeout(3_000)  # the page's own follow-up requests
        before = server.cpu_seconds()
        page.wait_for_timeout(10_000)
        used = server.cpu_seconds() - before
        # Idle: 0.07 CPU s in 10 s; with the watcher on, 10.1 (one core throughout).
        assert used < 2.0, f"the idle server used {used:.1f} CPU s in 10 s"
