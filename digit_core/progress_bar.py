"""A dependency-free text progress bar for the command line."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .training import BatchProgress, EpochProgress


class ProgressBar:
    """Prints one redrawn line per epoch on a terminal, and a summary line per finished epoch."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30, every: float = 0.25):
        self.stream, self.width, self.every = stream, width, every
        self._last = 0.0
        self._tty = hasattr(stream, "isatty") and stream.isatty()

    def on_batch(self, p: BatchProgress) -> None:
        now = time.monotonic()
        if not self._tty or (now - self._last < self.every and p.batch != p.batches):
            return
        self._last = now
        done = int(self.width * p.batch / p.batches)
        bar = "#" * done + "." * (self.width - done)
        self.stream.write(
            f"\repoch {p.epoch}/{p.epochs} [{bar}] {p.batch}/{p.batches} "
            f"loss {p.loss:.4f} acc {p.accuracy:.4f} {p.elapsed:.0f}s"
        )
        self.stream.flush()

    def on_epoch(self, p: EpochProgress) -> None:
        val = f" val_loss {p.val_loss:.4f} val_acc {p.val_accuracy:.4f}" if p.val_accuracy is not None else ""
        prefix = "\r" if self._tty else ""
        self.stream.write(
            f"{prefix}epoch {p.epoch}/{p.epochs} loss {p.loss:.4f} acc {p.accuracy:.4f}"
            f"{val} lr {p.learning_rate:.2e} {p.elapsed:.0f}s".ljust(100)
            + "\n"
        )
        self.stream.flush()
