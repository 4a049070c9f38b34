"""The Train page's views of networks learning: progress, the curves (one run, or a race's two on
shared charts), the strip of test digits with the current guesses, and the validation confusion
matrix after each epoch. Each takes job snapshots (:class:`digit_core.jobs.Snapshot`)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw, ImageFont

from digit_core.data import DataError, MnistNotFoundError, load_mnist
from digit_core.jobs import LOADING, QUEUED, TESTING, format_duration, ordinal
from digit_core.nondigit import article
from digit_core.watching import CONFUSION, STRIP, strip_indices
from ui.charts import batch_loss_chart, confusion_heatmap, epoch_chart

RIGHT, WRONG = "#2B8A3E", "#C92A2A"
STRIP_COLUMNS = 5  # 340 px wide: a phone shows it whole, unscaled
WHY_TRAINING_IS_LOWER = (
    "Why can training accuracy sit below validation accuracy? Training accuracy is the mean over "
    "the epoch, while the network was still learning, of images it saw distorted (augmentation) "
    "with some units switched off (dropout); validation accuracy is measured once, at the epoch's "
    "end, on undistorted images with every unit on."
)


def progress_ui(snap) -> None:
    """Where a training is: queued, starting, in which epoch and batch, testing."""
    if not snap.running:
        tested = f"; test accuracy {snap.test_accuracy:.2%}" if snap.test_accuracy is not None else ""
        st.progress(1.0, text=f"Ended: {snap.state}{tested}")
    elif snap.state == QUEUED and snap.waiting_for == "engine":
        st.progress(0.0, text="Starting the training engine (Ray)…")
    elif snap.state == QUEUED:
        st.progress(
            0.0,
            text=(
                f"Queued, {ordinal(snap.queue_position or 1)} in line: every CPU for training is "
                f"busy, and it starts when a training ahead of it ends "
                f"({format_duration(snap.elapsed)} waiting so far)."
            ),
        )
    elif snap.state == LOADING:
        st.progress(0.0, text="Starting: a worker process loads TensorFlow and the data…")
    elif snap.state == TESTING:
        st.progress(1.0, text=f"Testing on the test set… ({format_duration(snap.elapsed)} so far)")
    elif snap.batch == 0:
        st.progress(0.0, text="Building the model and starting the first epoch…")
    else:
        left = f"about {format_duration(snap.eta)} left" if snap.eta is not None else "estimating the rest"
        st.progress(
            snap.fraction,
            text=(
                f"Epoch {snap.epoch} of {snap.epochs} · batch {snap.batch} of {snap.batches} · "
                f"{format_duration(snap.elapsed)} elapsed · {left}"
            ),
        )


def curves_ui(snaps: dict) -> None:
    """Smoothed per-batch loss and per-epoch curves of one run or of a race's runs (name ->
    snapshot) on shared charts; for one run, the table of its epochs too."""
    batch_column, loss_column, accuracy_column = st.columns(3)
    losses = {
        name: (snap.batch_steps, snap.batch_losses, snap.batches)
        for name, snap in snaps.items()
        if snap.batch_losses
    }
    if losses:
        batch_column.altair_chart(batch_loss_chart(losses), width="stretch")
    histories = {name: snap.history for name, snap in snaps.items() if snap.history}
    if not histories:
        loss_column.caption("Per-epoch training and validation curves appear when the first epoch ends.")
        return
    loss_column.altair_chart(epoch_chart(histories, "loss"), width="stretch")
    accuracy_column.altair_chart(epoch_chart(histories, "accuracy"), width="stretch")
    if any(snap.settings.get("augmentation") or snap.settings.get("dropout") for snap in snaps.values()):
        st.caption(WHY_TRAINING_IS_LOWER)
    if len(snaps) == 1:
        [snap] = snaps.values()
        epoch_table(snap.history)


def epoch_table(history: list[dict]) -> None:
    epochs = pd.DataFrame(history).drop(columns="epochs")
    # The one-cycle schedule ends at exactly 0: "0", not "0.00e+0".
    epochs["learning_rate"] = [f"{rate:.3g}" for rate in epochs["learning_rate"]]
    with st.container(key="train_epoch_table"):
        st.dataframe(
            epochs,
            hide_index=True,
            width="stretch",
            column_config={
                "loss": st.column_config.NumberColumn(format="%.4f"),
                "accuracy": st.column_config.NumberColumn(format="percent"),
                "val_loss": st.column_config.NumberColumn("validation loss", format="%.4f"),
                "val_accuracy": st.column_config.NumberColumn("validation accuracy", format="percent"),
                "learning_rate": st.column_config.TextColumn(
                    "learning rate", help="At the epoch's end: the schedule decays it to 0 by the last batch."
                ),
                "elapsed": st.column_config.NumberColumn("elapsed s", format="%.1f"),
            },
        )


@st.cache_resource(max_entries=4)
def _strip_digits(source: str, count: int) -> tuple[np.ndarray, list[int]]:
    """The strip's images (dark ink on white, as people write) and their labels."""
    mnist = load_mnist(download=False)
    chosen = strip_indices(mnist.test_labels)
    return 255 - mnist.test_images[chosen], [int(label) for label in mnist.test_labels[chosen]]


def strip_digits() -> tuple[np.ndarray, list[int]] | None:
    try:
        mnist = load_mnist(download=False)  # cached by digit_core.data
        return _strip_digits(mnist.source, len(mnist.test_labels))
    except (DataError, MnistNotFoundError):  # the files changed since the training began
        return None


def strip_picture(images: np.ndarray, labels: list[int], guesses: list[int]) -> Image.Image:
    """The digits in rows of five, each framed green when the guess is right and red (thicker)
    when wrong, with the guess written under it."""
    scale, frame, label_height = 2, 3, 22
    side = images.shape[1] * scale + 2 * frame
    cell_w, cell_h = side + 6, side + label_height
    rows = -(-len(images) // STRIP_COLUMNS)
    picture = Image.new("RGB", (STRIP_COLUMNS * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=16)
    for k, (image, label, guess) in enumerate(zip(images, labels, guesses)):
        colour = RIGHT if guess == label else WRONG
        left, top = (k % STRIP_COLUMNS) * cell_w + 3, (k // STRIP_COLUMNS) * cell_h
        draw.rectangle((left, top, left + side - 1, top + side - 1), fill=colour)
        # A wrong guess also gets a thicker frame, for those who cannot tell red from green.
        inset = frame if guess == label else 2 * frame
        digit = Image.fromarray(image).resize((side - 2 * inset,) * 2, Image.Resampling.NEAREST)
        picture.paste(digit, (left + inset, top + inset))
        draw.text((left + side / 2, top + side + 2), str(guess), fill=colour, font=font, anchor="mt")
    return picture


def png_data_url(picture: Image.Image) -> str:
    """The picture inline, as a ``data:`` URL: an image redrawn every second as a media file would
    now and then be asked for after the next run replaced it (a 404 and a broken image)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def strip_ui(snap, key: str = "train_strip") -> None:
    """The fixed test digits and the network's current guess for each, right in green, wrong in
    red; it changes about every second while the network trains."""
    reading, digits = snap.live.get(STRIP), strip_digits()
    if digits is None:
        return
    images, labels = digits
    if not reading or len(reading["guesses"]) != len(labels):
        st.caption("The network's guesses for 20 test digits appear with its first batch.")
        return
    guesses = reading["guesses"]
    wrong = [(label, guess) for label, guess in zip(labels, guesses) if guess != label]
    with st.container(key=key):
        st.markdown(
            f"**{len(labels) - len(wrong)} of {len(labels)}** test digits read right, at batch "
            f"{reading['step']:,} (epoch {reading['epoch']}). The network never trains on these; "
            "they are read as an upload would be, every second."
        )
        st.image(png_data_url(strip_picture(images, labels, guesses)), width="content")
        misread = ", ".join(f"{article(label)} {label} as {guess}" for label, guess in wrong)
        st.caption(f"Misread: {misread}." if wrong else "None misread.")


def confusion_ui(snap, key: str = "train_confusion") -> None:
    """The validation confusion matrix after the latest epoch."""
    found = snap.live.get(CONFUSION)
    if not found:
        return
    matrix = np.asarray(found["matrix"], dtype=np.int64)
    totals = matrix.sum(axis=1, keepdims=True)
    rates = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    with st.container(key=key):
        st.markdown(
            f"**Validation images after epoch {found['epoch']}**: rows the true digit, columns the "
            f"network's answer; {int(np.trace(matrix)):,} of {int(matrix.sum()):,} on the diagonal."
        )
        st.altair_chart(confusion_heatmap(matrix.tolist(), rates.tolist(), size=260), width="content")
