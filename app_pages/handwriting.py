"""My handwriting: the labelled drawings saved from the Draw page, by digit; delete (and undo),
export, import."""

import streamlit as st

from digit_core.handwriting import HandwritingError, HandwritingStore
from digit_core.visual import enlarge
from ui.charts import counts_chart
from ui.identity import handwriting
from ui.navigation import HANDWRITING
from ui.text import plain

GALLERY = 60  # samples shown at once; the count says how many there are
PER_ROW = 10
THUMB = 3

st.title(HANDWRITING.heading)
st.write(
    "Digits you drew and labelled on the Draw & Predict page. Evaluate every model on them on "
    "the Evaluate page, and fine-tune a model on them on the Train page."
)
store = handwriting()
st.caption(f"Stored in {plain(store.path)} (set `DIGIT_HANDWRITING_DB` to use another file).")

notice = st.session_state.pop("hw_notice", None)
if notice:
    st.success(notice)


def undo_ui() -> None:
    """After a delete: the sample can be put back, until the next delete."""
    removed = st.session_state.get("hw_removed")
    if removed is None:
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.info(f"Deleted sample {removed.id}.")
    if right.button("Undo", key="hw_undo", help="Put the deleted sample back."):
        st.session_state.pop("hw_removed", None)
        if store.restore(removed):
            st.session_state.hw_notice = f"Sample {removed.id} is back."
        st.rerun()


def counts_ui(counts: list[int]) -> None:
    total = sum(counts)
    st.metric("Samples", f"{total:,}", help="Labelled drawings in your set.")
    if total:  # an empty chart would only show an axis
        st.altair_chart(counts_chart(counts), width="stretch")


def gallery_ui(counts: list[int]) -> None:
    choices = ["all"] + [str(d) for d in range(10)]
    shown = st.segmented_control(
        "Digit",
        choices,
        default="all",
        key="hw_digit",
        format_func=lambda c: c if c == "all" else f"{c} ({counts[int(c)]})",
    )
    label = None if shown in (None, "all") else int(shown)
    samples = store.samples(label=label, limit=GALLERY)
    if not samples:
        st.info("No samples here yet: draw on the Draw & Predict page and save your drawings.")
        return
    total = sum(counts) if label is None else counts[label]
    if total > GALLERY:
        st.caption(f"The newest {GALLERY} of {total:,}.")
    with st.container(key="hw_gallery"):
        for start in range(0, len(samples), PER_ROW):
            for column, sample in zip(st.columns(PER_ROW), samples[start : start + PER_ROW]):
                guess = "" if sample.predicted is None else f" · said {sample.predicted}"
                column.image(enlarge(sample.image, THUMB), caption=f"{sample.label}{guess}")
                if column.button(
                    "Delete",
                    key=f"hw_delete_{sample.id}",
                    help=f"Sample {sample.id}, saved {sample.created[:16].replace('T', ' ')}",
                ):
                    removed = store.remove(sample.id)
                    if removed is not None:
                        st.session_state.hw_removed = removed  # one sample: small
                    st.rerun()


@st.cache_data(max_entries=8, show_spinner="Preparing the exports…")
def exports(path: str, version: tuple[int, int, int]) -> tuple[bytes, bytes]:
    """Both exports of the set at ``path``, built once per version of its contents."""
    found = HandwritingStore(path)
    return found.export_npz(), found.export_zip()


def export_ui() -> None:
    st.subheader("Export")
    npz_column, zip_column = st.columns(2)
    # The files are ready before any click, and a click does not rerun the page: a second button
    # pressed right after the first still finds its file (a rerun would have dropped it).
    npz, archive = exports(str(store.path), store.version())
    npz_column.download_button(
        "Download .npz (images, labels)",
        npz,
        "handwriting.npz",
        "application/octet-stream",
        key="hw_export_npz",
        on_click="ignore",
    )
    zip_column.download_button(
        "Download .zip (PNGs + labels.csv)",
        archive,
        "handwriting.zip",
        "application/zip",
        key="hw_export_zip",
        on_click="ignore",
    )


def import_ui() -> None:
    st.subheader("Import")
    upload = st.file_uploader(
        "A .npz or .zip exported here (or by `python -m digit_core collect-export`)",
        type=["npz", "zip"],
        key="hw_import_file",
    )
    if upload is not None and st.button("Add these samples", key="hw_import"):
        try:
            result = store.import_file(upload.name, upload.getvalue())
        except HandwritingError as exc:
            st.error(f"Nothing was imported: {plain(exc)}")
            return
        st.session_state.hw_notice = f"{plain(upload.name)}: {result}."
        st.rerun()


try:
    undo_ui()
    counts = store.counts()
    counts_ui(counts)
    gallery_ui(counts)
    if sum(counts):
        export_ui()
    import_ui()
except HandwritingError as exc:
    st.error(f"The handwriting set cannot be used: {plain(exc)}")
