"""A real ``streamlit run Home.py`` for browser tests and the browser benchmark, and the helpers
both use to drive Debian's Chromium."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message holds its last output."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def streamlit_server(timeout: float = 60.0) -> Iterator[str]:
    """Serve the app on a free loopback port with the shipped models; yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("DIGIT_MODELS_DIR", None)  # the shipped models in models/
    command = [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

        def output() -> str:
            log.seek(0)
            return log.read()[-5000:]

        try:
            deadline = time.monotonic() + timeout
            while not healthy(url):
                if process.poll() is not None:
                    raise ServerError(f"streamlit exited with {process.returncode} before answering:\n"
                                      f"{output()}")
                if time.monotonic() > deadline:
                    raise ServerError(f"streamlit did not answer {url}/_stcore/health within "
                                      f"{timeout:.0f} s:\n{output()}")
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def interpolate(stroke, step: float = 5.0):
    """The stroke's points with extra ones in between, so no pointer move is longer than ``step`` px."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        points.extend((x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1))
    return points
