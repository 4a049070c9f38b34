"""The Draw & Predict page through AppTest, with the canvas replaced by drawings made here."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digit_core.handwriting import DB_ENV, HandwritingStore
from digit_core.inference import predict
from digit_core.preprocess import to_mnist
from digit_core.registry import load_model
from tests.support import strokes
from tests.support.helpers import block, elements, script
from ui import widgets
from ui.navigation import DRAW

PAGE = script(DRAW)


def drawing(digit, **style):
    return strokes.draw_digit(
        digit, strokes.Style(width=18, **style), ink=(255, 255, 255, 255), paper=(0, 0, 0, 255)
    )


def number(digits, size=(700, 200)):
    lines = []
    for i, digit in enumerate(digits):
        for stroke in strokes.place(digit, strokes.Style(size=size[1], height=0.7, width=16)):
            lines.append([(x + 100 + i * 220, y) for x, y in stroke])  # centres 200, 420, 640
    return strokes.render(lines, size, 16, ink=(255, 255, 255, 255), paper=(0, 0, 0, 255))


def run_page(monkeypatch, canvases: dict, setup=None):
    """Run the page with ``canvases`` mapping canvas keys to the images they return."""
    monkeypatch.setattr(widgets, "canvas_image_ui", lambda key, *args: canvases.get(key))
    at = AppTest.from_file(PAGE, default_timeout=120)
    if setup:
        setup(at)
    return at.run()


def test_blank_canvas_shows_the_prompt_not_a_guess(monkeypatch):
    at = run_page(monkeypatch, {})
    assert not at.exception
    prediction = block(at, "prediction")
    assert "Draw a digit" in elements(prediction, "Info")[0].value
    assert not elements(prediction, "Metric")  # must not: guess a digit for an empty canvas


@pytest.mark.parametrize("digit", [3, 7])
def test_a_drawn_digit_is_predicted_with_its_chart_and_what_the_model_sees(monkeypatch, digit):
    at = run_page(monkeypatch, {"draw_canvas": drawing(digit)})
    assert not at.exception
    prediction = block(at, "prediction")
    metric = elements(prediction, "Metric")[0]
    assert metric.label == "Prediction" and metric.value == str(digit)
    assert [chart.type for chart in elements(prediction, "UnknownElement")] == ["vega_lite_chart"]
    assert not at.warning  # must not: doubt a clear digit at the default threshold
    captions = [caption for image in elements(at._tree, "Image") for caption in image.captions]
    assert "What the model sees (28×28)" in captions and "Why the CNN said so: Grad-CAM" in captions


def test_below_the_threshold_the_page_names_the_two_likeliest_digits(monkeypatch):
    # Two digits drawn over each other: the model cannot be sure, and the page must say so.
    model = load_model("cnn")
    blends = [np.maximum(drawing(a), drawing(b)) for a, b in ((4, 9), (3, 8), (1, 7), (5, 6))]
    chances = [predict(model, to_mnist(image))[0] for image in blends]
    image, probabilities = min(zip(blends, chances), key=lambda pair: pair[1].max())
    first, second = np.argsort(probabilities)[::-1][:2]
    assert probabilities[first] < 0.98, "no blend was ambiguous enough to test doubt"

    def sure_above(at):
        at.session_state["draw_threshold"] = round(float(probabilities[first]) + 0.01, 3)

    at = run_page(monkeypatch, {"draw_canvas": image}, setup=sure_above)
    assert not at.exception
    assert f"**{first}**" in at.warning[0].value and f"**{second}**" in at.warning[0].value


def test_ann_vs_cnn_shows_both_answers(monkeypatch):
    def compare(at):
        at.session_state["draw_compare"] = True

    at = run_page(monkeypatch, {"draw_canvas": drawing(2)}, setup=compare)
    assert not at.exception
    prediction = block(at, "prediction")
    assert [m.value for m in elements(prediction, "Metric")] == ["2", "2"]
    assert [c.value for c in elements(prediction, "Caption")] == ["ANN", "CNN"]


def test_a_written_number_is_read_left_to_right(monkeypatch):
    at = run_page(monkeypatch, {"draw_number_canvas": number([4, 7, 1])})
    assert not at.exception
    metric = elements(block(at, "number"), "Metric")[0]
    assert (metric.label, metric.value) == ("Number", "471")


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_get_their_own_results_and_a_bad_file_its_own_message(monkeypatch):
    at = run_page(monkeypatch, {})
    on_paper = strokes.draw_digit(5, strokes.Style(width=18), ink=(0, 0, 0, 255), paper=(255, 255, 255, 255))
    at.file_uploader(key="draw_uploads").set_value(
        [
            ("five.png", png(on_paper), "image/png"),
            ("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"),
        ]
    ).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["file"].tolist() == ["five.png", "broken.png"]
    assert table["digit"].tolist()[0] == 5
    # Names are escaped for Markdown, so that a name is shown as it is: compare the displayed text.
    assert any(error.value.replace("\\", "").startswith("broken.png: ") for error in at.error)
    assert [b.proto.label for b in elements(at._tree, "DownloadButton")] == ["Download CSV", "Download JSON"]


def test_without_models_the_page_says_how_to_train_one(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_MODELS_DIR", str(tmp_path))
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    assert not at.exception
    assert "python -m digit_core train" in at.error[0].value
    assert not at.metric  # must not: predict without a model


def test_a_model_file_that_cannot_load_gets_a_message_not_a_traceback(monkeypatch, tmp_path):
    # A zip archive named like a model: listed as whole, refused by Keras when loaded.
    import zipfile

    with zipfile.ZipFile(tmp_path / "cnn.keras", "w") as archive:
        archive.writestr("config.json", "{not a keras config")
    (tmp_path / "cnn.json").write_text('{"architecture": "cnn"}')
    monkeypatch.setenv("DIGIT_MODELS_DIR", str(tmp_path))
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    assert not at.exception
    assert "cannot be used" in at.error[0].value and "python -m digit_core train" in at.error[0].value


def test_every_upload_gets_a_thumbnail_of_what_the_model_saw(monkeypatch):
    at = run_page(monkeypatch, {})
    files = [(f"digit{i}.png", png(drawing(i % 10)), "image/png") for i in range(8)]
    at.file_uploader(key="draw_uploads").set_value(files).run()
    assert not at.exception
    captions = [c for image in elements(at._tree, "Image") for c in image.captions if c.startswith("digit")]
    assert captions == [f"digit{i}.png: {i % 10}" for i in range(8)]


def test_a_file_name_is_shown_as_written_not_as_markdown(monkeypatch):
    at = run_page(monkeypatch, {})
    name = "**loud**_[x](y).png"
    at.file_uploader(key="draw_uploads").set_value([(name, b"not an image", "image/png")]).run()
    assert not at.exception
    assert at.error[0].value.startswith("\\*\\*loud\\*\\*\\_\\[x\\]\\(y\\)\\.png: ")


@pytest.fixture
def handwriting_db(monkeypatch, tmp_path):
    path = tmp_path / "handwriting.sqlite"
    monkeypatch.setenv(DB_ENV, str(path))
    return HandwritingStore(path)


def test_typing_the_right_digit_saves_a_correction_to_the_handwriting_set(monkeypatch, handwriting_db):
    seven = drawing(7)
    at = run_page(monkeypatch, {"draw_canvas": seven})
    assert handwriting_db.counts() == [0] * 10  # must not: save anything unasked
    at.text_input(key="draw_label").set_value("1").run()
    assert not at.exception and not at.error
    [sample] = handwriting_db.samples()
    assert (sample.label, sample.predicted, sample.model) == (1, 7, "cnn") and sample.confidence > 0.9
    np.testing.assert_array_equal(sample.image, (to_mnist(seven) * 255).round().astype(np.uint8))
    assert np.asarray(Image.open(io.BytesIO(handwriting_db.drawing(sample.id)))).shape == (280, 280, 4)
    assert any("Saved as a **1**" in s.value for s in elements(block(at, "draw_save"), "Success"))
    assert at.text_input(key="draw_label").value == ""  # ready for the next digit
    assert at.button(key="draw_confirm").disabled  # must not: save the same drawing twice


def test_one_click_confirms_the_prediction(monkeypatch, handwriting_db):
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    at.button(key="draw_confirm").click().run()
    assert not at.exception
    assert [(s.label, s.predicted) for s in handwriting_db.samples()] == [(3, 3)]


@pytest.mark.parametrize("typed", ["x", "²", "٣", "-"])
def test_typing_something_else_than_a_digit_is_refused(monkeypatch, handwriting_db, typed):
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    at.text_input(key="draw_label").set_value(typed).run()
    assert not at.exception
    assert any("Type one digit" in e.value for e in at.error)
    assert handwriting_db.counts() == [0] * 10


def test_a_confirmation_for_an_earlier_drawing_saves_nothing(monkeypatch, handwriting_db):
    canvases = {"draw_canvas": drawing(3)}
    at = run_page(monkeypatch, canvases)
    at.button(key="draw_confirm").click()
    canvases["draw_canvas"] = drawing(7)  # a stroke arrived between the click and its run
    at.run()
    assert not at.exception
    assert handwriting_db.counts() == [0] * 10


def test_a_damaged_handwriting_set_gives_a_message_and_the_prediction_stays(monkeypatch, handwriting_db):
    handwriting_db.path.write_bytes(b"not a database" * 200)
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    at.button(key="draw_confirm").click().run()
    assert not at.exception
    assert any("is damaged" in e.value for e in at.error)
    assert elements(block(at, "prediction"), "Metric")[0].value == "3"


def test_a_scribble_is_flagged_as_not_a_digit_while_the_guess_is_still_shown(monkeypatch):
    rng = np.random.default_rng(0)
    scribble = np.zeros((280, 280, 4), np.uint8)
    scribble[..., 3] = 255
    dots = rng.random((280, 280)) < 0.08  # specks all over, as a pen tapped at random
    scribble[dots, :3] = 255
    at = run_page(monkeypatch, {"draw_canvas": scribble})
    assert not at.exception
    prediction = block(at, "prediction")
    assert any("does not look like a digit" in e.value for e in elements(prediction, "Error"))
    assert elements(prediction, "Metric")  # the model's answer is still there
    assert not [b for b in at.button if b.key == "draw_confirm"]  # must not: offer to save it


def test_a_clear_digit_is_not_flagged(monkeypatch):
    at = run_page(monkeypatch, {"draw_canvas": drawing(4)})
    assert not at.exception
    # What the page shows after reading the canvas: the answer, its chart, what the model saw ...
    prediction = block(at, "prediction")
    assert [m.value for m in elements(prediction, "Metric")] == ["4"]
    assert [chart.type for chart in elements(prediction, "UnknownElement")] == ["vega_lite_chart"]
    captions = [caption for image in elements(at._tree, "Image") for caption in image.captions]
    assert "What the model sees (28×28)" in captions
    # ... and no flag on it.
    assert not elements(prediction, "Warning") and not at.warning


def touching(digits, gap=60, size=(700, 200)):
    """Digits drawn ``gap`` px apart (centre to centre), so close that their strokes touch."""
    lines = []
    for i, digit in enumerate(digits):
        for stroke in strokes.place(digit, strokes.Style(size=size[1], height=0.7, width=16)):
            lines.append([(x + 100 + i * gap, y) for x, y in stroke])
    return strokes.render(lines, size, 16, ink=(255, 255, 255, 255), paper=(0, 0, 0, 255))


def test_a_touching_4_and_7_are_cut_apart_and_read_47(monkeypatch):
    at = run_page(monkeypatch, {"draw_number_canvas": touching([4, 7])})
    assert not at.exception
    number_block = block(at, "number")
    assert elements(number_block, "Metric")[0].value == "47"
    assert any("touched" in c.value for c in elements(number_block, "Caption"))
    assert not elements(number_block, "Warning")  # must not: doubt a clean cut


def test_a_drawn_digit_shows_each_conv_blocks_feature_maps_and_the_anns_templates(monkeypatch):
    at = run_page(monkeypatch, {"draw_canvas": drawing(5)})
    assert not at.exception
    cnn = block(at, "draw_inside_cnn")
    captions = [c.value for c in elements(cnn, "Caption")]
    assert [c.split(" (")[0] for c in captions if c.startswith("Convolution block")] == [
        "Convolution block 1",
        "Convolution block 2",
    ]
    for number in (1, 2):  # one grid of feature maps per block, 8 columns of small maps
        (grid,) = elements(block(at, f"draw_block_{number}"), "Image")
        assert grid.proto.imgs[0].url  # an image was sent
    ann = block(at, "draw_inside_ann")
    assert [c.value for c in elements(ann, "Caption") if c.value.startswith("Hidden layer")] == [
        "Hidden layer 1 (512 units)",
        "Hidden layer 2 (512 units)",
    ]
    assert elements(block(at, "draw_templates"), "Image")
    # every view has a colour legend whose ends are named
    assert any("◀ ▶" in c.value for c in elements(cnn, "Caption"))
    assert any("◀ ▶" in c.value for c in elements(ann, "Caption"))


def test_compare_mode_shows_both_saliency_maps(monkeypatch):
    def compare(at):
        at.session_state["draw_compare"] = True

    at = run_page(monkeypatch, {"draw_canvas": drawing(3)}, setup=compare)
    assert not at.exception
    images = elements(block(at, "draw_saliency"), "Image")
    captions = [caption for image in images for caption in image.captions]
    assert "Why the ANN said so: integrated gradients" in captions
    assert "Why the CNN said so: Grad-CAM" in captions


def test_without_compare_mode_only_the_chosen_models_saliency_map_is_shown(monkeypatch):
    at = run_page(monkeypatch, {"draw_canvas": drawing(3)})
    images = elements(block(at, "draw_saliency"), "Image")
    captions = [caption for image in images for caption in image.captions if caption.startswith("Why")]
    assert captions == ["Why the CNN said so: Grad-CAM"]


def test_shifting_the_drawing_fools_the_ann_before_the_cnn(monkeypatch):
    # The shipped ANN learned shifted digits too (augmentation), so it holds out to about 5 px.
    at = run_page(monkeypatch, {"draw_canvas": drawing(6)})
    answers = block(at, "draw_robust_answers")
    assert [m.value for m in elements(answers, "Metric")] == ["6", "6"]
    readings = []
    for shift in range(1, 7):
        at.slider(key="draw_shift_x").set_value(shift).run()
        assert not at.exception
        readings.append([m.value for m in elements(block(at, "draw_robust_answers"), "Metric")])
    first_ann = next((i for i, (ann, _) in enumerate(readings) if ann != "6"), len(readings))
    first_cnn = next((i for i, (_, cnn) in enumerate(readings) if cnn != "6"), len(readings))
    assert first_ann < first_cnn, readings


def test_the_top_3_view_lists_three_digits_instead_of_the_chart(monkeypatch):
    def top3(at):
        at.session_state["draw_view"] = "Top 3"

    at = run_page(monkeypatch, {"draw_canvas": drawing(7)}, setup=top3)
    assert not at.exception
    prediction = block(at, "prediction")
    assert not elements(prediction, "UnknownElement")  # must not: draw the chart as well
    (listing,) = [m.value for m in elements(prediction, "Markdown") if m.value.startswith("**7**")]
    assert listing.count("%") == 3


def test_an_8_is_an_8_not_a_8(monkeypatch):
    at = run_page(monkeypatch, {"draw_canvas": drawing(8)})
    assert not at.exception
    assert at.button(key="draw_confirm").label == "✓ It is an 8: save it"


@pytest.mark.parametrize("name", ["dot", "smiley", "wave"])
def test_a_non_digit_drawing_is_refused_with_its_reason_and_cannot_be_saved(monkeypatch, name):
    from tests.support import non_digits

    image = non_digits.draw(name, strokes.Style(width=18), ink=(255, 255, 255, 255), paper=(0, 0, 0, 255))
    at = run_page(monkeypatch, {"draw_canvas": image})
    assert not at.exception
    errors = [e.value for e in elements(block(at, "prediction"), "Error")]
    assert errors and errors[0].startswith("This does not look like a digit")
    assert not [b for b in at.button if b.key == "draw_confirm"]  # must not: offer to save it


def test_when_the_cut_cannot_be_told_the_number_says_so(monkeypatch):
    from digit_core import segment

    real = segment.split_digits

    def marked(image, read=None):  # the reader could not tell one digit from two
        return [segment.Piece(p.box, p.prepared, split=False, unsure=True) for p in real(image, read)]

    monkeypatch.setattr(segment, "split_digits", marked)
    at = run_page(monkeypatch, {"draw_number_canvas": touching([4, 7], gap=45)})
    assert not at.exception
    warnings = [w.value for w in elements(block(at, "number"), "Warning")]
    assert warnings and "cannot tell" in warnings[0]
