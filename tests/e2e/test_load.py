"""Under load, and when users vanish: the server keeps answering everyone.

The short form of ``bench/load_test.py`` (a few users drawing for a few seconds while two others
train, each training in a worker process of the server's real local Ray; then a few trainings one
after another with the server's memory read after each), a browser that closes in the middle of a
request, and a user whose connection drops for a while. Each uses the session's server
(``server_url``) and checks its log for tracebacks.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.support import strokes
from tests.support.browser import (
    ANSWER_MS,
    PROMPT,
    RESET,
    SINGLE,
    STYLE,
    assert_no_exception,
    draw,
    expect,
    new_context,
    open_draw_page,
    settled_metric,
    wait_idle,
)
from tests.support.load import Settings, run_consecutive, run_load, summary
from tests.support.server import SERVERS, healthy

pytestmark = pytest.mark.e2e


VIEWPORT = {"width": 1400, "height": 1000}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
# Set when a script run starts after the page was armed: the server is then mid-request.
RUN_WATCH_JS = """() => { window.__runStarted = false;
  new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.getAttribute('data-test-script-state') === 'running') window.__runStarted = true;
  }).observe(document.body, {subtree: true, attributes: true}); }"""
# Keeps the page's websockets reachable, so a test can drop the connection as a network would.
TRACK_SOCKETS_JS = """(() => { const Native = window.WebSocket; window.__sockets = [];
  window.WebSocket = function (...args) {
    const socket = new Native(...args); window.__sockets.push(socket); return socket; };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3}); })();"""
STATUS = '[data-testid="stStatusWidget"]'


@pytest.fixture
def server_log(server_url):
    """The server's output from now on, as a function to call at the end of the test."""
    server = SERVERS[server_url]
    start = server.log_size()
    return lambda: server.output(start)


def new_page(browser, **options):
    context = new_context(browser, viewport=VIEWPORT, **options)
    return context, context.new_page()


def clear(page) -> None:
    page.locator(f".st-key-draw_canvas {RESET}").click()
    expect(page.locator(SINGLE)).to_contain_text(PROMPT, timeout=ANSWER_MS)
    wait_idle(page)


def draws_and_reads(page, digit: int) -> None:
    """Draw ``digit`` on a clear canvas, see it read, clear the canvas again."""
    draw(page, "draw_canvas", strokes.place(digit, STYLE))
    settled_metric(page, SINGLE, "Prediction", str(digit))
    assert_no_exception(page)
    clear(page)


def png(digit: int) -> bytes:
    out = io.BytesIO()
    image = strokes.draw_digit(digit, STYLE, ink=(0, 0, 0, 255), paper=(255, 255, 255, 255))
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


MIB = 1024  # KiB


def test_concurrent_users_get_right_answers_while_two_others_train(server_url, page, server_log):
    # Two users draw and predict for 10 s while two others train an ANN each (the lighter training,
    # to keep CI short; bench/load_test.py trains two CNNs with eight users drawing for a minute).
    settings = Settings(drawers=2, trainers=2, seconds=10, arch="ann", images="5k", epochs=50)
    report = run_load(server_url, settings)
    print(summary(report))
    tally = report["tally"]
    assert tally.errors == []
    assert tally.exceptions == []
    assert tally.wrong == []
    assert sorted(tally.per_session) == ["drawer 1", "drawer 2"]
    assert all(count >= 1 for count in tally.per_session.values()), tally.per_session
    assert len(tally.latencies) == tally.predictions >= 2
    # Both trainings ran at once under the load (the tests' Ray has 2 CPUs, one per training) and
    # were stopped and discarded by their sessions ...
    assert sorted(tally.training) == ["trainer 1", "trainer 2"]
    for seen in tally.training.values():
        assert re.match(r"Epoch \d+ of 50 · batch \d+ of 18", seen["started"])  # 4,500 / 256
        assert re.match(r"(Stopped after \d+|Stopped during the first) of 50 epochs", seen["result"])
    # ... so neither is still running for the next user of this server: the settings are back.
    page.goto(f"{server_url}/Train")
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile("Your ANN is (queued|training)"))).to_have_count(0)
    assert not TRACEBACK.search(server_log())


def test_the_servers_memory_stays_flat_over_consecutive_trainings(server_url, server_log):
    # Trainings run in Ray's worker processes, so the server keeps none of TensorFlow's memory.
    # The first training brings in what the server needs once (Ray's client, the data in Ray's
    # store); from then on each more one must add nothing that stays (bench/load_test.py: 10).
    settings = Settings(drawers=0, trainers=1, arch="ann", images="1k", epochs=1)
    report = run_consecutive(server_url, settings, 4)
    assert report["tally"].errors == []
    assert len(report["results"]) == 4 and all(r.startswith("Finished 1 epoch in") for r in report["results"])
    rss = report["rss_kib"]
    print("server RSS after each training (MiB):", [round(kib / MIB) for kib in rss])
    assert max(rss[1:]) - rss[1] < 50 * MIB, rss
    assert not TRACEBACK.search(server_log())


def test_a_browser_closed_mid_request_leaves_the_server_serving_others(browser, server_url, server_log):
    # A stroke's script run: the browser goes away while the server predicts and explains.
    context, page = new_page(browser)
    try:
        open_draw_page(page, server_url)
        page.evaluate(RUN_WATCH_JS)
        draw(page, "draw_canvas", strokes.place(7, STYLE))
        page.wait_for_function("() => window.__runStarted", timeout=ANSWER_MS, polling=5)
    finally:
        context.close()

    # An upload of twenty images: the browser goes away while the files are on their way.
    files = [{"name": f"{i}.png", "mimeType": "image/png", "buffer": png(i % 10)} for i in range(20)]
    context, page = new_page(browser)
    try:
        open_draw_page(page, server_url)
        page.get_by_role("tab", name="Upload").click()
        with page.expect_request(lambda request: "/_stcore/upload_file" in request.url):
            page.locator('.st-key-draw_uploads input[type="file"]').set_input_files(files)
    finally:
        context.close()

    # Another user is served as before, and the server logged no traceback.
    context, page = new_page(browser)
    try:
        open_draw_page(page, server_url)
        for digit in (1, 3):
            draws_and_reads(page, digit)
        page.get_by_role("tab", name="Upload").click()
        page.locator('.st-key-draw_uploads input[type="file"]').set_input_files(files[:2])
        expect(page.get_by_text("1.png: 1", exact=True)).to_be_visible(timeout=ANSWER_MS)
        assert_no_exception(page)
    finally:
        context.close()
    assert healthy(server_url)
    assert not TRACEBACK.search(server_log())


def test_a_user_whose_connection_drops_is_served_again_and_others_meanwhile(browser, server_url, server_log):
    context, page = new_page(browser)
    context.add_init_script(TRACK_SOCKETS_JS)
    other_context, other = new_page(browser)
    try:
        open_draw_page(page, server_url)
        draws_and_reads(page, 7)
        open_draw_page(other, server_url)
        connecting = page.locator(STATUS).filter(has_text=re.compile("connecting", re.I))

        # The connection drops (the socket closes) and stays down: the network is gone. The server
        # keeps the session for a while (Streamlit's disconnectedSessionTTL); the page retries.
        context.set_offline(True)
        page.evaluate("() => window.__sockets.forEach(s => s.close())")
        expect(connecting).to_have_count(1, timeout=10_000)
        # Meanwhile another user is served.
        draws_and_reads(other, 3)
        expect(connecting).to_have_count(1)

        # Back online: the page reconnects by itself and the user carries on.
        context.set_offline(False)
        expect(connecting).to_have_count(0, timeout=60_000)
        open_sockets = page.evaluate("() => window.__sockets.filter(s => s.readyState === 1).length")
        assert open_sockets == 1
        draws_and_reads(page, 1)
        # And when the page is loaded again, which starts a new session.
        open_draw_page(page, server_url)
        draws_and_reads(page, 3)
    finally:
        context.close()
        other_context.close()
    assert healthy(server_url)
    assert not TRACEBACK.search(server_log())
