"""What the job tests send into Ray workers: data loaders that fail, wait or count, and a probe
of the worker's TensorFlow. Kept in a light module of their own: a worker imports whatever module
a function it runs comes from."""

from __future__ import annotations

import os
import time
from pathlib import Path

from digit_core.data import Mnist

from .datasets import synthetic

GATE_TIMEOUT_S = 300.0


def tiny_mnist(n: int = 300) -> Mnist:
    images, labels = synthetic(n, seed=1)
    test_images, test_labels = synthetic(200, seed=2)
    return Mnist(images, labels, test_images, test_labels, "synthetic")


def disk_on_fire() -> Mnist:
    raise OSError("disk on fire")


def hungry() -> Mnist:
    raise MemoryError()


class Gated:
    """Loads the tiny data set once the file ``gate`` exists, or fails at once when ``abort``
    exists: a job held in its worker at will, and let go cheaply (before TensorFlow is imported)."""

    def __init__(self, gate: Path, abort: Path | None = None, n: int = 300) -> None:
        self.gate, self.abort, self.n = str(gate), str(abort) if abort else None, n

    def __call__(self) -> Mnist:
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not os.path.exists(self.gate) and time.monotonic() < deadline:
            if self.abort is not None and os.path.exists(self.abort):
                raise RuntimeError("aborted by the test")
            time.sleep(0.05)
        return tiny_mnist(self.n)


def probe(publish):
    """Live callbacks that report, after every epoch, what the worker's TensorFlow was given."""

    def on_epoch(progress) -> None:
        import tensorflow as tf

        publish(
            "probe",
            {
                "epoch": progress.epoch,
                "pid": os.getpid(),
                "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "gpus": len(tf.config.list_physical_devices("GPU")),
                "nice": os.getpriority(os.PRIO_PROCESS, 0),  # this thread's: the one that trains
            },
        )

    return {"on_epoch": on_epoch}
