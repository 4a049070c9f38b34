"""The My handwriting page through AppTest: counts, gallery by digit, delete and undo, export, and
import that skips what is already there."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digit_core.handwriting import DB_ENV, HandwritingStore
from tests.support.helpers import block, elements, script
from ui.navigation import HANDWRITING

PAGE = script(HANDWRITING)


def bar(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[5 + value % 15 : 10 + value % 15, 6:22] = 1.0
    return image


@pytest.fixture
def store(monkeypatch, tmp_path):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "handwriting.sqlite"))
    return HandwritingStore(tmp_path / "handwriting.sqlite")


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_an_empty_set_says_how_to_fill_it(store):
    at = run_page()
    assert not at.exception
    assert at.metric[0].value == "0"
    assert any("Draw & Predict" in i.value for i in at.info)
    assert not [b for b in at.get("download_button")]  # must not: offer to export nothing


def test_the_gallery_shows_each_digit_with_its_count_and_deletes_one(store):
    ids = [store.add(bar(i), i % 3, predicted=(i + 1) % 10) for i in range(7)]  # labels 0,1,2,0,1,2,0
    at = run_page()
    assert at.metric[0].value == "7"
    assert len(elements(block(at, "hw_gallery"), "Image")) == 7
    at.get("button_group")[0].set_value("0").run()  # the digit filter
    captions = [c for image in elements(block(at, "hw_gallery"), "Image") for c in image.captions]
    assert captions == ["0 · said 7", "0 · said 4", "0 · said 1"]  # newest first
    at.button(key=f"hw_delete_{ids[6]}").click().run()
    assert not at.exception
    assert store.counts()[:3] == [2, 2, 2]
    assert any(f"Deleted sample {ids[6]}" in i.value for i in at.info)


def test_a_deleted_sample_can_be_put_back(store):
    ids = [store.add(bar(i), i % 3, predicted=(i + 1) % 10) for i in range(3)]
    before = [(s.id, s.label, s.predicted, s.created) for s in store.samples()]
    at = run_page()
    at.button(key=f"hw_delete_{ids[1]}").click().run()
    assert sum(store.counts()) == 2 and not [b for b in at.button if b.key == f"hw_delete_{ids[1]}"]
    at.button(key="hw_undo").click().run()
    assert not at.exception
    assert [(s.id, s.label, s.predicted, s.created) for s in store.samples()] == before
    assert any(f"Sample {ids[1]} is back" in s.value for s in at.success)
    assert at.button(key=f"hw_delete_{ids[1]}") and not [b for b in at.button if b.key == "hw_undo"]


def test_an_import_skips_what_is_there_and_a_malformed_archive_imports_nothing(store, tmp_path):
    for i in range(4):
        store.add(bar(i), i)
    exported = store.export_zip()
    at = run_page()
    at.file_uploader(key="hw_import_file").set_value([("bad.zip", b"PK\x03\x04 garbage", "application/zip")])
    at.run()
    at.button(key="hw_import").click().run()
    assert any("Nothing was imported" in e.value for e in at.error)
    assert sum(store.counts()) == 4
    at.file_uploader(key="hw_import_file").set_value([("mine.zip", exported, "application/zip")]).run()
    at.button(key="hw_import").click().run()
    assert not at.exception
    assert any("0 added, 4 already there" in s.value for s in at.success)
    assert sum(store.counts()) == 4  # must not: hold each sample twice
    other = HandwritingStore(tmp_path / "other.sqlite")
    other.add_many(*store.arrays())
    for i in range(4, 7):
        other.add(bar(i), i)
    at.file_uploader(key="hw_import_file").set_value([("more.npz", other.export_npz(), "application/zip")])
    at.run()
    at.button(key="hw_import").click().run()
    assert any("3 added, 4 already there" in s.value for s in at.success)
    assert sum(store.counts()) == 7


def test_a_damaged_database_gives_a_message_not_a_traceback(store):
    store.path.write_bytes(b"garbage" * 500)
    at = run_page()
    assert not at.exception
    assert any("is damaged" in e.value for e in at.error)
