"""The handwriting set: SQLite round trip, concurrent writers, damaged and locked files, and
exports that move between machines (a malformed one imports nothing)."""

import contextlib
import csv
import io
import logging
import sqlite3
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from digit_core.handwriting import HandwritingError, HandwritingStore, drawing_png, fingerprint


def digit_image(value: int) -> np.ndarray:
    """A recognisable (28, 28) float image in [0, 1], different for each ``value``."""
    image = np.zeros((28, 28), np.float32)
    image[4 + value % 20 : 8 + value % 20, 4:24] = 1.0
    image[10, value % 28] = 0.5
    return image


@pytest.fixture
def store(tmp_path):
    return HandwritingStore(tmp_path / "sets" / "handwriting.sqlite")


def test_an_empty_set_reads_as_empty_without_creating_a_file(store):
    assert store.counts() == [0] * 10 and store.samples() == []
    images, labels = store.arrays()
    assert images.shape == (0, 28, 28) and labels.shape == (0,)
    assert not store.path.exists()


def test_a_sample_comes_back_as_it_was_saved(store):
    rgba = np.zeros((40, 30, 4), np.uint8)
    rgba[5:30, 10:15] = 255
    png = drawing_png(rgba)
    sample_id = store.add(digit_image(3), 7, png, predicted=1, confidence=0.62, model="cnn")
    [sample] = store.samples()
    assert (sample.id, sample.label, sample.predicted, sample.model) == (sample_id, 7, 1, "cnn")
    assert sample.confidence == pytest.approx(0.62)
    np.testing.assert_array_equal(sample.image, (digit_image(3) * 255).round().astype(np.uint8))
    assert sample.created.startswith("20")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(store.drawing(sample_id)))), rgba)
    assert store.counts() == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]


def test_samples_filter_by_digit_newest_first_and_delete_removes_one(store):
    ids = [store.add(digit_image(i), i % 3) for i in range(6)]
    assert [s.id for s in store.samples(label=0)] == [ids[3], ids[0]]
    assert store.delete(ids[3]) is True and store.delete(ids[3]) is False
    assert [s.id for s in store.samples(label=0)] == [ids[0]]
    assert store.counts()[:3] == [1, 2, 2]


@pytest.mark.parametrize("label", [-1, 10, 3.0, "7", True, None])
def test_a_label_that_is_not_a_digit_is_refused(store, label):
    with pytest.raises(ValueError, match="digit 0-9"):
        store.add(digit_image(1), label)
    assert store.counts() == [0] * 10


def test_an_image_of_the_wrong_shape_or_range_is_refused(store):
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        store.add(np.zeros((28, 27)), 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        store.add(np.full((28, 28), 2.0), 1)


def test_many_threads_adding_at_once_lose_nothing(store):
    errors = []

    def writer(worker):
        try:
            for i in range(25):
                HandwritingStore(store.path).add(digit_image(i), (worker + i) % 10)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(store.counts()) == 200 and len({s.id for s in store.samples(limit=500)}) == 200


def test_a_damaged_file_gives_a_clear_message(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"this is not a database" * 100)
    for action in (store.counts, lambda: store.add(digit_image(1), 1)):
        with pytest.raises(HandwritingError, match="is damaged"):
            action()


def test_a_locked_database_gives_a_clear_message_and_works_once_free(store):
    store.add(digit_image(1), 1)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HandwritingError, match="busy"):
            HandwritingStore(store.path, timeout=0.2).add(digit_image(2), 2)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.add(digit_image(2), 2)
    assert sum(store.counts()) == 2


def test_npz_and_zip_exports_import_into_another_set_identically(store, tmp_path):
    for i in range(12):
        store.add(digit_image(i), i % 10)
    images, labels = store.arrays()
    for kind, data in (("npz", store.export_npz()), ("zip", store.export_zip())):
        other = HandwritingStore(tmp_path / f"other-{kind}.sqlite")
        assert other.import_file(f"set.{kind}", data).added == 12
        got_images, got_labels = other.arrays()
        assert fingerprint(got_images, got_labels) == fingerprint(images, labels)


def zip_of(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def png(size=(28, 28)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, format="PNG")
    return buffer.getvalue()


def labels_csv(rows) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "label"])
    writer.writerows(rows)
    return text.getvalue()


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


MALFORMED = {
    "not a zip at all": ("set.zip", b"PK\x03\x04 broken", "not a readable zip"),
    "no labels.csv": ("set.zip", zip_of({"a.png": png()}), "no labels.csv"),
    "a missing image": (
        "set.zip",
        zip_of({"labels.csv": labels_csv([("a.png", 1), ("b.png", 2)]), "a.png": png()}),
        "'b.png' is not in the zip",
    ),
    "a label that is not a digit": (
        "set.zip",
        zip_of({"labels.csv": labels_csv([("a.png", 1), ("b.png", "x")]), "a.png": png(), "b.png": png()}),
        "not a digit",
    ),
    "a label out of range": (
        "set.zip",
        zip_of({"labels.csv": labels_csv([("a.png", 12)]), "a.png": png()}),
        "digits 0-9",
    ),
    "an image of the wrong size": (
        "set.zip",
        zip_of(
            {"labels.csv": labels_csv([("a.png", 1), ("b.png", 1)]), "a.png": png(), "b.png": png((30, 28))}
        ),
        "30x28",
    ),
    "a broken png": (
        "set.zip",
        zip_of(
            {
                "labels.csv": labels_csv([("a.png", 1), ("b.png", 1)]),
                "a.png": png(),
                "b.png": b"\x89PNG broken",
            }
        ),
        "not a readable PNG",
    ),
    "npz without labels": ("set.npz", npz(images=np.zeros((2, 28, 28), np.uint8)), "'images' and 'labels'"),
    "npz with mismatched counts": (
        "set.npz",
        npz(images=np.zeros((3, 28, 28), np.uint8), labels=np.array([1, 2])),
        "3 images",
    ),
    "npz of the wrong shape": (
        "set.npz",
        npz(images=np.zeros((2, 28, 20), np.uint8), labels=np.array([1, 2])),
        "shape",
    ),
    "npz holding pickles": (
        "set.npz",
        npz(images=np.array([object()] * 2), labels=np.array([1, 2])),
        "shape",
    ),
    "a labels.csv too large to read": (
        "set.zip",
        zip_of({"labels.csv": "file,label\n" + "x" * (11 * 2**20)}),
        "larger than 10 MB",
    ),
    "a text file": ("set.txt", b"hello", "expected a .npz or a .zip"),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_archive_is_refused_and_nothing_is_half_imported(store, case):
    name, data, message = case
    store.add(digit_image(5), 5)
    before = store.arrays()
    with pytest.raises(HandwritingError, match=message):
        store.import_file(name, data)
    after = store.arrays()
    assert fingerprint(*after) == fingerprint(*before)


def test_an_npz_declaring_too_many_samples_is_refused_before_it_is_loaded(store):
    import tracemalloc

    buffer = io.BytesIO()
    count = 100_001
    np.savez_compressed(buffer, images=np.zeros((count, 28, 28), np.uint8), labels=np.zeros(count, np.uint8))
    data = buffer.getvalue()  # about 100 kB that would unpack to 78 MB
    tracemalloc.start()
    try:
        with pytest.raises(HandwritingError, match="at most 100,000"):
            store.import_file("huge.npz", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MB allocated: the arrays were unpacked"
    assert store.counts() == [0] * 10


def fail_the_nth_new_row(path, n: int) -> None:
    """Make the database itself refuse the ``n``-th row written from now on: a fault in the middle
    of a write, wherever the code that writes is (a full disk, a crash would do the same)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM samples").fetchone()
        conn.execute(
            f"CREATE TRIGGER fault BEFORE INSERT ON samples WHEN (SELECT COUNT(*) FROM samples) >= "
            f"{count + n - 1} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )
        conn.commit()


@pytest.mark.parametrize("kind", ["npz", "zip"])
def test_an_import_that_fails_half_way_through_writing_stores_none_of_it(store, tmp_path, kind):
    source = HandwritingStore(tmp_path / "source.sqlite")
    for i in range(5):
        source.add(digit_image(i), i)
    archive = source.export_npz() if kind == "npz" else source.export_zip()
    store.add(digit_image(9), 9)
    before = store.arrays()
    fail_the_nth_new_row(store.path, 3)  # the first two rows of the import are written, then this

    with pytest.raises(HandwritingError, match="injected fault"):
        store.import_file(f"five.{kind}", archive)

    assert fingerprint(*store.arrays()) == fingerprint(*before)  # must not: keep the first two rows
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        conn.execute("DROP TRIGGER fault")
        conn.commit()
    assert store.import_file(f"five.{kind}", archive).added == 5  # the same file, once the fault is gone


def test_imports_deletes_and_failures_are_logged(store, caplog):
    with caplog.at_level(logging.INFO, logger="digit_core"):
        sample = store.add(digit_image(1), 1)
        store.import_file("set.npz", store.export_npz())
        store.delete(sample)
        with pytest.raises(HandwritingError):
            store.import_file("set.txt", b"hello")  # refused before the database: nothing to log
        store.path.write_bytes(b"this is not a database")
        with pytest.raises(HandwritingError, match="damaged"):
            store.counts()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "digit_core.handwriting"]
    where = f"handwriting set {store.path}"
    assert messages[:3] == [
        ("INFO", f"{where}: importing 1 samples from set.npz"),
        ("INFO", f"{where}: 0 added, 1 already there, in one transaction"),
        ("INFO", f"{where}: deleted sample {sample}"),
    ]
    assert messages[3][0] == "WARNING" and messages[3][1].startswith(f"{where}: DatabaseError")
    assert len(messages) == 4


@pytest.mark.parametrize("kind", ["npz", "zip"])
def test_importing_your_own_export_adds_nothing_and_says_so(store, kind):
    for i in range(6):
        store.add(digit_image(i), i)
    before = fingerprint(*store.arrays())
    archive = store.export_npz() if kind == "npz" else store.export_zip()
    result = store.import_file(f"mine.{kind}", archive)
    assert (result.added, result.skipped) == (0, 6) and str(result) == "0 added, 6 already there"
    assert fingerprint(*store.arrays()) == before  # must not: hold every sample twice


def test_an_import_adds_the_new_samples_and_skips_only_exact_duplicates(store, tmp_path):
    for i in range(6):
        store.add(digit_image(i), i)
    other = HandwritingStore(tmp_path / "other.sqlite")
    for i in range(6):
        other.add(digit_image(i), i)  # the same six ...
    for i in range(6, 18):
        other.add(digit_image(i), i % 10)  # ... and twelve new ones
    other.add(digit_image(0), 5)  # the same image as a 0 under another label: not a duplicate
    other.add(digit_image(6), 6)  # twice in the file: one of them is new, the other is then there
    result = store.import_file("other.npz", other.export_npz())
    assert str(result) == "13 added, 7 already there"
    assert sum(store.counts()) == 19
    images, labels = store.arrays()
    pairs = {(int(label), image.tobytes()) for image, label in zip(images, labels)}
    assert len(pairs) == 19  # no exact duplicate in the set


def test_a_removed_sample_comes_back_whole_with_its_id(store):
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[5:25, 12:18] = 255
    ids = [
        store.add(digit_image(i), i, drawing_png(rgba), predicted=(i + 1) % 10, confidence=0.4)
        for i in range(3)
    ]
    before, version = store.samples(), store.version()
    removed = store.remove(ids[1])
    assert (
        removed is not None and removed.id == ids[1] and [s.id for s in store.samples()] == [ids[2], ids[0]]
    )
    assert store.version() != version  # the exports are built again
    assert store.restore(removed) is True
    after = store.samples()
    assert [(s.id, s.label, s.predicted, s.confidence, s.created) for s in after] == [
        (s.id, s.label, s.predicted, s.confidence, s.created) for s in before
    ]
    assert store.drawing(ids[1]) == drawing_png(rgba) and store.version() == version
    assert store.restore(removed) is False  # once is enough: it is there
    assert store.remove(12345) is None
