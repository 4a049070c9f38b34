"""Trainings on the server's Ray, in real browsers: several people train at once and the rest wait
their turn, a worker killed mid-training fails its job and nothing else, and the history of the
trainings outlives a restart of the server.

The session's server has a Ray of 2 CPUs and a training asks for 1 (``tests/conftest.py``), so two
run at once and a third waits in the queue. The trainings are small ANNs on 1k images.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.support.browser import new_context, wait_idle
from tests.support.server import SERVERS, ServerError, healthy, running_server
from tests.support.sockets import descendants

STARTUP_MS = 240_000  # Ray's start on first use, a worker process, TensorFlow's import: a busy 2-core box
TRAINING_MS = 300_000
VIEWPORT = {"width": 1400, "height": 1000}
WORKER_TITLE = "ray::TrainingWorker"  # how Ray names an actor's process


def new_page(browser):
    context = new_context(browser, viewport=VIEWPORT)
    return context, context.new_page()


def start_ann(page, url: str, epochs: int, name: str) -> None:
    """Open the Train page and start an ANN on 1k images (900 trained, 100 validated)."""
    set_up_ann(page, url, epochs, name)
    press_start(page)


def press_start(page) -> None:
    """Press Start and see the training taken: up to a minute while other trainings start their
    workers (a CI run once waited over 5 s for this page's rerun)."""
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile("Your ANN is (queued|training)"))).to_be_visible(timeout=60_000)


def set_up_ann(page, url: str, epochs: int, name: str) -> None:
    """Open the Train page and set it up for an ANN on 1k images (900 trained, 100 validated)."""
    page.goto(f"{url}/Train")
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=60_000)
    page.get_by_text("ANN (dense)").click()
    expect(page.get_by_role("slider", name="Hidden units per layer")).to_be_visible()
    slider = page.get_by_role("slider", name="Training images")
    # While others train, the page reruns to show their progress; a setting sent during such a
    # rerun can be dropped by it (Streamlit's behaviour), so the settings are given until they hold.
    for _attempt in range(3):
        wait_idle(page)
        for _ in range(2):  # 20k -> 5k -> 1k (at 1k, the smallest, a press changes nothing)
            slider.press("ArrowLeft")
        page.get_by_role("spinbutton", name="Epochs").fill(str(epochs))
        page.get_by_role("spinbutton", name="Epochs").press("Enter")
        page.get_by_role("textbox", name="Your name (optional)").fill(name)
        page.get_by_role("textbox", name="Your name (optional)").press("Enter")
        try:
            expect(page.get_by_text("Trains on 900 images, validates on 100")).to_be_visible()
            break
        except AssertionError:
            continue
    expect(slider).to_have_attribute("aria-valuetext", "1k")
    expect(page.get_by_text("Trains on 900 images, validates on 100")).to_be_visible()


def save_as(page, name: str) -> None:
    expect(page.locator(".st-key-train_result")).to_be_visible(timeout=TRAINING_MS)
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Name", exact=True).press("Enter")
    page.get_by_role("button", name="Save").click()
    # Writing the model and the page's rerun take their time while another training runs.
    expect(page.get_by_text(f"Saved as {name}.")).to_be_visible(timeout=60_000)


def choices(page, key: str) -> list[str]:
    """The options of the select box ``key`` (the tables are drawn on a canvas: these are text)."""
    options = page.get_by_role("option")
    for _ in range(3):  # a script run that ends meanwhile may redraw the box, closing its list
        wait_idle(page)
        page.locator(f".st-key-{key}").get_by_role("combobox").click()
        try:
            expect(options.first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    found = [" ".join(text.split()) for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    assert found, f"no options in the select box {key!r}"
    return found


def worker_pids(server_pid: int) -> list[int]:
    """The training workers among the server's processes (Ray's are its children)."""
    found = []
    for pid in descendants(server_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if command.startswith(WORKER_TITLE):
            found.append(pid)
    return found


def test_two_people_train_at_once_each_saves_their_own_and_a_third_waits_then_runs(
    browser, server_url, models_dir
):
    pages = {name: new_page(browser) for name in ("Ada", "Bob", "Cleo")}
    try:
        ada, bob, cleo = (pages[name][1] for name in ("Ada", "Bob", "Cleo"))
        # All three set up first, then started one after the other: a 1k-image ANN trains in
        # seconds, sooner than a page is set up on a busy machine. The first two get as many
        # epochs as the page allows and are stopped once the third is seen waiting.
        for page, epochs, name in ((ada, 50, "Ada"), (bob, 50, "Bob"), (cleo, 1, "Cleo")):
            set_up_ann(page, server_url, epochs, name)
        for page in (ada, bob, cleo):
            press_start(page)
        for page in (ada, bob):  # the first two train, at once ...
            expect(page.get_by_text(re.compile(r"Epoch \d+ of 50 · batch \d+ of 4"))).to_be_visible(
                timeout=STARTUP_MS
            )
        # ... holding the 2 CPUs of the server's Ray: the third is told it waits, and where.
        expect(cleo.get_by_text(re.compile(r"Queued, (1st|2nd|3rd) in line"))).to_be_visible(
            timeout=STARTUP_MS
        )
        expect(cleo.get_by_text("Your ANN is queued")).to_be_visible()
        # Each of the first two stops and saves their own run from their own session.
        for page, name in ((ada, "ada-e2e"), (bob, "bob-e2e")):
            with contextlib.suppress(PlaywrightError):  # unless it has just finished all 50
                page.locator(".st-key-train_stop").get_by_role("button", name="Stop").click(timeout=10_000)
            save_as(page, name)
        # Then the third runs, to its end.
        expect(cleo.locator(".st-key-train_result")).to_be_visible(timeout=TRAINING_MS)
        expect(cleo.get_by_text(re.compile(r"Finished 1 epoch in"))).to_be_visible()
        assert {"ada-e2e.keras", "bob-e2e.keras"} <= {p.name for p in models_dir.iterdir()}
        cleo.get_by_role("button", name="Discard").click()
        expect(cleo.get_by_role("button", name="Start training")).to_be_visible()
        assert {"ada-e2e", "bob-e2e"} <= set(choices(cleo, "train_pick"))  # the saved runs
        states = [label.rsplit(" · ", 1)[1] for label in choices(cleo, "train_history_pick")]
        # The trainings, newest first: the third finished, the first two stopped (or just done).
        assert states[0] == "finished" and set(states[1:3]) <= {"stopped", "finished"}, states
    finally:
        for context, _page in pages.values():
            context.close()
        for path in models_dir.iterdir():  # leave the shipped copies only, for the next tests
            if path.stem in ("ada-e2e", "bob-e2e"):
                path.unlink()


def test_a_worker_killed_mid_training_fails_its_job_with_the_reason_and_the_app_goes_on(
    page, browser, server_url
):
    server = SERVERS[server_url]
    before = set(worker_pids(server.pid))
    start_ann(page, server_url, 50, "Dora")
    expect(page.get_by_text(re.compile(r"Epoch \d+ of 50 · batch \d+ of 4"))).to_be_visible(
        timeout=STARTUP_MS
    )
    found = [pid for pid in worker_pids(server.pid) if pid not in before]
    assert len(found) == 1, found
    os.kill(found[0], signal.SIGKILL)
    failed = page.get_by_text("The training failed")
    expect(failed).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"The training failed: its worker process (pid {found[0]}) died")).to_be_visible()
    expect(page.get_by_text("Nothing was saved: the registry is unchanged.")).to_be_visible()
    # The server goes on: this session, and another one, are served; another training runs.
    assert healthy(server_url) and server.process.poll() is None
    page.get_by_role("button", name="Back to the settings").click()
    expect(page.locator(".st-key-train_history")).to_be_visible()
    assert choices(page, "train_history_pick")[0].endswith(" · ANN · failed")
    context, other = new_page(browser)
    try:
        start_ann(other, server_url, 1, "Eve")
        expect(other.get_by_text(re.compile(r"Finished 1 epoch in"))).to_be_visible(timeout=TRAINING_MS)
    finally:
        context.close()


def test_after_a_restart_the_server_shows_what_each_training_became(browser, tmp_path, models_dir):
    # A server of its own, with its own records, stopped while one training runs.
    state = {"DIGIT_JOBS_DIR": str(tmp_path / "jobs"), "DIGIT_HANDWRITING_DB": str(tmp_path / "hw.sqlite")}
    registry = tmp_path / "models"
    shutil.copytree(models_dir, registry)
    context, page = new_page(browser)
    try:
        with running_server(60, registry, state) as first:
            start_ann(page, first.url, 1, "Fay")
            save_as(page, "before-restart")
            start_ann(page, first.url, 50, "Fay")
            expect(page.get_by_text(re.compile(r"Epoch \d+ of 50 · batch"))).to_be_visible(timeout=STARTUP_MS)
            first.process.kill()  # as a crash or a power cut would: no time to write anything
            first.process.wait(30)
        time.sleep(1)
        with running_server(60, registry, state) as second:
            page.goto(f"{second.url}/Train")
            expect(page.locator(".st-key-train_history")).to_be_visible(timeout=60_000)
            states = [label.rsplit(" · ", 1)[1] for label in choices(page, "train_history_pick")]
            assert states == ["lost when the server stopped", "finished"], states
            assert "before-restart" in choices(page, "train_pick")  # the finished one was saved
            expect(page.get_by_role("button", name="Start training")).to_be_visible()
    except ServerError as exc:
        pytest.fail(str(exc))
    finally:
        context.close()
