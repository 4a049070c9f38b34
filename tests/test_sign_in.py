"""Sign-in on the pages through AppTest, which seeds ``st.user`` as Streamlit's sign-in would: a
visitor who is not signed in sees only the sign-in page; a signed-in person sees their own
handwriting, saved runs and trainings, and nothing of anyone else's, even with the other's job id
in the URL; without sign-in configured the app says it is a single-person app when it is opened
from another machine."""

import dataclasses
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digit_core import jobs
from digit_core.config import ANNConfig
from digit_core.jobs import FINISHED, Runner, Snapshot
from digit_core.jobstore import JobStore
from digit_core.models import build_ann
from digit_core.workspace import for_person
from tests.support.helpers import ENTRY, block, elements, fresh_places, script
from ui.identity import SINGLE_PERSON_NOTICE, loopback
from ui.navigation import DRAW, HANDWRITING, TRAIN

ISSUER = "https://idp.example"
ALICE = {
    "is_logged_in": True,
    "iss": ISSUER,
    "sub": "alice-sub",
    "email": "alice@example.com",
    "name": "Alice",
}
BOB = {"is_logged_in": True, "iss": ISSUER, "sub": "bob-sub", "email": "bob@example.com", "name": "Bob"}
SIGNED_OUT = {"is_logged_in": False}  # what st.user holds when [auth] is configured and nobody signed in


@pytest.fixture
def place(tmp_path, monkeypatch):
    """Shared models, people's folders, the single-person set and the trainings' records, all
    in a fresh folder; the Train page's runner reads those records."""
    fresh_places(tmp_path, monkeypatch)
    runner = Runner(JobStore(tmp_path / "jobs"))
    monkeypatch.setattr(jobs, "RUNNER", runner)
    return runner


def page(spec_or_entry, user: dict | None, **query) -> AppTest:
    path = spec_or_entry if isinstance(spec_or_entry, str) else script(spec_or_entry)
    at = AppTest.from_file(path, default_timeout=120)
    if user is not None:
        at.user = user
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def alices_things(runner: Runner) -> tuple[int, str]:
    """Alice's handwriting sample, saved run "mine", and a finished training; returns the
    sample's and the training's ids."""
    alice = for_person(ISSUER, ALICE["sub"], ALICE["name"])
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0
    sample = alice.handwriting().add(drawing, 1, predicted=1, confidence=0.9, model="cnn")
    alice.models().save_model(build_ann(ANNConfig(units=(8,))), "mine", {"architecture": "ann"})
    snap = Snapshot(
        id="alices-job-0001",
        owner="Alice",
        arch="ann",
        settings={"architecture": "ANN"},
        state=FINISHED,
        epoch=1,
        epochs=1,
        batch=4,
        batches=4,
        elapsed=20.0,
        history=[
            {
                "epoch": 1,
                "epochs": 1,
                "loss": 0.5,
                "accuracy": 0.9,
                "val_loss": 0.4,
                "val_accuracy": 0.91,
                "learning_rate": 0.01,
                "elapsed": 10.0,
            }
        ],
        batch_steps=[1, 2, 3, 4],
        batch_losses=[1.0, 0.8, 0.6, 0.5],
        error=None,
        test_accuracy=0.9123,
        baseline_accuracy=None,
        parameters=1234,
        training_seconds=12.0,
        best_epoch=1,
        saved_as=None,
        created=time.time(),
    )
    record = dict(dataclasses.asdict(snap), owner_id=alice.owner, ended=time.time())
    runner.store.put(snap.id, alice.owner, jobs.SERVER, snap.created, FINISHED, record)
    return sample, snap.id


def test_with_sign_in_configured_a_visitor_sees_only_the_sign_in_page(place):
    alices_things(place)
    at = page(ENTRY, SIGNED_OUT)
    assert at.button(key="account_sign_in").label == "Sign in"
    assert not at.header and not at.metric  # none of the home page's model cards
    # A page opened directly stops at the sign-in page too: nobody's data is read.
    for spec in (HANDWRITING, TRAIN):
        direct = page(spec, SIGNED_OUT)
        assert direct.button(key="account_sign_in")
        assert not direct.metric and not direct.dataframe
        assert not [b for b in direct.button if b.key and b.key.startswith(("hw_", "train_"))]


def test_a_signed_in_person_sees_who_they_are_and_can_sign_out(place):
    at = page(ENTRY, ALICE)
    assert any("Signed in as **Alice**" in c.value for c in at.sidebar.caption)
    assert at.sidebar.button(key="account_sign_out").label == "Sign out"
    assert not at.sidebar.warning  # a signed-in app is not a single-person one


def test_a_person_sees_their_own_handwriting_and_nobody_elses(place):
    sample, _ = alices_things(place)
    alice = page(HANDWRITING, ALICE)
    assert alice.metric[0].value == "1" and alice.button(key=f"hw_delete_{sample}")
    bob = page(HANDWRITING, BOB)
    assert bob.metric[0].value == "0"
    assert not [b for b in bob.button if b.key == f"hw_delete_{sample}"]  # must not: offer Alice's sample
    assert not bob.get("download_button")


def test_a_person_sees_their_own_runs_and_trainings_and_not_anyone_elses_even_by_id(place):
    _, job_id = alices_things(place)
    alice = page(TRAIN, ALICE, job=job_id)
    assert elements(block(alice, "train_result"), "Metric")[0].value == "91.23%"
    runs = elements(block(alice, "train_runs"), "Dataframe")[0].value
    assert list(runs["name"]) == ["cnn", "ann", "mine"]

    bob = page(TRAIN, BOB, job=job_id)  # Alice's link, opened by Bob
    assert any("not one of yours" in w.value for w in bob.warning)
    assert not [b for b in bob.button if b.key in ("train_save", "train_stop", "train_discard")]
    assert "job" not in bob.query_params
    assert not [e for e in elements(bob._tree, "Block") if getattr(e, "key", None) == "train_history"]
    runs = elements(block(bob, "train_runs"), "Dataframe")[0].value
    assert list(runs["name"]) == ["cnn", "ann"]  # the shared models only
    bob.selectbox(key="train_pick").set_value("cnn").run()
    assert bob.button(key="train_delete").disabled  # shared: nobody deletes it from here


def test_a_person_draws_with_their_own_models_only(place):
    alices_things(place)
    assert "mine" in page(DRAW, ALICE).selectbox(key="draw_model").options
    assert page(DRAW, BOB).selectbox(key="draw_model").options == ["cnn", "ann"]


@pytest.mark.parametrize(
    ("url", "noticed"),
    [
        ("http://192.168.1.20:8501/", True),
        ("https://digits.school.example/", True),
        ("http://localhost:8501/", False),
        ("http://127.0.0.1:8501/Train", False),
        ("http://[::1]:8501/", False),
    ],
)
def test_without_sign_in_the_app_says_it_is_single_person_when_opened_from_elsewhere(place, url, noticed):
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.context = {"url": url}
    at.run()
    assert not at.exception
    shown = [w.value for w in at.sidebar.warning]
    assert (SINGLE_PERSON_NOTICE in shown) is noticed, shown
    assert not [b for b in at.button if b.key == "account_sign_in"]  # no sign-in to offer


def test_loopback_hosts_are_told_apart_from_the_rest():
    assert all(loopback(h) for h in ("localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]", "app.localhost"))
    assert not any(loopback(h) for h in ("192.168.1.20", "10.0.0.1", "example.com", "localhost.example"))
