"""The MNIST loader: IDX parsing, validation, the search order, and the real data set."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digit_core import data
from digit_core.data import DATA_DIR_ENV, IDX_FILES, DataError, MnistNotFoundError, load_mnist, read_idx

REPO_ROOT = Path(__file__).resolve().parent.parent


# --- helpers: write small IDX files by hand -----------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int | None = None, count: int | None = None) -> bytes:
    """The IDX encoding of a uint8 array: big-endian magic, dimensions, then the raw bytes."""
    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3:
        header = struct.pack(
            ">IIII", magic or data.IMAGES_MAGIC, len(array) if count is None else count, *array.shape[1:]
        )
    else:
        header = struct.pack(">II", magic or data.LABELS_MAGIC, len(array) if count is None else count)
    return header + array.tobytes()


def write_bytes(path: Path, raw: bytes) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def make_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_mnist_folder(
    folder: Path, gz: bool = True, n_train: int = 12, n_test: int = 7, **overrides: np.ndarray
) -> dict[str, np.ndarray]:
    """Four IDX files like the official ones; ``overrides`` replace any of the four arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = make_split(n_train, seed=1)
    test_images, test_labels = make_split(n_test, seed=2)
    arrays = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
        **overrides,
    }
    for key, stem in IDX_FILES.items():
        write_bytes(folder / (stem + (".gz" if gz else "")), idx_bytes(arrays[key]))
    return arrays


@pytest.fixture(autouse=True)
def fresh_loader_cache():
    """load_mnist caches per search path; every test here starts and ends with an empty cache."""
    data._load_cached.cache_clear()
    yield
    data._load_cached.cache_clear()


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MNIST anywhere except where a test puts it: project data/ and Keras' cache are empty."""
    project, cache = tmp_path / "project-data", tmp_path / "keras-cache"
    project.mkdir()
    cache.mkdir()
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", project)
    monkeypatch.setattr(data, "KERAS_CACHE", cache)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)

    def no_network():
        raise AssertionError("load_mnist tried to download")

    monkeypatch.setattr(data, "_download", no_network)
    return tmp_path


# --- read_idx --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gz", ""], ids=["gzip", "plain"])
def test_read_idx_round_trips_images_and_labels(tmp_path, suffix):
    images, labels = make_split(5, seed=3)
    image_file = write_bytes(tmp_path / f"images{suffix}", idx_bytes(images))
    label_file = write_bytes(tmp_path / f"labels{suffix}", idx_bytes(labels))

    got_images, got_labels = read_idx(image_file), read_idx(label_file)

    assert got_images.shape == (5, 28, 28) and got_images.dtype == np.uint8
    assert got_labels.shape == (5,) and got_labels.dtype == np.uint8
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_read_idx_keeps_non_square_image_dimensions_from_the_header(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_bytes(tmp_path / "small.gz", idx_bytes(images))
    np.testing.assert_array_equal(read_idx(path), images)


def test_truncated_image_file_is_reported_with_file_and_counts(tmp_path):
    images, _ = make_split(3, seed=4)
    raw = idx_bytes(images)
    path = write_bytes(tmp_path / "train-images-idx3-ubyte.gz", raw[:-100])

    with pytest.raises(DataError) as info:
        read_idx(path)

    message = str(info.value)
    assert str(path) in message
    assert "truncated" in message
    assert f"promises {3 * 28 * 28} values" in message and f"holds {3 * 28 * 28 - 100}" in message


def test_image_file_with_trailing_bytes_is_reported(tmp_path):
    images, _ = make_split(2, seed=5)
    path = write_bytes(tmp_path / "imgs", idx_bytes(images) + b"\0\0\0")
    with pytest.raises(DataError, match="trailing bytes") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_file_shorter_than_a_header_is_reported_as_truncated(tmp_path):
    path = write_bytes(tmp_path / "stub.gz", b"\x00\x00\x08")
    with pytest.raises(DataError, match="truncated header") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_wrong_magic_number_is_reported_with_file_and_value(tmp_path):
    _, labels = make_split(4, seed=6)
    path = write_bytes(tmp_path / "labels.gz", idx_bytes(labels, magic=0x0801_0000))

    with pytest.raises(DataError) as info:
        read_idx(path)

    message = str(info.value)
    assert str(path) in message
    assert "bad IDX magic number" in message and str(0x0801_0000) in message


def test_corrupt_gzip_is_reported_as_unreadable(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(DataError, match="cannot read") as info:
        read_idx(path)
    assert str(path) in str(info.value)


# --- folders and the search order -----------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_load_mnist_reads_a_folder_of_four_idx_files(isolated, monkeypatch, gz):
    folder = isolated / "mnist"
    arrays = write_mnist_folder(folder, gz=gz)
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    mnist = load_mnist(download=False)

    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(mnist, key), expected)
    assert mnist.source == str(folder)


def test_label_count_mismatch_is_reported_with_both_counts(isolated, monkeypatch):
    folder = isolated / "mnist"
    _, short_labels = make_split(11, seed=7)
    write_mnist_folder(folder, n_train=12, train_labels=short_labels)
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    with pytest.raises(DataError) as info:
        load_mnist(download=False)

    message = str(info.value)
    assert "labels of shape (11,) for 12 images" in message
    assert "train-labels-idx1-ubyte" in message and str(folder) in message


def test_labels_outside_0_to_9_are_rejected_naming_the_labels_file(isolated, monkeypatch):
    folder = isolated / "mnist"
    bad = np.array([0, 1, 2, 12, 4, 5, 6], dtype=np.uint8)
    write_mnist_folder(folder, n_test=7, test_labels=bad)
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    with pytest.raises(DataError) as info:
        load_mnist(download=False)

    message = str(info.value)
    assert "labels outside 0..9" in message and "12" in message
    assert IDX_FILES["test_labels"] in message and str(folder) in message


@pytest.mark.parametrize("missing", sorted(IDX_FILES.values()))
def test_folder_missing_one_of_the_four_files_names_it(isolated, monkeypatch, missing):
    folder = isolated / "mnist"
    write_mnist_folder(folder)
    (folder / f"{missing}.gz").unlink()
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    with pytest.raises(DataError) as info:
        load_mnist(download=False)

    message = str(info.value)
    assert "incomplete MNIST" in message and missing in message and str(folder) in message
    others = set(IDX_FILES.values()) - {missing}
    assert not any(name in message for name in others)


def test_corrupt_file_in_the_data_folder_surfaces_through_load_mnist(isolated, monkeypatch):
    folder = isolated / "mnist"
    write_mnist_folder(folder)
    target = folder / f"{IDX_FILES['train_images']}.gz"
    raw = gzip.decompress(target.read_bytes())
    write_bytes(target, raw[: len(raw) // 2])
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(download=False)
    assert str(target) in str(info.value)


def write_npz(path: Path, n_train: int = 6, n_test: int = 4, seed: int = 0, **overrides) -> dict:
    train_images, train_labels = make_split(n_train, seed=seed)
    test_images, test_labels = make_split(n_test, seed=seed + 100)
    arrays = {
        "x_train": train_images,
        "y_train": train_labels,
        "x_test": test_images,
        "y_test": test_labels,
        **overrides,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def test_mnist_npz_in_a_folder_is_found(isolated, monkeypatch):
    folder = isolated / "npz-only"
    arrays = write_npz(folder / "mnist.npz")
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))

    mnist = load_mnist(download=False)

    np.testing.assert_array_equal(mnist.train_images, arrays["x_train"])
    np.testing.assert_array_equal(mnist.train_labels, arrays["y_train"])
    np.testing.assert_array_equal(mnist.test_images, arrays["x_test"])
    np.testing.assert_array_equal(mnist.test_labels, arrays["y_test"])
    assert mnist.source == str(folder / "mnist.npz")


def test_mnist_npz_in_keras_cache_is_found_when_nothing_else_exists(isolated):
    arrays = write_npz(data.KERAS_CACHE / "mnist.npz", seed=9)
    mnist = load_mnist(download=False)
    np.testing.assert_array_equal(mnist.test_images, arrays["x_test"])
    assert mnist.source == str(data.KERAS_CACHE / "mnist.npz")


def test_npz_with_labels_outside_0_to_9_is_rejected(isolated, monkeypatch):
    folder = isolated / "npz"
    write_npz(folder / "mnist.npz", y_test=np.array([0, 1, 10, 3], dtype=np.int64))
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    with pytest.raises(DataError, match=r"labels outside 0\.\.9") as info:
        load_mnist(download=False)
    assert "mnist.npz" in str(info.value)


def test_npz_labels_that_overflow_uint8_are_rejected_not_wrapped(isolated, monkeypatch):
    folder = isolated / "npz"
    write_npz(folder / "mnist.npz", y_test=np.array([0, 1, 256, 3], dtype=np.int64))
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    with pytest.raises(DataError, match=r"labels outside 0\.\.9"):
        load_mnist(download=False)


def test_npz_without_the_expected_arrays_is_reported(isolated, monkeypatch):
    folder = isolated / "npz"
    folder.mkdir()
    np.savez(folder / "mnist.npz", something_else=np.zeros(3))
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    with pytest.raises(DataError, match="not a usable mnist.npz") as info:
        load_mnist(download=False)
    assert str(folder / "mnist.npz") in str(info.value)


def test_data_dir_env_takes_precedence_over_project_and_keras_cache(isolated, monkeypatch):
    project_arrays = write_npz(data.PROJECT_DATA_DIR / "mnist.npz", seed=20)
    write_npz(data.KERAS_CACHE / "mnist.npz", seed=30)
    env_folder = isolated / "from-env"
    env_arrays = write_mnist_folder(env_folder)
    monkeypatch.setenv(DATA_DIR_ENV, str(env_folder))

    mnist = load_mnist(download=False)

    assert mnist.source == str(env_folder)
    np.testing.assert_array_equal(mnist.train_images, env_arrays["train_images"])
    assert not np.array_equal(mnist.train_images[:6], project_arrays["x_train"])


def test_project_data_dir_is_searched_before_keras_cache(isolated):
    write_npz(data.PROJECT_DATA_DIR / "mnist.npz", seed=40)
    write_npz(data.KERAS_CACHE / "mnist.npz", seed=50)
    assert load_mnist(download=False).source == str(data.PROJECT_DATA_DIR / "mnist.npz")


def test_search_paths_lists_env_folder_first(isolated, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(isolated / "env"))
    assert data.search_paths() == [isolated / "env", data.PROJECT_DATA_DIR, data.KERAS_CACHE]


def test_load_mnist_without_download_and_no_data_raises_not_found(isolated):
    with pytest.raises(MnistNotFoundError) as info:
        load_mnist(download=False)

    message = str(info.value)
    assert DATA_DIR_ENV in message
    assert str(data.PROJECT_DATA_DIR) in message and str(data.KERAS_CACHE) in message
    assert isinstance(info.value, FileNotFoundError)


def test_importing_digit_core_data_does_not_import_tensorflow():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import digit_core.data, sys; assert 'tensorflow' not in sys.modules; "
            "assert 'keras' not in sys.modules",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


# --- the real MNIST --------------------------------------------------------------------------------

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.mnist
def test_real_mnist_has_published_shapes_and_dtypes(mnist):
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    for array in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert array.dtype == np.uint8
    assert mnist.train_images.max() == 255 and mnist.train_images.min() == 0


@pytest.mark.mnist
def test_real_mnist_label_counts_match_published_counts(mnist):
    assert np.bincount(mnist.train_labels, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_COUNTS
