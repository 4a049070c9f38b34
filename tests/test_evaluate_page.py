"""The Evaluate page through AppTest: its numbers are digit_core.evaluation's, cells show their
images, two models compare, and a missing data set is explained."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digit_core import data, other_writers
from digit_core.evaluation import cell, evaluate
from digit_core.inference import predict
from digit_core.predictions import predict_uploads
from digit_core.preprocess import to_mnist
from digit_core.registry import load_model, read_card
from tests.support import strokes
from tests.support.helpers import block, elements, script, write_idx
from ui.navigation import EVALUATE

PAGE = script(EVALUATE)


@pytest.fixture(scope="module")
def drawn_set(tmp_path_factory):
    """A small MNIST-format data set of our own drawn digits (the test split is what counts)."""
    rng = np.random.default_rng(5)
    labels = np.arange(200) % 10
    images = np.stack(
        [(to_mnist(strokes.draw_digit(d, strokes.random_style(rng), rng)) * 255).round() for d in labels]
    ).astype(np.uint8)
    folder = tmp_path_factory.mktemp("drawn")
    for split in ("train", "t10k"):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder, images, labels


def run_page(monkeypatch, data_dir, setup=None):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    at = AppTest.from_file(PAGE, default_timeout=300)
    if setup:
        setup(at)
    return at.run()


def metrics(at) -> dict:
    return {m.label: m.value for m in at.tabs[0].metric}


def test_page_figures_equal_the_library_on_a_test_set_we_drew(monkeypatch, drawn_set):
    folder, images, labels = drawn_set
    expected = evaluate(predict(load_model("cnn"), images), labels)
    at = run_page(monkeypatch, folder)
    assert not at.exception
    shown = metrics(at)
    assert shown["Accuracy"] == f"{expected.accuracy:.2%}"
    assert shown["Loss"] == f"{expected.loss:.4f}"
    assert shown["Errors"] == str(len(expected.mistakes))
    assert not at.warning  # must not: claim the data set is missing


def test_page_shows_the_shipped_cnn_accuracy_on_real_mnist(monkeypatch, mnist):
    expected = evaluate(predict(load_model("cnn"), mnist.test_images), mnist.test_labels)
    at = run_page(monkeypatch, Path(mnist.source))
    assert not at.exception
    card = read_card("cnn")
    assert metrics(at)["Accuracy"] == f"{expected.accuracy:.2%}" == f"{card['test_accuracy']:.2%}"


def test_choosing_a_confusion_cell_shows_exactly_its_images(monkeypatch, drawn_set):
    folder, images, labels = drawn_set
    probabilities = predict(load_model("cnn"), images)
    result = evaluate(probabilities, labels)
    # The busiest cell off the diagonal, or a diagonal one if the model made no mistake.
    off = result.confusion.copy()
    np.fill_diagonal(off, -1)
    true, predicted = divmod(int(off.argmax()), 10) if off.max() > 0 else (3, 3)

    def choose(at):
        at.session_state["eval_true"] = true
        at.session_state["eval_predicted"] = predicted

    at = run_page(monkeypatch, folder, setup=choose)
    assert not at.exception
    expected = cell(probabilities, labels, true, predicted)
    gallery = elements(block(at, "eval_cell"), "Image")[0]
    assert len(gallery.value) == len(expected[:40])
    assert gallery.captions == [f"{probabilities[i, predicted]:.0%}" for i in expected[:40]]
    a = "an" if true == 8 else "a"
    assert f"**{len(expected):,}** test images of {a} **{true}** predicted as **{predicted}**" in [
        m.value.split(" (the first")[0] for m in at.markdown
    ]


def test_comparing_two_models_shows_both(monkeypatch, drawn_set):
    folder, images, labels = drawn_set
    at = run_page(monkeypatch, folder)
    assert not at.exception
    compare = at.tabs[1]
    assert [m.value for m in compare.markdown if m.value.startswith("####")] == ["#### ann", "#### cnn"]
    accuracies = [m.value for m in compare.metric if m.label == "Accuracy"]
    expected = [f"{evaluate(predict(load_model(n), images), labels).accuracy:.2%}" for n in ("ann", "cnn")]
    assert accuracies == expected
    assert any("test images: **ann** right on" in m.value for m in compare.markdown)


def test_without_mnist_the_page_explains_and_shows_the_cards_figures(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", tmp_path / "nothing")
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "nothing")
    at = run_page(monkeypatch, tmp_path / "empty")
    assert not at.exception
    assert "DIGIT_DATA_DIR" in at.warning[0].value
    assert metrics(at)["Accuracy"] == f"{read_card('cnn')['test_accuracy']:.2%}"


def test_the_rates_switch_writes_rates_in_the_cells(monkeypatch, drawn_set):
    def rates(at):
        at.session_state["eval_rates"] = True

    at = run_page(monkeypatch, drawn_set[0], setup=rates)
    assert not at.exception
    spec = elements(at.tabs[0], "UnknownElement")[0].proto.spec
    assert '"format": ".1%"' in spec and '"field": "rate"' in spec


def test_a_model_card_without_figures_gets_a_warning_not_a_crash(monkeypatch, tmp_path):
    import shutil

    from digit_core.registry import MODELS_DIR_ENV, PROJECT_MODELS_DIR

    shutil.copy(PROJECT_MODELS_DIR / "ann.keras", tmp_path / "ann.keras")
    (tmp_path / "ann.json").write_text('{"architecture": "ann"}')  # no confusion matrix stored
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", tmp_path / "nothing")
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "nothing")
    at = run_page(monkeypatch, tmp_path / "no-data")
    assert not at.exception
    assert any("No figures for model ann" in w.value for w in at.warning)


def test_the_handwriting_set_is_evaluated_like_mnist_and_shown_beside_it(monkeypatch, drawn_set, tmp_path):
    from digit_core.handwriting import DB_ENV, HandwritingStore

    folder, images, labels = drawn_set
    store = HandwritingStore(tmp_path / "hw.sqlite")
    store.add_many(images[:60], labels[:60])
    monkeypatch.setenv(DB_ENV, str(store.path))
    expected = {
        name: evaluate(predict(load_model(name), images[:60]), labels[:60]) for name in ("cnn", "ann")
    }

    at = run_page(monkeypatch, folder).radio(key="eval_source").set_value("My handwriting").run()
    assert not at.exception
    shown = metrics(at)
    assert shown["Accuracy"] == f"{expected['cnn'].accuracy:.2%}"
    assert shown["Errors"] == str(len(expected["cnn"].mistakes))
    assert any("your handwriting set" in c.value for c in at.tabs[0].caption)
    table = elements(block(at, "eval_versus"), "Dataframe")[0].value.set_index("model")
    for name in ("cnn", "ann"):
        assert table.loc[name, "my handwriting"] == pytest.approx(expected[name].accuracy)
        assert table.loc[name, "MNIST"] == pytest.approx(read_card(name)["test_accuracy"])


def test_an_empty_handwriting_set_says_how_to_fill_it(monkeypatch, drawn_set, tmp_path):
    from digit_core.handwriting import DB_ENV

    monkeypatch.setenv(DB_ENV, str(tmp_path / "none.sqlite"))
    at = run_page(monkeypatch, drawn_set[0]).radio(key="eval_source").set_value("My handwriting").run()
    assert not at.exception
    assert any("handwriting set is empty" in i.value for i in at.info)
    assert not at.metric  # must not: show MNIST figures as if they were the handwriting's


def test_the_versus_tab_adds_the_handwriting_set_even_when_mnist_is_the_test_set(
    monkeypatch, drawn_set, tmp_path
):
    from digit_core.handwriting import DB_ENV, HandwritingStore

    folder, images, labels = drawn_set
    store = HandwritingStore(tmp_path / "hw.sqlite")
    store.add_many(images[:20], labels[:20])
    monkeypatch.setenv(DB_ENV, str(store.path))
    at = run_page(monkeypatch, folder)
    assert not at.exception
    table = elements(block(at, "eval_versus"), "Dataframe")[0].value.set_index("model")
    expected = evaluate(predict(load_model("ann"), images[:20]), labels[:20]).accuracy
    assert table.loc["ann", "my handwriting"] == pytest.approx(expected)


@pytest.fixture(scope="module")
def uci_read():
    """What each shipped model reads of the UCI digits sent through the upload path, computed
    here with predict_uploads (the upload page's own function), not with the page's cache."""
    files = other_writers.uci_files()
    truth = other_writers.uci_labels()
    read = {}
    for name in ("cnn", "ann"):
        results = predict_uploads(load_model(name), files)
        digits = np.array([-1 if r.prediction is None else r.prediction.digit for r in results])
        read[name] = digits
    return truth, read


def test_other_writers_are_a_test_set_read_through_the_upload_path(monkeypatch, drawn_set, uci_read):
    truth, read = uci_read
    at = run_page(monkeypatch, drawn_set[0]).radio(key="eval_source").set_value("Other writers (UCI)").run()
    assert not at.exception
    shown = metrics(at)
    accepted = read["cnn"] >= 0
    expected = (read["cnn"][accepted] == truth[accepted]).mean()
    assert shown["Accuracy"] == f"{expected:.2%}"
    assert shown["Errors"] == str(int((read["cnn"][accepted] != truth[accepted]).sum()))
    assert any("1,797 UCI digits" in c.value for c in at.tabs[0].caption)
    # must not: fall back to the MNIST test set's figures
    assert shown["Accuracy"] != f"{read_card('cnn')['test_accuracy']:.2%}"


def test_the_versus_tab_says_how_far_mnist_overstates_other_writers(monkeypatch, drawn_set, uci_read):
    truth, read = uci_read
    folder, images, labels = drawn_set
    at = run_page(monkeypatch, folder)
    assert not at.exception
    table = elements(block(at, "eval_versus"), "Dataframe")[0].value.set_index("model")
    for name in ("cnn", "ann"):
        others = (read[name] == truth).mean()  # a refused file counts as misread
        mnist = evaluate(predict(load_model(name), images), labels).accuracy
        assert table.loc[name, "other writers"] == pytest.approx(others)
        assert table.loc[name, "MNIST"] == pytest.approx(mnist)
        assert table.loc[name, "gap"] == pytest.approx(mnist - others)


def test_the_robustness_tab_draws_a_curve_per_distortion_measured_as_the_library_does(monkeypatch, drawn_set):
    from digit_core.robustness import AMOUNTS, accuracy_curves
    from ui.robustness import _memo, subset

    folder, images, labels = drawn_set

    def measure(at):
        at.session_state["eval_robustness"] = True

    at = run_page(monkeypatch, folder, setup=measure)
    assert not at.exception
    charts = elements(block(at, "eval_robustness_charts"), "UnknownElement")
    assert [c.type for c in charts] == ["vega_lite_chart"] * len(AMOUNTS)
    titles = [c.proto.spec for c in charts]
    assert "off-centre" in titles[0] and "turned" in titles[1] and "thicker pen" in titles[2]
    # The numbers the charts show, computed here without the page's cache.
    picked, truth = subset(images, labels)
    loaded = {name: load_model(name) for name in ("ann", "cnn")}
    models = {name: (lambda x, m=model: predict(m, x)) for name, model in loaded.items()}
    points = accuracy_curves(models, picked, truth)
    unshifted = {p.model: p.accuracy for p in points if p.distortion == "shift" and p.amount == 0}
    assert unshifted["cnn"] == pytest.approx((predict(load_model("cnn"), picked).argmax(1) == truth).mean())
    (frame,) = [f for f in _memo()["curves"].values() if len(f) == len(points)]  # the page's figures
    shown = {(r.model, r.distortion, r.amount): r.accuracy for r in frame.itertuples()}
    assert shown == {(p.model, p.distortion, p.amount): pytest.approx(p.accuracy) for p in points}


def test_the_robustness_tab_measures_nothing_until_asked(monkeypatch, drawn_set):
    at = run_page(monkeypatch, drawn_set[0])
    assert not at.exception
    assert any("Measure robustness" in i.value for i in at.info)
    with pytest.raises(AssertionError):
        block(at, "eval_robustness_charts")  # must not: spend the time on every visit


def test_the_eights_cell_says_an_8(monkeypatch, drawn_set):
    def choose(at):
        at.session_state["eval_true"] = 8
        at.session_state["eval_predicted"] = 8

    at = run_page(monkeypatch, drawn_set[0], setup=choose)
    assert not at.exception
    assert any("test images of an **8** predicted as **8**" in m.value for m in at.markdown)
    assert not any("of a **8**" in m.value for m in at.markdown)  # must not: "a 8"
