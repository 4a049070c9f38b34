"""Under ``DIGIT_REQUIRE_DATA=1`` (set by CI) a test that needs MNIST fails when MNIST is missing or
corrupt, instead of skipping: a run full of skips must not pass for a run that checked something.

Each case runs pytest on one real MNIST test in a fresh process, with the data folder under its
control and ``HOME`` pointed away from any Keras cache of MNIST."""

import os
import subprocess
import sys

import pytest

from digit_core.data import DATA_DIR_ENV, IDX_FILES
from tests.support.helpers import REQUIRE_DATA_ENV, ROOT

NEEDS_MNIST = "tests/test_data.py::test_real_mnist_has_published_shapes_and_dtypes"


def run_mnist_test(tmp_path, data_dir, require: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, DATA_DIR_ENV: str(data_dir), "HOME": str(tmp_path / "home")}
    env.pop(REQUIRE_DATA_ENV, None)
    if require:
        env[REQUIRE_DATA_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", NEEDS_MNIST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def corrupt_mnist(folder):
    """The four IDX files MNIST is looked for by, each a few bytes of garbage."""
    folder.mkdir()
    for stem in IDX_FILES.values():
        (folder / f"{stem}.gz").write_bytes(b"not gzip at all")
    return folder


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_without_the_variable_a_test_that_needs_mnist_skips_saying_why(tmp_path, broken):
    data_dir = tmp_path / "empty" if broken == "missing" else corrupt_mnist(tmp_path / "corrupt")
    done = run_mnist_test(tmp_path, data_dir, require=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 skipped" in done.stdout and "MNIST is not available" in done.stdout


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_with_the_variable_a_test_that_needs_mnist_fails_when_it_is_missing_or_corrupt(tmp_path, broken):
    data_dir = tmp_path / "empty" if broken == "missing" else corrupt_mnist(tmp_path / "corrupt")
    done = run_mnist_test(tmp_path, data_dir, require=True)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert f"{REQUIRE_DATA_ENV} is set, so MNIST must be there" in done.stdout
    if broken == "corrupt":
        assert "cannot read" in done.stdout  # the data set's own complaint, named
