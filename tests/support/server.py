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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message holds its last output."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    """A running ``streamlit run Home.py``: its URL, its process, and what it has printed."""

    url: str
    process: subprocess.Popen
    _log: IO[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self, since: int = 0) -> str:
        """What the server has printed from byte ``since`` on (see :meth:`log_size`)."""
        # pread leaves the file offset alone: the server writes through the same open file.
        fd = self._log.fileno()
        size = os.fstat(fd).st_size
        return os.pread(fd, max(0, size - since), since).decode("utf-8", errors="replace")

    def log_size(self) -> int:
        """Bytes printed so far: pass to :meth:`output` to read only what comes after now."""
        return os.fstat(self._log.fileno()).st_size

    def rss_kib(self) -> int:
        """The server process's resident memory (VmRSS) in KiB."""
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        """CPU time the server process (all its threads, not its children) has used so far."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


SERVERS: dict[str, Server] = {}  # the running servers by URL, for tests that get only the URL


def rss_kib(pid: int | str = "self") -> int:
    """VmRSS of process ``pid`` in KiB, from /proc (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


@contextmanager
def running_server(
    timeout: float = 60.0, models_dir: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Serve the app on a free loopback port with the shipped models (or the registry in
    ``models_dir``) and this environment updated with ``env``; yield the :class:`Server`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    env.pop("DIGIT_MODELS_DIR", None)  # the shipped models in models/
    if models_dir is not None:
        env["DIGIT_MODELS_DIR"] = str(models_dir)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "Home.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(url, process, log)

        def output() -> str:
            return server.output()[-5000:]

        try:
            deadline = time.monotonic() + timeout
            while not healthy(url):
                if process.poll() is not None:
                    raise ServerError(
                        f"streamlit exited with {process.returncode} before answering:\n{output()}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s:\n{output()}"
                    )
                time.sleep(0.25)
            SERVERS[url] = server
            yield server
        finally:
            SERVERS.pop(url, None)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def streamlit_server(timeout: float = 60.0, models_dir: Path | None = None) -> Iterator[str]:
    """Serve the app on a free loopback port with the shipped models (or those in ``models_dir``);
    yield its base URL."""
    with running_server(timeout, models_dir) as server:
        yield server.url


def interpolate(stroke, step: float = 5.0):
    """The stroke's points with extra ones in between, so no pointer move is longer than ``step`` px."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        points.extend((x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1))
    return points
