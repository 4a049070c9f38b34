"""Small helpers shared by the AppTest page tests: where the scripts are, finding elements, and
writing MNIST files."""

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np

from digit_core import data, registry
from digit_core.handwriting import DB_ENV
from digit_core.workspace import USERS_DIR_ENV
from ui.navigation import PageSpec

ROOT = Path(__file__).resolve().parents[2]  # the project: Home.py, app_pages/, models/
# CI sets this: there, tests that need MNIST fail when it is missing or corrupt, instead of skipping
# (a skipped test cannot catch a bug, and a run full of skips still looks green). See conftest.py.
REQUIRE_DATA_ENV = "DIGIT_REQUIRE_DATA"
ENTRY = str(ROOT / "Home.py")


def script(spec: PageSpec) -> str:
    """The path of a page's script, for ``AppTest.from_file``."""
    return str(ROOT / spec.path)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (images ``(N, 28, 28)`` or labels ``(N,)``) as a gzipped MNIST IDX file."""
    magic = data.IMAGES_MAGIC if array.ndim == 3 else data.LABELS_MAGIC
    with gzip.open(path, "wb") as f:
        dims = b"".join(struct.pack(">I", d) for d in array.shape[1:])
        f.write(struct.pack(">II", magic, len(array)) + dims)
        f.write(array.astype(np.uint8).tobytes())


def elements(node, kind: str) -> list:
    """Elements of class ``kind`` (e.g. "Metric", "Image") under ``node``, in page order."""
    found = [node] if type(node).__name__ == kind else []
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else []:
        found += elements(child, kind)
    return found


def block(at, key: str):
    """The container that ``st.container(key=key)`` made."""
    for candidate in elements(at._tree, "Block"):
        if getattr(candidate, "key", None) == key:
            return candidate
    raise AssertionError(f"no container with key {key!r}")


def fresh_places(folder: Path, monkeypatch) -> None:
    """A server's places in ``folder``: a copy of the shipped models shared by all, people's
    folders, and the single-person handwriting set."""
    shared = folder / "models"
    shared.mkdir()
    for name in registry.SHIPPED:
        for suffix in (".keras", ".json"):
            shutil.copy(registry.PROJECT_MODELS_DIR / f"{name}{suffix}", shared / f"{name}{suffix}")
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(shared))
    monkeypatch.setenv(USERS_DIR_ENV, str(folder / "users"))
    monkeypatch.setenv(DB_ENV, str(folder / "single.sqlite"))
