"""Many users at once: concurrent headless-browser sessions against one server, some of them training.

The core of ``bench/load_test.py`` (long form) and ``tests/e2e/test_load.py`` (short form, in CI).
One Chromium, one browser context (so one Streamlit session) per user, driven concurrently with
Playwright's async API. Each drawing session replays one-stroke digit templates with the mouse on
the Draw & Predict page, times the stroke-to-answer latency on the browser's clock (``mouseup`` to
the Prediction metric appearing, so it includes the canvas's 200 ms send debounce), checks the
answer is the digit drawn, and clears the canvas; each training session starts a small training
on the Train page (a job in a worker process of the server's Ray), watches it, and at the end
presses Stop and discards the run, leaving the server idle. :func:`run_consecutive` trains one small
model after another and reads the server's memory after each: it must stay flat, since trainings
run in Ray's worker processes and not in the server. Every wait is bounded: a drawing is started
only before the deadline and each wait after it has its own timeout.

Errors are what a user would call broken: no answer in time, a websocket the server closed, a
server that stops answering ``/_stcore/health``, a page or console error of the app, an HTTP
error, a traceback in the server's log. Exceptions shown (``stException`` elements) are counted
on their own; a wrong digit is a wrong answer, not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from . import strokes
from .server import CHROMIUM, CHROMIUM_ARGS, SERVERS, Server, healthy, interpolate

VIEWPORT = {"width": 1400, "height": 1000}
CANVAS = ".st-key-draw_canvas canvas.upper-canvas"
RESET = '.st-key-draw_canvas button[title="Reset canvas & history"]'
PREDICTION = ".st-key-prediction"
VALUE = f'{PREDICTION} [data-testid="stMetricValue"]'
PROMPT = "Draw a digit on the canvas"
SUBSETS = ("1k", "5k", "20k", "all")  # the Train page's "Training images" steps
EXCEPTION = '[data-testid="stException"]'
# Digits whose plainest template is one stroke, so the first answer after the pen lifts is the
# answer to the whole drawing; the shipped CNN reads each of them at > 99.9 % from these templates.
DIGITS = (0, 1, 2, 3, 5, 6, 7, 9)
CENTRES = (0.42, 0.5, 0.58)  # the drawing moves a little from one digit to the next
STEP_PX = 8.0  # pointer moves per stroke: fewer than the other browser tests', to spare the 2 cores
FIRST_LOAD_S = 180.0  # the first script run imports TensorFlow and loads the model; 8 pages at once
SETTLE_MS = 400  # the canvas sends a drawing 200 ms after the pen lifts
HEALTH_EVERY_S = 2.0
HEALTH_TIMEOUT_S = 10.0
TRAINING_START_S = 300.0  # from Start to the first batch on a busy machine (Ray, worker, TensorFlow)
STOP_TIMEOUT_S = 180.0  # the current batch, then testing on 10,000 images and the baseline
# The frontend first looks for the server under the page's own path (``/Train/_stcore/health``)
# and falls back to the root: those two 404s are Streamlit's, on every page load, not the app's.
PROBES = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\S*Error\b|Exception in", re.MULTILINE)

# Installed in the page: the time the pen lifts and the time the Prediction metric first shows.
WATCH_JS = """() => {
  const value = () => document.querySelector('.st-key-prediction [data-testid="stMetricValue"]');
  const w = window.__answerWatch = {armed: false, up: null, shown: null, text: null};
  window.addEventListener('mouseup', () => { if (w.armed && w.up === null) w.up = performance.now(); },
                          true);
  new MutationObserver(() => {
    if (!w.armed || w.up === null || w.shown !== null) return;
    const v = value();
    if (v && v.innerText.trim()) { w.shown = performance.now(); w.text = v.innerText.trim(); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
ARM_JS = "() => Object.assign(window.__answerWatch, {armed: true, up: null, shown: null, text: null})"
SHOWN_JS = "() => window.__answerWatch.shown !== null"
RESULT_JS = """() => { const w = window.__answerWatch; w.armed = false;
  return {up: w.up, shown: w.shown, text: w.text}; }"""
IDLE_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'; }"""
PROMPT_JS = f"() => document.querySelector('{PREDICTION}')?.innerText.includes({PROMPT!r})"

# How the Train page sums up a training that ended (a stop inside the first epoch is said so).
ENDED = re.compile(r"^(Stopped after \d+|Stopped during the first|Finished \d+)")


@dataclass
class Tally:
    """What the sessions saw; each list entry names the session (an error also the moment)."""

    latencies: list[float] = field(default_factory=list)  # seconds, stroke to answer
    predictions: int = 0
    per_session: dict[str, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    health_checks: int = 0
    training: dict[str, dict] = field(default_factory=dict)  # per training session
    started: float = field(default_factory=time.monotonic)

    def error(self, who: str, what: str) -> None:
        line = f"{time.monotonic() - self.started:6.1f} s  {who}: {what}"
        self.errors.append(line)
        print(f"  ERROR {line}", flush=True)


@dataclass(frozen=True)
class Settings:
    drawers: int = 3  # sessions that draw and predict
    train: bool = True  # ``trainers`` more sessions train meanwhile
    trainers: int = 1  # training sessions (each asks the server's Ray for one CPU share)
    seconds: float = 15.0  # the measured window, after every session has warmed up
    arch: str = "cnn"  # what the training session trains
    images: str = "5k"  # the Train page's "Training images" choice
    epochs: int = 50  # enough to outlast the window; Stop ends it
    answer_timeout: float = 60.0  # seconds to wait for one answer
    screenshots: str | None = None  # a folder for a screenshot of each session that errs


def brief(exc: BaseException) -> str:
    """An exception's first line, and for Playwright's the element it was waiting for."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    waiting = [line.strip(" -") for line in lines if line.strip(" -").startswith("waiting for")]
    return lines[0] + (f" ({waiting[-1]})" if waiting else "")


def percentiles_ms(seconds: list[float]) -> dict:
    """p50, p95 and max in ms (None for no samples)."""
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": float(ms.max()),
    }


class Session:
    """One user: a browser context and page, and the hooks that turn its troubles into errors."""

    def __init__(self, browser, url: str, name: str, tally: Tally, settings: Settings):
        self.browser, self.url, self.name, self.tally = browser, url, name, tally
        self.settings = settings
        self.context = self.page = None
        self.closing = False
        self.shots = 0

    async def open(self, path: str) -> None:
        self.context = await self.browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(60_000)
        page = self.page = await self.context.new_page()
        page.on("pageerror", lambda exc: self.tally.error(self.name, f"page error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("websocket", self._websocket)
        await page.goto(f"{self.url}/{path}", timeout=FIRST_LOAD_S * 1000)

    def _console(self, message) -> None:
        # A failed load is also a response (checked below); the rest of the console's errors count.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.tally.error(self.name, f"console error: {message.text[:300]}")

    def _response(self, response) -> None:
        if response.status >= 400 and not (
            response.status == 404 and PROBES.match(urlparse(response.url).path)
        ):
            self.tally.error(self.name, f"HTTP {response.status} for {response.url}")

    def _websocket(self, socket) -> None:
        def closed(_socket) -> None:
            if not self.closing:
                self.tally.error(self.name, f"the server closed the websocket {socket.url}")

        socket.on("close", closed)

    async def failed(self, what: str) -> None:
        """Count an error and take a :meth:`snapshot`."""
        self.tally.error(self.name, what)
        await self.snapshot()

    async def snapshot(self) -> None:
        """With ``Settings.screenshots``, save what the user sees now, for the report of a problem."""
        from playwright.async_api import Error as PlaywrightError

        folder = self.settings.screenshots
        if folder and self.page is not None and not self.page.is_closed():
            self.shots += 1
            path = Path(folder) / f"{self.name.replace(' ', '-')}-{self.shots}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(PlaywrightError):
                await self.page.screenshot(path=path, full_page=True, timeout=10_000)

    async def exceptions_shown(self) -> int:
        shown = self.page.locator(EXCEPTION)
        count = await shown.count()
        if count:
            text = " ".join((await shown.first.inner_text()).split())[:300]
            self.tally.exceptions.append(f"{self.name}: {text}")
            print(f"  EXCEPTION SHOWN {self.name}: {text}", flush=True)
        return count

    async def idle(self, timeout_s: float) -> None:
        await self.page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000)

    async def close(self) -> None:
        self.closing = True
        if self.context is not None:
            await self.context.close()


class Drawer(Session):
    """Draws one-stroke digits, waits for each answer, checks it and clears the canvas."""

    def __init__(self, browser, url: str, index: int, tally: Tally, settings: Settings):
        super().__init__(browser, url, f"drawer {index}", tally, settings)
        self.index, self.timeout = index, settings.answer_timeout
        self.count = 0

    async def setup(self) -> None:
        await self.open("Draw_and_Predict")
        await self.page.wait_for_selector(CANVAS, state="visible", timeout=FIRST_LOAD_S * 1000)
        await self.page.wait_for_function(PROMPT_JS, timeout=FIRST_LOAD_S * 1000)
        await self.idle(FIRST_LOAD_S)
        await self.page.evaluate(WATCH_JS)
        # Warm-up, not counted: the first answer of the server loads the model.
        await self.drawing(DIGITS[self.index % len(DIGITS)], self.index, FIRST_LOAD_S, record=False)

    async def stroke(self, stroke) -> None:
        box = await self.page.locator(CANVAS).bounding_box()
        if box is None:
            raise RuntimeError("the canvas is not laid out")
        points = interpolate(stroke, STEP_PX)
        mouse = self.page.mouse
        await mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        await mouse.down()
        for x, y in points[1:]:
            await mouse.move(box["x"] + x, box["y"] + y)
        await mouse.up()

    async def drawing(self, digit: int, turn: int, timeout_s: float, record: bool = True) -> bool:
        """Draw ``digit``, wait for and check its answer, clear; False after an error."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = self.page
        style = strokes.Style(size=280, height=0.7, width=18, centre=(CENTRES[turn % len(CENTRES)], 0.5))
        try:
            await page.evaluate(ARM_JS)
            for stroke in strokes.place(digit, style):
                await self.stroke(stroke)
            try:
                await page.wait_for_function(SHOWN_JS, timeout=timeout_s * 1000, polling=20)
            except PlaywrightTimeout:
                await self.failed(f"no answer within {timeout_s:.0f} s after drawing a {digit}")
                return False
            result = await page.evaluate(RESULT_JS)
            await page.wait_for_timeout(SETTLE_MS)
            await self.idle(timeout_s)
            final = (await page.locator(VALUE).all_inner_texts()) or [""]
            if await self.exceptions_shown():
                await self.snapshot()  # counted on its own, not as an error
                return False
            if record:
                self.tally.latencies.append((result["shown"] - result["up"]) / 1000.0)
                self.tally.predictions += 1
                self.count += 1
                if final[0].strip() != str(digit):
                    self.tally.wrong.append(
                        f"{self.name}: drew {digit}, first read {result['text']!r}, then {final[0].strip()!r}"
                    )
            await page.click(RESET, timeout=timeout_s * 1000)
            await page.wait_for_function(PROMPT_JS, timeout=timeout_s * 1000)
            await self.idle(timeout_s)
            return True
        except PlaywrightTimeout as exc:
            await self.failed(f"timed out: {brief(exc)}")
            return False

    async def run(self, deadline: float) -> None:
        turn = self.index
        while time.monotonic() < deadline:
            turn += 1
            if not await self.drawing(DIGITS[turn % len(DIGITS)], turn, self.timeout):
                await self.recover(deadline)

    async def recover(self, deadline: float) -> None:
        """After an error, a reload (a new Streamlit session), as a user would do."""
        from playwright.async_api import Error as PlaywrightError

        while time.monotonic() < deadline:
            try:
                await self.page.reload(timeout=self.timeout * 1000)
                await self.page.wait_for_selector(CANVAS, state="visible", timeout=self.timeout * 1000)
                await self.page.wait_for_function(PROMPT_JS, timeout=self.timeout * 1000)
                await self.page.evaluate(WATCH_JS)
                return
            except PlaywrightError as exc:
                await self.failed(f"reload failed: {brief(exc)}")


class Trainer(Session):
    """Starts a small training on the Train page, watches it, then stops and discards it."""

    def __init__(self, browser, url: str, tally: Tally, settings: Settings, index: int = 1):
        super().__init__(browser, url, f"trainer {index}", tally, settings)
        self.started = False
        self.seen = tally.training.setdefault(self.name, {})

    async def setup(self) -> None:
        from playwright.async_api import expect

        await self.open("Train")
        await self.configure()
        await self.page.get_by_role("button", name="Start training").click()
        self.started = True
        # Queued while the server's Ray starts (on first use) and the worker loads TensorFlow.
        # The clock starts once batches run, so every drawing is answered under training load.
        progress = self.page.get_by_text(re.compile(rf"Epoch \d+ of {self.settings.epochs} · batch \d+"))
        await expect(progress.or_(self.failure())).to_be_visible(timeout=TRAINING_START_S * 1000)
        if await self.failure().count():
            raise RuntimeError(" ".join((await self.failure().first.inner_text()).split()))
        self.seen["started"] = await self.progress()

    async def configure(self) -> None:
        """Choose ``Settings``' network, images and epochs on the open Train page's settings."""
        from playwright.async_api import expect

        s, page = self.settings, self.page
        await expect(page.get_by_role("button", name="Start training")).to_be_visible(
            timeout=FIRST_LOAD_S * 1000
        )
        if s.arch == "ann":
            await page.get_by_text("ANN (dense)").click()
            await expect(page.get_by_role("slider", name="Hidden units per layer")).to_be_visible()
        slider = page.get_by_role("slider", name="Training images")
        steps = SUBSETS.index(s.images) - SUBSETS.index(await slider.get_attribute("aria-valuetext"))
        for _ in range(abs(steps)):
            await slider.press("ArrowRight" if steps > 0 else "ArrowLeft")
        await expect(slider).to_have_attribute("aria-valuetext", s.images)
        epochs = page.get_by_role("spinbutton", name="Epochs")
        await epochs.fill(str(s.epochs))
        await epochs.press("Enter")
        await expect(page.get_by_text("Trains on")).to_be_visible()
        await self.idle(60)

    async def train_to_the_end(self) -> str:
        """Start a training with the settings, wait for its end and discard it; its summary line."""
        from playwright.async_api import expect

        page = self.page
        await self.configure()
        await page.get_by_role("button", name="Start training").click()
        result = page.locator(".st-key-train_result")
        await expect(result.or_(self.failure())).to_be_visible(
            timeout=(TRAINING_START_S + STOP_TIMEOUT_S) * 1000
        )
        if await self.failure().count():
            text = " ".join((await self.failure().first.inner_text()).split())
            await page.get_by_role("button", name="Back to the settings").click()
            raise RuntimeError(text)
        summary = page.get_by_text(ENDED)
        line = " ".join((await summary.first.inner_text()).split())
        await page.get_by_role("button", name="Discard").click()
        return line

    def failure(self):
        """The Train page's message for a failed job."""
        return self.page.get_by_text("The training failed")

    async def progress(self) -> str | None:
        texts = await self.page.get_by_text(re.compile(r"Epoch \d+ of \d+ · batch")).all_inner_texts()
        return " ".join(texts[0].split()) if texts else None

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
            if await self.exceptions_shown():
                await self.snapshot()
                break
            if await self.page.locator(".st-key-train_result").count():
                self.seen["finished_early"] = True
                break
            if await self.failure().count():
                await self.failed(" ".join((await self.failure().first.inner_text()).split()))
                break
            shown = await self.progress()
            if shown:
                self.seen["last"] = shown

    async def stop(self) -> None:
        """Stop the training (if it still runs), wait for its result, discard it: the server is idle."""
        from playwright.async_api import expect

        page = self.page
        if not self.started:
            return
        result = page.locator(".st-key-train_result")
        if not await result.count() and not await self.failure().count():
            await page.locator(".st-key-train_stop").get_by_role("button", name="Stop").click(timeout=60_000)
        await expect(result.or_(self.failure())).to_be_visible(timeout=STOP_TIMEOUT_S * 1000)
        await self.exceptions_shown()
        if await self.failure().count():  # already counted as an error; the job is forgotten here
            await page.get_by_role("button", name="Back to the settings").click()
        else:
            summary = page.get_by_text(ENDED)
            self.seen["result"] = " ".join((await summary.first.inner_text()).split())
            await page.get_by_role("button", name="Discard").click()
        await expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=60_000)
        self.started = False


async def watch_health(url: str, server: Server | None, deadline: float, tally: Tally) -> None:
    """Poll ``/_stcore/health`` until the deadline; a miss or a dead process is an error."""
    while time.monotonic() < deadline:
        tally.health_checks += 1
        if server is not None and server.process.poll() is not None:
            tally.error("server", f"the server process exited with {server.process.returncode}")
            return
        if not await asyncio.to_thread(healthy, url, HEALTH_TIMEOUT_S):
            tally.error("server", f"no answer from /_stcore/health within {HEALTH_TIMEOUT_S:.0f} s")
        await asyncio.sleep(HEALTH_EVERY_S)


async def run_load_async(url: str, settings: Settings, server: Server | None = None) -> dict:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    tally = Tally()
    rss = {"start_kib": server.rss_kib() if server else None}
    phases: dict[str, float] = {}
    window = 0.0
    log_from = server.log_size() if server else 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        drawers = [Drawer(browser, url, i + 1, tally, settings) for i in range(settings.drawers)]
        count = settings.trainers if settings.train else 0
        trainers = [Trainer(browser, url, tally, settings, i + 1) for i in range(count)]
        sessions = [*drawers, *trainers]
        try:
            # Set-up: every drawing page open and warmed up (the server's first answers load the
            # model), then the trainings started and past their first batch (Ray starts then).
            ready = []
            for group in (drawers, trainers):
                outcomes = await asyncio.gather(*(s.setup() for s in group), return_exceptions=True)
                for session, outcome in zip(group, outcomes):
                    if not isinstance(outcome, BaseException):
                        ready.append(session)
                    elif isinstance(outcome, PlaywrightError | RuntimeError | AssertionError):
                        await session.failed(f"set-up failed: {brief(outcome)}")
                    else:
                        raise outcome
            rss["warm_kib"] = server.rss_kib() if server else None
            start = time.monotonic()
            phases["set-up"] = start - tally.started
            deadline = start + settings.seconds
            outcomes = await asyncio.gather(
                *(session.run(deadline) for session in ready),
                watch_health(url, server, deadline, tally),
                return_exceptions=True,
            )
            window = time.monotonic() - start
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    if not isinstance(outcome, PlaywrightError | RuntimeError | AssertionError):
                        raise outcome
                    tally.error("session", f"failed: {brief(outcome)}")
            for drawer in drawers:
                tally.per_session[drawer.name] = drawer.count
        finally:
            stopping = time.monotonic()
            for trainer in trainers:
                try:
                    await trainer.stop()
                except (PlaywrightError, AssertionError) as exc:
                    await trainer.failed(f"could not stop the training: {brief(exc)}")
            for session in sessions:
                await session.close()
            await browser.close()
            phases["stop and close"] = time.monotonic() - stopping
    rss["end_kib"] = server.rss_kib() if server else None
    log = server.output(log_from) if server else ""
    tracebacks = [line for line in log.splitlines() if TRACEBACK.search(line)]
    for line in tracebacks[:5]:
        tally.error("server log", line[:300])
    return {
        "settings": settings,
        "window_s": window,
        "tally": tally,
        "rss": rss,
        "server_log_tracebacks": len(tracebacks),
        "phases_s": phases,
        "latency": percentiles_ms(tally.latencies),
    }


async def run_consecutive_async(url: str, settings: Settings, count: int, server: Server | None) -> dict:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    tally = Tally()
    rss: list[int] = []
    results: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        trainer = Trainer(browser, url, tally, settings)
        try:
            await trainer.open("Train")
            for turn in range(count):
                try:
                    results.append(await trainer.train_to_the_end())
                except (PlaywrightError, RuntimeError, AssertionError) as exc:
                    await trainer.failed(f"training {turn + 1} of {count}: {brief(exc)}")
                    await trainer.page.goto(f"{url}/Train")
                if server is not None:
                    rss.append(server.rss_kib())
                    print(
                        f"  training {turn + 1} of {count}: server RSS {rss[-1] / 1024:.0f} MiB", flush=True
                    )
        finally:
            await trainer.close()
            await browser.close()
    return {"tally": tally, "rss_kib": rss, "results": results}


def run_consecutive(url: str, settings: Settings, count: int, server: Server | None = None) -> dict:
    """Train ``count`` models one after another in one session (each to its end, then discarded)
    and read the server's resident memory after each: ``{"tally", "rss_kib", "results"}``."""
    server = server or SERVERS.get(url)
    return _in_own_loop(run_consecutive_async(url, settings, count, server))


def run_load(url: str, settings: Settings, server: Server | None = None) -> dict:
    """:func:`run_load_async` in a thread of its own, so that it has its own event loop even when
    the caller's thread runs one (Playwright's sync API does, in the browser tests). The server
    (for its memory and log) is found by URL when it is one started by :mod:`.server`."""
    server = server or SERVERS.get(url)
    return _in_own_loop(run_load_async(url, settings, server))


def _in_own_loop(work_to_do) -> dict:
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["report"] = asyncio.run(work_to_do)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="load-test")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]


def summary(report: dict) -> str:
    """The figures as lines of text."""
    s, t, rss, latency = report["settings"], report["tally"], report["rss"], report["latency"]

    def mib(kib):
        return f"{kib / 1024:.0f} MiB" if kib is not None else "unknown"

    def ms(value):
        return f"{value:.0f} ms" if value is not None else "–"

    trainers = s.trainers if s.train else 0
    trainer = f" + {trainers} training a {s.arch.upper()} on {s.images} images" if trainers else ""
    lines = [
        f"sessions:         {s.drawers + trainers} ({s.drawers} drawing{trainer})",
        f"seconds:          {report['window_s']:.1f} (asked {s.seconds:g})",
        f"predictions:      {t.predictions} ({', '.join(f'{k}: {v}' for k, v in t.per_session.items())})",
        f"wrong answers:    {len(t.wrong)}",
        f"errors:           {len(t.errors)}",
        f"exceptions shown: {len(t.exceptions)}",
        f"latency:          p50 {ms(latency['p50_ms'])}, p95 {ms(latency['p95_ms'])}, "
        f"max {ms(latency['max_ms'])} (pen up to answer shown, browser clock)",
        f"server RSS:       {mib(rss['start_kib'])} at start, {mib(rss.get('warm_kib'))} after "
        f"warm-up, {mib(rss['end_kib'])} at the end",
        "phases:           " + ", ".join(f"{k} {v:.0f} s" for k, v in report["phases_s"].items()),
        f"health checks:    {t.health_checks}, server log tracebacks: {report['server_log_tracebacks']}",
    ]
    for name, seen in t.training.items():
        lines.append(f"{name + ':':18}" + "; ".join(f"{k}: {v}" for k, v in seen.items()))
    lines += [f"  wrong: {w}" for w in t.wrong[:10]]
    lines += [f"  error: {e}" for e in t.errors[:10]]
    lines += [f"  exception: {e}" for e in t.exceptions[:10]]
    return "\n".join(lines)
