"""The app's altair charts: data in, an ``alt.Chart`` out. No Streamlit here, so each chart can be
built and checked (``chart.to_dict()``) without a running app."""

from __future__ import annotations

import altair as alt
import pandas as pd

LOG_FLOOR = 1e-5  # the log-scale chart's floor: smaller probabilities are drawn at it
TRAINING_PLOT_HEIGHT = 200  # px of plot, titles, axes and legend come on top
# Fit the width only: Streamlit's default "fit" squeezes title, axes and legend into the height,
# which left a per-epoch chart 20 px of plot.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
RUN_COLOURS = ["#4C6EF5", "#F76707", "#2B8A3E"]  # a race's runs: blue, orange, green


def probability_chart(probabilities, highlight: int, height: int = 220, log: bool = False) -> alt.Chart:
    """Bar chart of the ten probabilities, the predicted digit highlighted, with tooltips; on a
    log scale (down to :data:`LOG_FLOOR`) with ``log``, so that 0.1 % and 0.001 % differ."""
    values = [float(p) for p in probabilities]
    frame = pd.DataFrame(
        {
            "digit": [str(d) for d in range(10)],
            "probability": values,
            "shown": [max(v, LOG_FLOOR) for v in values] if log else values,
        }
    )
    frame["predicted"] = frame["digit"] == str(highlight)
    scale = alt.Scale(type="log", domain=[LOG_FLOOR, 1]) if log else alt.Scale(domain=[0, 1])
    return (
        alt.Chart(frame, height=height)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", sort=None, axis=alt.Axis(labelAngle=0, title="digit")),
            y=alt.Y(
                "shown:Q" if log else "probability:Q",
                scale=scale,
                axis=alt.Axis(format="%", title="probability"),
            ),
            color=alt.condition("datum.predicted", alt.value("#4C6EF5"), alt.value("#ADB5BD")),
            tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("probability:Q", format=".3%")],
        )
    )


def confusion_heatmap(
    confusion, rates, by_rate: bool = False, selectable: bool = False, size: int = 380
) -> alt.Chart:
    """Heatmap of a confusion matrix (rows true, columns predicted) showing counts, or the
    row-normalised ``rates`` when ``by_rate``; both on hover.

    With ``selectable``, clicking a cell selects its ``true`` and ``predicted`` digits (the
    selection is named ``cell``).
    """
    rows = [
        {"true": t, "predicted": p, "count": int(confusion[t][p]), "rate": float(rates[t][p])}
        for t in range(10)
        for p in range(10)
    ]
    frame = pd.DataFrame(rows)
    field = "rate" if by_rate else "count"
    base = alt.Chart(frame, width=size, height=size).encode(
        x=alt.X("predicted:O", title="predicted digit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:O", title="true digit"),
    )
    # A log-like colour scale: the diagonal would otherwise wash out every mistake.
    heat = base.mark_rect().encode(
        color=alt.Color(f"{field}:Q", scale=alt.Scale(type="symlog", scheme="blues"), legend=None),
        tooltip=[
            alt.Tooltip("true:O"),
            alt.Tooltip("predicted:O"),
            alt.Tooltip("count:Q"),
            alt.Tooltip("rate:Q", format=".2%", title="share of true digit"),
        ],
    )
    if selectable:
        picked = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
        heat = heat.add_params(picked).encode(opacity=alt.condition(picked, alt.value(1.0), alt.value(0.55)))
    text = base.mark_text(fontSize=11 if not by_rate else 9).encode(
        text=alt.Text(f"{field}:Q", format=".1%" if by_rate else "d"),
        color=alt.condition(alt.datum.true == alt.datum.predicted, alt.value("white"), alt.value("#333")),
    )
    return heat + text


def per_class_bars(per_model: dict[str, list[float]], title: str = "accuracy") -> alt.Chart:
    """Bars of a per-digit figure; several models side by side when ``per_model`` has several."""
    frame = pd.DataFrame(
        [
            {"digit": str(d), "model": name, title: float(v)}
            for name, values in per_model.items()
            for d, v in enumerate(values)
        ]
    )
    low = max(0.0, float(frame[title].min()) - 0.02)
    several = len(per_model) > 1
    return (
        alt.Chart(frame, height=240)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
            xOffset="model:N",
            y=alt.Y(
                f"{title}:Q",
                scale=alt.Scale(domain=[low, 1.0], clamp=True),
                axis=alt.Axis(format=".0%", title=title, labelPadding=4),
            ),
            color=alt.Color("model:N", legend=alt.Legend(orient="top") if several else None),
            tooltip=["model:N", "digit:N", alt.Tooltip(f"{title}:Q", format=".2%")],
        )
    )


def counts_chart(counts: list[int]) -> alt.Chart:
    """Bars of how many samples there are of each digit."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "samples": counts})
    return (
        alt.Chart(frame, height=160)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("samples:Q", axis=alt.Axis(tickMinStep=1)),
            tooltip=["digit:N", "samples:Q"],
        )
    )


def test_set_bars(frame: pd.DataFrame) -> alt.Chart:
    """Each model's accuracy on each test set, grouped by model; ``frame`` has a ``model`` column
    and one column of accuracies per test set."""
    long = frame.melt("model", var_name="test set", value_name="accuracy")
    return (
        alt.Chart(long, height=260)
        .mark_bar()
        .encode(
            x=alt.X("model:N", axis=alt.Axis(labelAngle=0)),
            xOffset="test set:N",
            y=alt.Y("accuracy:Q", axis=alt.Axis(format="%")),
            color="test set:N",
            tooltip=["model:N", "test set:N", alt.Tooltip("accuracy:Q", format=".2%")],
        )
    )


def _run_colour(runs: dict) -> dict:
    """One colour per run when several share a chart (a race), with the legend on top."""
    if len(runs) < 2:
        return {}
    names = sorted(runs)
    colours = alt.Scale(domain=names, range=RUN_COLOURS[: len(names)])
    return {"color": alt.Color("model:N", scale=colours, legend=alt.Legend(orient="top", title=None))}


def batch_loss_chart(runs: dict[str, tuple[list[int], list[float], int]]) -> alt.Chart:
    """The smoothed training loss after every batch, with the epoch on the x axis; ``runs`` maps a
    run's name to ``(steps, losses, batches per epoch)``."""
    rows = [
        {"model": name, "epoch": step / max(1, batches), "loss": loss}
        for name, (steps, losses, batches) in runs.items()
        for step, loss in zip(steps, losses)
    ]
    return (
        alt.Chart(
            pd.DataFrame(rows, columns=["model", "epoch", "loss"]),
            height=TRAINING_PLOT_HEIGHT,
            title="training loss per batch (smoothed)",
            autosize=FIT_WIDTH,
        )
        .mark_line()
        .encode(
            x=alt.X("epoch:Q", title="epoch"),
            y=alt.Y("loss:Q", scale=alt.Scale(zero=False), title="loss"),
            tooltip=["model:N", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip("loss:Q", format=".4f")],
            **_run_colour(runs),
        )
    )


def epoch_chart(runs: dict[str, list[dict]], metric: str) -> alt.Chart:
    """One metric ("loss" or "accuracy") per epoch, training against validation, for each run of
    ``runs`` (name -> per-epoch history): one colour per set, or per run and a dash for the set."""
    rows = []
    for name, history in runs.items():
        for entry in history:
            rows.append({"model": name, "epoch": entry["epoch"], "set": "training", metric: entry[metric]})
            if entry.get(f"val_{metric}") is not None:
                rows.append(
                    {
                        "model": name,
                        "epoch": entry["epoch"],
                        "set": "validation",
                        metric: entry[f"val_{metric}"],
                    }
                )
    axis = alt.Axis(format=".1%") if metric == "accuracy" else alt.Axis()
    chart = alt.Chart(
        pd.DataFrame(rows), height=TRAINING_PLOT_HEIGHT, title=f"{metric} per epoch", autosize=FIT_WIDTH
    )
    legend = alt.Legend(orient="bottom", title=None)
    by_set = (
        {
            "strokeDash": alt.StrokeDash("set:N", legend=legend),
            "shape": alt.Shape("set:N", legend=legend),
            **_run_colour(runs),
        }
        if len(runs) > 1
        else {"color": alt.Color("set:N", legend=legend)}
    )
    return chart.mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False), axis=axis),
        detail="set:N",
        tooltip=["model:N", "epoch:Q", "set:N", alt.Tooltip(f"{metric}:Q", format=".4f")],
        **by_set,
    )


def history_chart(history: list[dict]) -> alt.Chart:
    """Loss and accuracy per epoch, training against validation, from a model card's history."""
    rows = []
    for entry in history:
        for metric in ("loss", "accuracy"):
            rows.append(
                {"epoch": entry["epoch"], "metric": metric, "set": "training", "value": entry[metric]}
            )
            if entry.get(f"val_{metric}") is not None:
                rows.append(
                    {
                        "epoch": entry["epoch"],
                        "metric": metric,
                        "set": "validation",
                        "value": entry[f"val_{metric}"],
                    }
                )
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, height=220)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
            color="set:N",
            tooltip=["epoch:Q", "set:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .facet(column=alt.Column("metric:N", title=None))
        .resolve_scale(y="independent")
    )


def robustness_chart(frame: pd.DataFrame, title: str, unit: str) -> alt.Chart:
    """Accuracy (y) against the amount of one distortion (x), one line per model, with points and
    tooltips. ``frame`` has columns model, amount, accuracy."""
    models = sorted(frame["model"].unique())
    palette = ["#E8590C", "#4C6EF5", "#2B8A3E", "#862E9C"]
    return (
        alt.Chart(frame, height=200, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("amount:Q", title=unit, axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(
                "accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", title="accuracy")
            ),
            color=alt.Color(
                "model:N", title="model", scale=alt.Scale(domain=models, range=palette[: len(models)])
            ),
            tooltip=[
                alt.Tooltip("model:N"),
                alt.Tooltip("amount:Q"),
                alt.Tooltip("accuracy:Q", format=".1%"),
            ],
        )
    )
