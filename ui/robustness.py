"""Evaluate's robustness curves: each model's accuracy on test digits as they are shifted, rotated
and drawn with a thinner or thicker pen, measured once per server process (with a progress bar for
whoever asks first) and shared by every session. The measuring is ``digit_core.robustness``'."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import streamlit as st

from digit_core.inference import predict
from digit_core.robustness import accuracy_curves

SUBSET = 1000  # test digits measured: a few seconds per model on two CPU cores
SEED = 0


@st.cache_resource
def _memo() -> dict:
    # One per server process: the curves are measured once, under the lock, with a progress bar
    # shown to the session that measures them (a cache_data function could not draw it).
    return {"lock": threading.Lock(), "curves": {}}


def subset(images: np.ndarray, labels: np.ndarray, count: int = SUBSET, seed: int = SEED):
    """A reproducible sample of ``count`` test digits, as ``(count, 28, 28) float32`` in [0, 1]
    (uint8 MNIST pixels are scaled) and their labels."""
    chosen = np.sort(np.random.default_rng(seed).permutation(len(labels))[:count])
    picked = np.asarray(images)[chosen]
    if picked.dtype == np.uint8:
        picked = picked.astype(np.float32) / 255.0  # MNIST pixels 0..255 -> [0, 1]
    return picked.astype(np.float32), np.asarray(labels)[chosen]


def robustness_frame_ui(models: dict, stamps: dict, images, labels, fingerprint: str) -> pd.DataFrame:
    """The curves as a frame (model, distortion, amount, accuracy) for ``models`` (name -> Keras
    model) on a subset of the test digits, measured once per model stamps and data fingerprint."""
    key = (tuple(sorted(stamps.items())), fingerprint, SUBSET)
    memo = _memo()
    with memo["lock"]:
        if key not in memo["curves"]:
            bar = st.progress(0.0, text="Measuring robustness…")

            def on_progress(done: float, what: str) -> None:
                bar.progress(done, text=f"Measuring robustness: {what}")

            picked, truth = subset(images, labels)
            predictors = {name: (lambda x, m=model: predict(m, x)) for name, model in models.items()}
            points = accuracy_curves(predictors, picked, truth, SEED, on_progress)
            memo["curves"][key] = pd.DataFrame([p.__dict__ for p in points])
            bar.empty()
    return memo["curves"][key]
