"""Train: an ANN or a CNN on MNIST in a worker process of the server's Ray, watched live; save and
compare runs. The training is a :mod:`digit_core.jobs` job, so it outlives this script's run, and
each person sees only their own trainings (:mod:`ui.identity`)."""

import datetime as dt
import re
import shlex

import pandas as pd
import streamlit as st

from digit_core import registry
from digit_core.config import ANNConfig, AugmentConfig, CNNConfig, TrainConfig, model_config_from_dict
from digit_core.estimate import estimate, past_run
from digit_core.finetune import FineTuneSpec, plan
from digit_core.handwriting import HandwritingError
from digit_core.jobs import (
    CANCELLED,
    FAILED,
    FINISHED,
    LOADING,
    LOST,
    NAME_PLACEHOLDER,
    QUEUED,
    RUNNER,
    STOPPED,
    TESTING,
    BusyError,
    describe_settings,
    format_duration,
)
from digit_core.watching import lap, verdict
from ui.identity import workspace
from ui.navigation import TRAIN
from ui.resources import default_index, train_data_ui, usable_model_names
from ui.text import plain
from ui.watch import confusion_ui, curves_ui, progress_ui, strip_ui

ARCH_LABELS = {"cnn": "CNN (convolutional)", "ann": "ANN (dense)"}
SUBSETS = {"1k": 1000, "5k": 5000, "20k": 20000, "all": None}
BATCH_SIZES = [32, 64, 128, 256, 512]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
WIDTHS = [0.25, 0.5, 1.0, 1.5, 2.0]
TRAIN_DEFAULTS = TrainConfig()
FAST_EPOCHS = 1  # one epoch of the one-cycle recipe: 99 % on MNIST in seconds (bench/train_speed.py race)
HIDDEN_UNITS = [128, 256, 512, 1024]
REFRESH_S = 1.0  # how often a running job's view is redrawn
ANONYMOUS = "an anonymous user"
NEW, FINE_TUNE = "A new model on MNIST", "Fine-tune a saved model on my handwriting"
MIN_HANDWRITING = 10  # samples needed before fine-tuning makes sense
STATES = {
    QUEUED: "queued",
    LOADING: "starting",
    "training": "training",
    TESTING: "testing",
    "finished": "finished",
    STOPPED: "stopped",
    FAILED: "failed",
    CANCELLED: "cancelled",
    LOST: "lost when the server stopped",
}

st.title(TRAIN.heading)
me = workspace()


def remember(job) -> None:
    """Tie ``job`` to this session and to the URL, so page switches and reloads find it again."""
    st.session_state.train_job = job.id
    st.query_params["job"] = job.id


def job_id() -> str | None:
    """The id of the job this session started: in its state after a page switch, in the URL after
    a reload."""
    return st.session_state.get("train_job") or st.query_params.get("job")


def let_go(notice: str | None = None, discard: bool = True) -> None:
    """Drop this session's job (discarding its model unless ``discard`` is false) and return to
    the settings, with ``notice`` shown there."""
    found = job_id()
    st.session_state.pop("train_job", None)
    if found and discard:
        RUNNER.forget(found, me.owner)
    if "job" in st.query_params:
        del st.query_params["job"]
    if notice:
        st.session_state.train_notice = notice
    st.rerun()


def my_job():
    """The job this session follows (found by session or URL) if it is this person's; if there
    is none of theirs with that id (never, someone else's, or long forgotten), say so once."""
    found = job_id()
    job = RUNNER.get(found, me.owner)
    if found and job is None:
        st.warning(
            "That training is not one of yours on this server: the link is someone else's, or "
            "the run is too old to be kept."
        )
        st.session_state.pop("train_job", None)
        if "job" in st.query_params:
            del st.query_params["job"]
    return job


def settings_ui(mnist) -> None:
    """The settings, the resulting data split, and the Start button."""
    arch = st.radio(
        "Network",
        list(ARCH_LABELS),
        format_func=ARCH_LABELS.get,
        horizontal=True,
        key="train_arch",
        help="A CNN sees shapes wherever they are; an ANN sees pixels.",
    )
    default_model = CNNConfig() if arch == "cnn" else ANNConfig()
    left, middle, right = st.columns(3)
    with left:
        epochs = st.number_input(
            "Epochs",
            1,
            50,
            FAST_EPOCHS,
            key="train_epochs",
            help="Passes over the training images. Training stops early when "
            "validation accuracy stalls for 5 epochs.",
        )
        batch_size = st.select_slider(
            "Batch size",
            BATCH_SIZES,
            TRAIN_DEFAULTS.batch_size,
            key="train_batch_size",
            help="Images per step: larger is faster per epoch but learns less per image.",
        )
        learning_rate = st.select_slider(
            "Learning rate",
            LEARNING_RATES,
            TRAIN_DEFAULTS.learning_rate,
            key="train_lr",
            format_func=lambda v: f"{v:g}",
            help="Peak rate, reached after a short warm-up, then decayed to zero by the last step.",
        )
        optimizer = st.selectbox(
            "Optimizer",
            ["adam", "sgd", "rmsprop"],
            key="train_optimizer",
            help="Adam suits most runs; SGD uses Nesterov momentum 0.9.",
        )
    with middle:
        dropout = st.slider(
            "Dropout",
            0.0,
            0.7,
            default_model.dropout,
            0.05,
            key=f"train_dropout_{arch}",
            help="Share of units switched off at random while training, against overfitting.",
        )
        if arch == "cnn":
            width = st.select_slider(
                "Width",
                WIDTHS,
                1.0,
                key="train_width",
                format_func=lambda v: f"×{v:g}",
                help="Multiplies the filters of every conv block (24 and 32 at ×1).",
            )
        else:
            units = st.select_slider(
                "Hidden units per layer",
                HIDDEN_UNITS,
                512,
                key="train_units",
                help="Two dense hidden layers of this size.",
            )
        augment = st.toggle(
            "Augmentation",
            True,
            key="train_augment",
            help="Random rotation, shift, zoom, shear and stroke width, so the model "
            "copes with digits drawn on a screen, not only with MNIST's.",
        )
    with right:
        subset = st.select_slider(
            "Training images",
            list(SUBSETS),
            "20k",
            key="train_subset",
            help="How much of MNIST's 60,000 training images to use.",
        )
        split = st.slider(
            "Validation split",
            0,
            20,
            10,
            5,
            format="%d%%",
            key="train_split",
            help="Share of those images held out to pick the best epoch.",
        )
        seed = st.number_input(
            "Random seed", 0, 2**31 - 1, 0, key="train_seed", help="Same seed, same settings: the same model."
        )
    owner = name_ui()

    available = len(mnist.train_images)
    chosen = min(SUBSETS[subset] or available, available)
    n_val = round(chosen * split / 100)
    train_config = TrainConfig(
        epochs=int(epochs),
        batch_size=batch_size,
        learning_rate=learning_rate,
        optimizer=optimizer,
        augment=AugmentConfig() if augment else None,
        validation_size=n_val,
        limit=chosen - n_val,
        seed=int(seed),
    )
    # The network on show, and the other one with its defaults for a race.
    cnn = CNNConfig(width=width, dropout=dropout) if arch == "cnn" else CNNConfig()
    ann = ANNConfig(units=(units, units), dropout=dropout) if arch == "ann" else ANNConfig()
    model_config = cnn if arch == "cnn" else ann
    st.caption(
        f"Trains on **{chosen - n_val:,}** images, validates on **{n_val:,}**, then tests on "
        f"the **{len(mnist.test_images):,}** test images."
    )
    st.caption(estimate_text(model_config, train_config, chosen - n_val))
    start_column, race_column = st.columns([1, 3])
    if start_column.button("Start training", type="primary", key="train_start"):
        start_job(lambda: (model_config, train_config, None), mnist, owner)
    if race_column.button(
        "Race ANN vs CNN",
        key="train_race",
        help="Trains both networks at once on the same images with the same seed, on shared charts. "
        f"The {'ANN' if arch == 'cnn' else 'CNN'} gets its default shape.",
    ):
        start_race([cnn, ann], train_config, mnist, owner)


def estimate_text(model_config, train_config: TrainConfig, n_train: int) -> str:
    """How long the run will take, at most (early stopping can end it sooner)."""
    past = [
        pair
        for snap in RUNNER.history(me.owner)
        if snap.state in (FINISHED, STOPPED) and not snap.base_model
        for pair in [past_run(snap.settings, len(snap.history), snap.training_seconds)]
        if pair is not None
    ]
    guess = estimate(model_config, train_config, n_train, train_config.validation_size, past)
    basis = "this server's past trainings" if guess.calibrated else "a 2-core benchmark"
    return (
        f"Estimated time: **about {format_duration(guess.seconds)}** from Start to result, of which "
        f"{format_duration(guess.training_seconds)} training (from {basis})."
    )


def name_ui() -> str:
    """Who is training, as the list of trainings shows it: the signed-in person, or a name typed
    here in the single-person app (where everyone shares that list)."""
    if me.personal:
        return me.name
    return st.text_input(
        "Your name (optional)",
        max_chars=40,
        key="train_owner",
        help="Shown in the list of trainings, which everyone using this app shares.",
    )


def start_job(configure, mnist, owner: str) -> None:
    """Start the job that ``configure()`` describes as ``(model config, train config, fine-tune
    spec or None)``; a bad setting or too many trainings get a message instead."""
    try:
        model_config, train_config, spec = configure()
    except (ValueError, KeyError, registry.ModelError) as exc:
        st.error(f"Cannot train with these settings: {plain(exc)}")
        return
    job = launch(model_config, train_config, mnist, owner, spec)
    if job is not None:
        remember(job)
        st.rerun()


def launch(model_config, train_config, mnist, owner: str, spec=None):
    """One job started for this person, or None with the reason shown."""
    try:
        return RUNNER.start(
            model_config,
            train_config,
            mnist,
            owner=me.owner,
            owner_name=owner.strip() or ANONYMOUS,
            fine_tune=spec,
            models=me.models(),
        )
    except (BusyError, registry.ModelError, ValueError) as exc:
        st.warning(f"Not started: {plain(exc)}.")
        return None


def start_race(configs, train_config: TrainConfig, mnist, owner: str) -> None:
    """Start one job per model config on the same images and seed; both or neither."""
    started = []
    for model_config in configs:
        job = launch(model_config, train_config, mnist, owner)
        if job is None:
            for other in started:
                other.stop()
                RUNNER.forget(other.id, me.owner)
            return
        started.append(job)
    st.session_state.train_race_jobs = [job.id for job in started]
    st.query_params["race"] = ",".join(job.id for job in started)
    st.rerun()


def fine_tune_ui(mnist) -> None:
    """Fine-tuning settings: which model, how much MNIST to mix in, how much handwriting to hold out."""
    try:
        images, labels = me.handwriting().arrays()
    except HandwritingError as exc:
        st.error(f"The handwriting set cannot be used: {plain(exc)}")
        return
    if len(labels) < MIN_HANDWRITING:
        st.info(
            f"Your handwriting set has {len(labels)} samples: save at least {MIN_HANDWRITING} "
            f"labelled drawings on the Draw & Predict page (more is better, of every digit)."
        )
        return
    names = usable_model_names()
    left, middle, right = st.columns(3)
    with left:
        base = st.selectbox(
            "Model to fine-tune",
            names,
            index=default_index(names),
            key="train_base",
            help="A copy is trained; the saved model itself is not changed.",
        )
        epochs = st.number_input(
            "Epochs", 1, 20, 3, key="train_ft_epochs", help="Passes over the mix of MNIST and your digits."
        )
    with middle:
        learning_rate = st.select_slider(
            "Learning rate",
            LEARNING_RATES,
            3e-4,
            key="train_ft_lr",
            format_func=lambda v: f"{v:g}",
            help="Lower than for a new model, so that it adapts without forgetting.",
        )
        augment = st.toggle(
            "Augmentation",
            True,
            key="train_ft_augment",
            help="Random distortions of every image, yours included.",
        )
    with right:
        mnist_images = st.select_slider(
            "MNIST images mixed in",
            [1000, 5000, 20000],
            5000,
            key="train_ft_mnist",
            format_func=lambda v: f"{v // 1000}k",
            help="Keeps the model good on MNIST while it learns your hand.",
        )
        held_out = st.slider(
            "Held out for measuring",
            10,
            50,
            25,
            5,
            format="%d%%",
            key="train_ft_held_out",
            help="Share of each digit's samples never trained on: the fair measure.",
        )
    owner = name_ui()
    spec = FineTuneSpec(base, images, labels, held_out=held_out / 100, mnist_images=mnist_images)
    counts = plan(spec)
    st.caption(
        f"Trains on **{counts.trained}** of your digits (each shown {counts.repeat}× per epoch) "
        f"mixed with **{mnist_images:,}** MNIST images; measures on the other **{counts.held_out}** "
        f"of your digits, and on MNIST's **{len(mnist.test_images):,}** test images."
    )
    if not st.button("Start fine-tuning", type="primary", key="train_start"):
        return

    def configure():
        card = me.models().read_card(base)
        return (
            model_config_from_dict(card["architecture"], card.get("config", {})),
            TrainConfig(
                epochs=int(epochs),
                batch_size=64,
                learning_rate=learning_rate,
                augment=AugmentConfig() if augment else None,
                validation_size=min(1000, counts.mix // 10),
                warmup_epochs=0.0,
            ),
            spec,
        )

    start_job(configure, mnist, owner)


def live_ui(job) -> None:
    """Redrawn every second while the job runs; a full rerun shows the result when it ends."""
    snap = job.snapshot()
    if not snap.running:
        st.rerun()
    with st.container(key="train_live"):
        what = f"fine-tuning of {plain(snap.base_model)}" if snap.base_model else snap.arch.upper()
        st.subheader(f"Your {what} is {'queued' if snap.state == QUEUED else 'training'}")
        st.caption(describe_settings(snap.settings))
        progress_ui(snap)
        if snap.stopping:
            st.info(
                "Stopping after the current batch; the best weights so far are kept."
                if snap.history
                else "Stopping after the current batch; no epoch has ended yet, so the weights at "
                "the stop will be tested."
            )
        elif st.button(
            "Stop",
            key="train_stop",
            help="End after the current batch and keep the best weights so far; a queued training "
            "leaves the queue.",
        ):
            job.stop()
            st.rerun()
        curves_ui({snap.arch.upper(): snap})
        watch_ui(snap)


def watch_ui(snap) -> None:
    """The strip of test digits beside the latest validation confusion matrix."""
    strip, confusion = st.columns([3, 2])
    with strip:
        strip_ui(snap)
    with confusion:
        confusion_ui(snap)


def result_ui(job, snap) -> None:
    """How the finished job did, and saving, making default or discarding it."""
    if snap.state in (FAILED, CANCELLED, LOST):
        if snap.state == FAILED:
            st.error(
                f"The training failed: {plain(snap.error)}\n\nNothing was saved: the registry is unchanged."
            )
        elif snap.state == CANCELLED:
            st.info("This training was taken out of the queue before it began: nothing was trained.")
        else:
            st.warning(
                "This training was running when the server stopped, and was lost: nothing was "
                "saved. Start it again when you like."
            )
        if st.button("Back to the settings", key="train_back"):
            let_go()
        return
    best = f" (best epoch: {snap.best_epoch})" if snap.best_epoch else ""
    if snap.state == STOPPED and not snap.history:
        st.warning(
            f"Stopped during the first of {snap.epochs} epochs, before any epoch was validated: "
            "the weights as they were at the stop were tested."
        )
    elif snap.state == STOPPED:
        st.warning(
            f"Stopped after {len(snap.history)} of {snap.epochs} epochs; the best weights so far "
            f"were kept and tested{best}."
        )
    else:
        done = len(snap.history)
        st.success(
            f"Finished {done} epoch{'' if done == 1 else 's'} in "
            f"{format_duration(snap.training_seconds)}{best}."
        )
    with st.container(key="train_result"):
        if snap.base_model:
            fine_tune_result_ui(snap)
        else:
            new_model_result_ui(snap)
    st.caption(describe_settings(snap.settings))
    curves_ui({snap.arch.upper(): snap})
    watch_ui(snap)
    if snap.can_save:
        save_ui(job, snap)
    else:
        kept = f"It was saved as **{plain(snap.saved_as)}**." if snap.saved_as else "It was not saved."
        st.info(f"This run's model is no longer kept here. {kept}")
        if st.button("Back to the settings", key="train_back"):
            let_go()


def new_model_result_ui(snap) -> None:
    accuracy, baseline, seconds, parameters = st.columns(4)
    delta = None
    if snap.baseline_accuracy is not None:
        delta = f"{(snap.test_accuracy - snap.baseline_accuracy) * 100:+.2f} pp vs shipped"
    accuracy.metric("Test accuracy", f"{snap.test_accuracy:.2%}", delta)
    baseline.metric(
        f"Shipped {snap.arch.upper()}",
        f"{snap.baseline_accuracy:.2%}" if snap.baseline_accuracy is not None else "–",
        help="The shipped model of the same architecture on the same test set.",
    )
    seconds.metric("Training time", format_duration(snap.training_seconds))
    parameters.metric("Parameters", f"{snap.parameters:,}")


def points(after: float, before: float) -> str:
    return f"{(after - before) * 100:+.2f} pp"


def fine_tune_result_ui(snap) -> None:
    """Handwriting accuracy before and after, and whether MNIST accuracy held."""
    handwriting, mnist, seconds = st.columns(3)
    handwriting.metric(
        f"My handwriting ({snap.handwriting_held_out} held-out digits)",
        f"{snap.handwriting_after:.2%}",
        f"{points(snap.handwriting_after, snap.handwriting_before)} (was {snap.handwriting_before:.2%})",
    )
    mnist.metric(
        "MNIST test accuracy",
        f"{snap.test_accuracy:.2%}",
        f"{points(snap.test_accuracy, snap.baseline_accuracy)} (was {snap.baseline_accuracy:.2%})",
    )
    seconds.metric("Training time", format_duration(snap.training_seconds))
    drop = snap.baseline_accuracy - snap.test_accuracy
    if drop > 0.005:
        st.warning(
            f"MNIST accuracy fell by {drop * 100:.2f} points: try fewer epochs, a lower learning "
            f"rate or more MNIST images in the mix."
        )
    else:
        st.caption(
            f"MNIST accuracy held: {snap.baseline_accuracy:.2%} before, {snap.test_accuracy:.2%} "
            f"after fine-tuning {plain(snap.base_model)}."
        )


def suggested_name(snap) -> str:
    """``cnn-1123-0947``, or ``mymodel-mine-1123-0947`` for a fine-tuning of ``mymodel``, within
    the 64 characters a name may have (a fine-tuning of a fine-tuning does not grow it)."""
    stamp = f"{dt.datetime.now():%m%d-%H%M}"
    if snap.base_model is None:
        return f"{snap.arch}-{stamp}"
    base = re.sub(r"-mine-\d{4}-\d{4}$", "", snap.base_model)
    return f"{base[: 64 - len(stamp) - 6]}-mine-{stamp}"


def save_ui(job, snap) -> None:
    st.subheader("Keep this model?")
    name_column, options_column = st.columns([2, 1])
    name = name_column.text_input(
        "Name",
        suggested_name(snap),
        key="train_name",
        max_chars=64,
        help=registry.NAME_RULE.capitalize() + ".",
    )
    with options_column:
        overwrite = st.checkbox(
            "Replace a model of that name",
            key="train_overwrite",
            help="The shipped cnn and ann are never replaced from here.",
        )
        make_default = st.checkbox(
            "Make it the default model",
            key="train_make_default",
            help="The other pages start with the default model.",
        )
    save, discard = st.columns(2)
    if save.button("Save", type="primary", key="train_save"):
        name = name.strip()
        try:
            job.save(name, overwrite=overwrite, models=me.models())
        except (ValueError, RuntimeError, registry.ModelError) as exc:
            st.error(f"Not saved: {plain(exc)}")
            return
        notice = f"Saved as **{plain(name)}**."
        if make_default:
            try:
                me.models().set_default(name)
                notice = f"Saved as **{plain(name)}**, now the default model."
            except registry.ModelError as exc:
                notice += f" It could not be made the default: {plain(exc)}"
        let_go(notice, discard=False)
    if discard.button("Discard", key="train_discard"):
        let_go("The run was discarded; nothing was saved.")
    if snap.command and snap.base_model is None:  # fine-tuning has no command line
        st.caption("The same training from the command line:")
        st.code(
            shlex.join(name if part == NAME_PLACEHOLDER else part for part in snap.command), language="bash"
        )


def runs_ui() -> None:
    """The saved models, to compare them, pick the default and delete the unwanted."""
    st.header("Saved runs")
    models = me.models()
    entries = models.list_models()
    if not entries:
        st.info("No saved models yet.")
        return
    default = models.default_model()
    table = pd.DataFrame([registry.describe(entry) for entry in entries])
    table.insert(1, "default", table["name"] == default)
    # Text, one type for the whole column (Arrow refuses a mix of numbers and "all").
    table["training images"] = [
        "all" if pd.isna(count) else f"{int(count):,}" for count in table["training images"]
    ]
    with st.container(key="train_runs"):
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "test accuracy": st.column_config.NumberColumn(format="percent"),
                "learning rate": st.column_config.NumberColumn(format="%g"),
                "training s": st.column_config.NumberColumn(format="%.0f"),
                "parameters": st.column_config.NumberColumn(format="localized"),
            },
        )
    names = [entry.name for entry in entries]
    pick, default_button, delete_button = st.columns([2, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Run", names, index=None, placeholder="Choose a saved run", key="train_pick")
    shipped = chosen is not None and models.read_only(chosen)
    usable = chosen is not None and next(e for e in entries if e.name == chosen).ok
    if default_button.button("Make default", key="train_set_default", disabled=not usable):
        try:
            models.set_default(chosen)
            st.session_state.train_notice = f"**{plain(chosen)}** is now the default model."
        except registry.ModelError as exc:
            st.error(plain(exc))
            return
        st.rerun()
    if delete_button.button(
        "Delete",
        key="train_delete",
        disabled=chosen is None or shipped,
        help="The shipped models cannot be deleted.",
    ):
        try:
            models.delete_model(chosen)
            st.session_state.train_notice = f"Deleted **{plain(chosen)}**."
        except (ValueError, registry.ModelError) as exc:
            st.error(f"Not deleted: {plain(exc)}")
            return
        st.session_state.pop("train_pick", None)
        st.rerun()


def race_ids() -> list[str]:
    """The ids of the race this session follows: in its state, or in the URL after a reload."""
    found = st.session_state.get("train_race_jobs") or st.query_params.get("race", "").split(",")
    return [one for one in found if one]


def drop_race(discard: bool = True) -> None:
    ids = race_ids()
    st.session_state.pop("train_race_jobs", None)
    if "race" in st.query_params:
        del st.query_params["race"]
    if discard:
        for one in ids:
            RUNNER.forget(one, me.owner)


def my_race() -> list | None:
    """The race's two jobs if both are this person's; else say so once."""
    ids = race_ids()
    if not ids:
        return None
    found = [RUNNER.get(one, me.owner) for one in ids]
    if len(found) != 2 or any(job is None for job in found):
        st.warning("That race is not one of yours on this server, or too old to be kept.")
        drop_race(discard=False)
        return None
    return found


def race_live_ui(jobs: list) -> None:
    """Both trainings side by side, redrawn every second; their curves share the charts."""
    snaps = {snap.arch.upper(): snap for snap in (job.snapshot() for job in jobs)}
    if not any(snap.running for snap in snaps.values()):
        st.rerun()
    with st.container(key="train_race_live"):
        st.subheader(" vs ".join(snaps) + ": the race is on")
        for column, snap in zip(st.columns(2), snaps.values()):
            with column:
                st.markdown(f"**{snap.arch.upper()}**: {STATES.get(snap.state, snap.state)}")
                st.caption(describe_settings(snap.settings))
                progress_ui(snap)
                strip_ui(snap, key=f"train_strip_{snap.arch}")
        if st.button("Stop both", key="train_race_stop", help="Each keeps its best weights so far."):
            for job in jobs:
                job.stop()
            st.rerun()
        curves_ui(snaps)


def race_result_ui(jobs: list) -> None:
    """Who reached what, and when; then either run can be opened to be saved."""
    snaps = {snap.arch.upper(): snap for snap in (job.snapshot() for job in jobs)}
    laps = [
        lap(snap.arch, snap.history, snap.test_accuracy, snap.training_seconds) for snap in snaps.values()
    ]
    with st.container(key="train_race_result"):
        st.subheader("How the race ended")
        st.success(verdict(laps))
        rows = [
            {
                "network": one.arch.upper(),
                "state": STATES.get(snap.state, snap.state),
                "test accuracy": one.test_accuracy,
                "training time": format_duration(one.seconds),
                "epochs": one.epochs,
                "best validation accuracy": one.best_val_accuracy,
                "reached after": format_duration(one.best_val_at),
            }
            for one, snap in zip(laps, snaps.values())
        ]
        percent = st.column_config.NumberColumn(format="percent")
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={"test accuracy": percent, "best validation accuracy": percent},
        )
    curves_ui(snaps)
    for column, snap in zip(st.columns(2), snaps.values()):
        with column:
            st.markdown(f"**{snap.arch.upper()}**, as tested")
            strip_ui(snap, key=f"train_strip_{snap.arch}")
    buttons = st.columns(3)
    for button, job, snap in zip(buttons, jobs, snaps.values()):
        if button.button(f"Open the {snap.arch.upper()}'s run", key=f"train_open_{snap.arch}"):
            drop_race(discard=False)  # the other stays in the list of trainings
            remember(job)
            st.rerun()
    if buttons[2].button("Back to the settings", key="train_race_back", help="Neither model is kept."):
        drop_race()
        st.rerun()


def history_ui() -> None:
    """This person's trainings, newest first, as they are now or ended (also across restarts)."""
    found = RUNNER.history(me.owner)
    if not found:
        return
    st.header("Your trainings" if me.personal else "Trainings on this server")
    rows = []
    for snap in found:
        what = f"fine-tuning of {snap.base_model}" if snap.base_model else snap.arch.upper()
        if snap.state == FAILED:
            outcome = snap.error
        elif snap.test_accuracy is not None:
            outcome = f"test accuracy {snap.test_accuracy:.2%}"
        else:
            outcome = ""
        rows.append(
            {
                "started": dt.datetime.fromtimestamp(snap.created).strftime("%Y-%m-%d %H:%M"),
                "training": what,
                "by": snap.owner,
                "state": STATES.get(snap.state, snap.state),
                "result": outcome,
                "saved as": snap.saved_as or ("discarded" if snap.discarded else ""),
                "id": snap.id,
            }
        )
    with st.container(key="train_history"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    labels = {row["id"]: f"{row['started']} · {row['training']} · {row['state']}" for row in rows}
    pick, button = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Training",
        list(labels),
        index=None,
        format_func=labels.get,
        placeholder="Choose a training",
        key="train_history_pick",
    )
    if button.button("Open", key="train_open", disabled=chosen is None):
        st.session_state.train_job = chosen
        st.query_params["job"] = chosen
        st.rerun()


notice = st.session_state.pop("train_notice", None)
if notice:
    st.success(notice)
race = my_race()
mine = None if race else my_job()
if race is not None:
    st.query_params["race"] = ",".join(job.id for job in race)
    if any(job.snapshot().running for job in race):
        st.fragment(run_every=REFRESH_S)(race_live_ui)(race)
    else:
        race_result_ui(race)
elif mine is not None:
    remember(mine)
    snap = mine.snapshot()
    if snap.running:
        st.fragment(run_every=REFRESH_S)(live_ui)(mine)
    else:
        result_ui(mine, snap)
else:
    data = train_data_ui()
    if data is not None:
        mode = st.radio(
            "What to train",
            [NEW, FINE_TUNE],
            horizontal=True,
            key="train_mode",
            help="Fine-tuning teaches a saved model your own handwriting (My handwriting "
            "page) while MNIST keeps it general.",
        )
        if mode == NEW:
            settings_ui(data)
        else:
            fine_tune_ui(data)
history_ui()
runs_ui()
