"""The app's charts as vega-lite specs (``ui.charts`` needs no Streamlit): each cell, bar and axis
carries the number a reader takes from it."""

import numpy as np
import pytest

from ui.charts import batch_loss_chart, confusion_heatmap, epoch_chart, per_class_bars, probability_chart

# Every cell different, and confusion[t][p] != confusion[p][t]: a swapped axis cannot go unseen.
CONFUSION = [[100 * (t == p) + 10 * t + p for p in range(10)] for t in range(10)]
RATES = [[count / sum(row) for count in row] for row in CONFUSION]


def rows_of(spec: dict) -> list[dict]:
    [rows] = spec["datasets"].values()
    return rows


def shown(spec: dict, layer: dict, channel: str) -> dict[tuple[int, int], float]:
    """What the layer shows in ``channel`` ("color" or "text") at each (x, y) position of the plot."""
    encoding = layer["encoding"]
    x, y, value = encoding["x"]["field"], encoding["y"]["field"], encoding[channel]["field"]
    return {(row[x], row[y]): row[value] for row in rows_of(spec)}


@pytest.mark.parametrize("by_rate", [False, True])
@pytest.mark.parametrize("selectable", [False, True])
def test_the_heatmap_shows_true_digits_down_and_predicted_digits_across(by_rate, selectable):
    spec = confusion_heatmap(CONFUSION, RATES, by_rate=by_rate, selectable=selectable).to_dict()
    expected = RATES if by_rate else CONFUSION
    heat, text = spec["layer"]
    for layer in (heat, text):
        x, y = layer["encoding"]["x"], layer["encoding"]["y"]
        assert (x["field"], x["title"], x["type"]) == ("predicted", "predicted digit", "ordinal")
        assert (y["field"], y["title"], y["type"]) == ("true", "true digit", "ordinal")
    colour, label = shown(spec, heat, "color"), shown(spec, text, "text")
    assert len(colour) == len(label) == 100
    for t in range(10):
        for p in range(10):
            # Column p (x, predicted), row t (y, true): confusion[t][p], in colour and in figures.
            assert colour[p, t] == pytest.approx(expected[t][p]), (t, p)
            assert label[p, t] == pytest.approx(expected[t][p]), (t, p)


def test_the_heatmap_tooltip_gives_both_the_count_and_the_rate_of_the_cell_pointed_at():
    spec = confusion_heatmap(CONFUSION, RATES).to_dict()
    tooltip = {item["field"]: item for item in spec["layer"][0]["encoding"]["tooltip"]}
    assert set(tooltip) == {"true", "predicted", "count", "rate"}
    for row in rows_of(spec):
        assert row["count"] == CONFUSION[row["true"]][row["predicted"]]
        assert row["rate"] == pytest.approx(RATES[row["true"]][row["predicted"]])


def test_clicking_a_cell_selects_its_true_and_predicted_digit():
    spec = confusion_heatmap(CONFUSION, RATES, selectable=True).to_dict()
    [param] = spec["params"]
    assert param["name"] == "cell" and param["select"]["fields"] == ["true", "predicted"]
    assert "params" not in confusion_heatmap(CONFUSION, RATES).to_dict()


def test_the_probability_chart_puts_each_probability_over_its_digit_and_marks_the_answer():
    probabilities = np.linspace(0.01, 0.1, 10)
    spec = probability_chart(probabilities, highlight=7).to_dict()
    encoding = spec["encoding"]
    assert (encoding["x"]["field"], encoding["y"]["field"]) == ("digit", "probability")
    rows = rows_of(spec)
    assert [row["digit"] for row in rows] == [str(d) for d in range(10)]
    assert [row["probability"] for row in rows] == pytest.approx(probabilities)
    assert [row["digit"] for row in rows if row["predicted"]] == ["7"]


def test_the_log_scale_chart_shows_tiny_probabilities_down_to_its_floor():
    from ui.charts import LOG_FLOOR

    probabilities = np.array([0.0, 1e-7, 1e-4] + [0.0] * 6 + [0.9999])
    spec = probability_chart(probabilities, highlight=9, log=True).to_dict()
    assert spec["encoding"]["y"]["scale"] == {"type": "log", "domain": [LOG_FLOOR, 1]}
    rows = rows_of(spec)
    assert [row["shown"] for row in rows[:3]] == pytest.approx([LOG_FLOOR, LOG_FLOOR, 1e-4])
    assert [row["probability"] for row in rows[:3]] == pytest.approx([0.0, 1e-7, 1e-4])  # the tooltip


def test_per_digit_bars_show_each_models_value_for_each_digit():
    values = {"ann": [0.90 + d / 1000 for d in range(10)], "cnn": [0.95 + d / 1000 for d in range(10)]}
    spec = per_class_bars(values).to_dict()
    assert (spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]) == ("digit", "accuracy")
    found = {(row["model"], int(row["digit"])): row["accuracy"] for row in rows_of(spec)}
    assert found == {(model, d): pytest.approx(v[d]) for model, v in values.items() for d in range(10)}


def test_the_robustness_chart_draws_one_line_per_model_through_its_accuracies():
    import pandas as pd

    from ui.charts import robustness_chart

    frame = pd.DataFrame(
        {"model": ["ann", "ann", "cnn", "cnn"], "amount": [0, 6, 0, 6], "accuracy": [0.99, 0.7, 0.99, 0.95]}
    )
    spec = robustness_chart(frame, "Test digits moved off-centre", "shifted by (px)").to_dict()
    values = next(iter(spec["datasets"].values()))
    assert [(v["model"], v["amount"], v["accuracy"]) for v in values] == list(frame.itertuples(index=False))
    assert spec["mark"]["type"] == "line" and spec["mark"]["point"] is True
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["encoding"]["color"]["scale"]["domain"] == ["ann", "cnn"]  # one colour per model
    assert spec["title"] == "Test digits moved off-centre"


HISTORY = [
    {
        "epoch": e,
        "loss": 1 / e,
        "val_loss": 0.9 / e,
        "accuracy": 0.8 + e / 100,
        "val_accuracy": 0.85 + e / 100,
    }
    for e in (1, 2, 3)
]


def test_the_training_charts_have_200_px_of_plot_whole_epochs_and_a_percent_axis():
    for spec in (
        epoch_chart({"CNN": HISTORY}, "accuracy").to_dict(),
        batch_loss_chart({"CNN": ([1, 2, 3], [2.3, 2.0, 1.8], 3)}).to_dict(),
    ):
        # Only the width is fitted: title, axes and legend come on top of the 200 px of plot.
        assert spec["height"] >= 200 and spec["autosize"]["type"] == "fit-x"
    encoding = epoch_chart({"CNN": HISTORY}, "accuracy").to_dict()["encoding"]
    assert encoding["x"]["axis"]["tickMinStep"] == 1 and encoding["x"]["axis"]["format"] == "d"
    assert encoding["y"]["axis"]["format"] == ".1%"
    assert encoding["color"]["field"] == "set" and "strokeDash" not in encoding  # one run: a colour per set


def test_a_race_shares_the_training_charts_one_colour_per_network_and_a_dash_per_set():
    runs = {"CNN": HISTORY, "ANN": HISTORY[:2]}
    spec = epoch_chart(runs, "loss").to_dict()
    encoding = spec["encoding"]
    assert encoding["color"]["field"] == "model" and encoding["strokeDash"]["field"] == "set"
    colours = encoding["color"]["scale"]
    assert colours["domain"] == ["ANN", "CNN"] and len(set(colours["range"])) == 2
    drawn = {(row["model"], row["set"]) for row in rows_of(spec)}
    assert drawn == {(m, s) for m in ("CNN", "ANN") for s in ("training", "validation")}
    assert len(rows_of(spec)) == 2 * (3 + 2)
    batches = batch_loss_chart({"CNN": ([1, 2], [2.3, 2.1], 4), "ANN": ([1, 2], [2.4, 2.2], 4)}).to_dict()
    assert batches["encoding"]["color"]["field"] == "model"
    assert {row["epoch"] for row in rows_of(batches)} == {0.25, 0.5}  # batch 2 of 4 = half an epoch
