"""Each signed-in person's data is their own, in the library: person B cannot list, read, delete,
stop or save person A's handwriting samples, saved runs or trainings, even knowing their ids or
names; the shipped models are shared and read-only; the single-person app keeps its old places."""

import io
import threading
import time

import numpy as np
import pytest

from digit_core import jobs, registry
from digit_core.config import ANNConfig, TrainConfig
from digit_core.jobs import FAILED, FINISHED, BusyError, Runner
from digit_core.jobstore import JobStore
from digit_core.models import build_ann
from digit_core.workspace import LOCAL, Workspace, check_owner, for_person, owner_id
from tests.support.helpers import fresh_places
from tests.support.jobs import Gated, tiny_mnist

ISSUER = "https://idp.example"
WAIT_S = 240


def image(value: int) -> np.ndarray:
    picture = np.zeros((28, 28), np.float32)
    picture[4 + value % 20 : 8 + value % 20, 4:24] = 1.0
    return picture


@pytest.fixture
def people(tmp_path, monkeypatch):
    """Alice and Bob, signed in with one provider; the shipped models shared in ``models/``."""
    fresh_places(tmp_path, monkeypatch)
    return for_person(ISSUER, "alice-sub", "Alice"), for_person(ISSUER, "bob-sub", "Bob")


def test_an_owner_id_is_opaque_stable_and_different_for_each_person_and_provider():
    alice = owner_id(ISSUER, "alice-sub")
    assert alice == owner_id(ISSUER, "alice-sub") and len(alice) == 32 and int(alice, 16) >= 0
    assert alice != owner_id(ISSUER, "bob-sub")
    assert alice != owner_id("https://other-idp.example", "alice-sub")  # same subject, other provider
    assert "alice" not in alice
    with pytest.raises(ValueError, match="subject"):
        owner_id(ISSUER, " ")
    for forged in ("../" + alice, alice.upper(), alice + "/..", "", "LOCAL", alice[:31]):
        with pytest.raises(ValueError, match="not an owner id"):
            check_owner(forged)
        with pytest.raises(ValueError):
            Workspace(forged)


def test_each_person_has_their_own_folder_and_the_single_person_app_keeps_its_old_places(people, tmp_path):
    alice, bob = people
    assert alice.folder.parent == bob.folder.parent == tmp_path / "users" and alice.folder != bob.folder
    assert alice.handwriting().path == alice.folder / "handwriting.sqlite"
    assert alice.models().own == alice.folder / "models" and alice.models().shared == tmp_path / "models"
    single = Workspace()
    assert single.owner == LOCAL and not single.personal
    assert single.handwriting().path == tmp_path / "single.sqlite"
    assert single.models().own == single.models().shared == tmp_path / "models"


def test_nobody_lists_reads_or_deletes_anyone_elses_handwriting_even_by_id(people):
    alice, bob = people
    ids = [alice.handwriting().add(image(i), i % 10, b"png-of-a-drawing") for i in range(5)]
    theirs = bob.handwriting()
    assert theirs.counts() == [0] * 10 and theirs.samples() == [] and len(theirs.arrays()[1]) == 0
    for sample_id in ids:  # Alice's ids, tried in Bob's set
        assert theirs.drawing(sample_id) is None
        assert theirs.delete(sample_id) is False and theirs.remove(sample_id) is None
    assert len(np.load(io.BytesIO(theirs.export_npz()))["labels"]) == 0
    assert sum(alice.handwriting().counts()) == 5  # untouched
    assert Workspace().handwriting().counts() == [0] * 10  # nor is it in the single-person set
    # Bob's own samples start at id 1 too: the same id means a different sample to each of them.
    bob_id = theirs.add(image(7), 7)
    assert bob_id == ids[0] and alice.handwriting().samples(limit=10)[-1].label == 0
    assert [s.label for s in theirs.samples()] == [7]


def test_nobody_lists_reads_loads_deletes_or_replaces_anyone_elses_saved_runs(people):
    alice, bob = people
    mine = alice.models()
    mine.save_model(build_ann(ANNConfig(units=(8,))), "mine", {"architecture": "ann", "note": "alice's"})
    mine.set_default("mine")
    theirs = bob.models()
    assert [e.name for e in mine.list_models()] == ["cnn", "ann", "mine"]
    assert [e.name for e in theirs.list_models()] == ["cnn", "ann"]
    with pytest.raises(registry.ModelNotFoundError):
        theirs.read_card("mine")
    with pytest.raises(registry.ModelError):
        theirs.load_model("mine")
    with pytest.raises(registry.ModelError):
        theirs.read_model_bytes("mine")
    with pytest.raises(registry.ModelNotFoundError):
        theirs.delete_model("mine")
    with pytest.raises(registry.ModelNotFoundError):
        theirs.set_default("mine")
    assert not theirs.model_path("mine").exists() and theirs.model_path("mine").parent == theirs.own
    # Names are names, never paths: none leads into Alice's folder.
    for path in (f"../{alice.owner}/models/mine", str(mine.model_path("mine")), "mine.keras"):
        with pytest.raises(ValueError, match="invalid model name"):
            theirs.read_card(path)
        with pytest.raises(ValueError, match="invalid model name"):
            theirs.load_model(path)
    # Bob's own "mine" is another model, and Alice's is as it was.
    theirs.save_model(build_ann(ANNConfig(units=(4,))), "mine", {"architecture": "ann", "note": "bob's"})
    assert mine.read_card("mine")["note"] == "alice's" and theirs.read_card("mine")["note"] == "bob's"
    assert mine.default_model() == "mine" and theirs.default_model() == "cnn"  # defaults are personal


def test_the_shipped_models_are_shared_and_read_only_to_each_person(people, tmp_path):
    alice, _ = people
    mine = alice.models()
    assert mine.read_card("ann")["architecture"] == "ann" and mine.load_model("cnn") is not None
    assert mine.read_only("cnn") and mine.read_only("ann")
    for name in ("cnn", "ann"):
        with pytest.raises(registry.ModelError, match="shared model"):
            mine.delete_model(name)
        with pytest.raises(registry.ModelError, match="shared model"):
            mine.save_model(build_ann(ANNConfig(units=(8,))), name, {"architecture": "ann"}, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if not p.name.startswith(".")) == [
        "ann.json",
        "ann.keras",
        "cnn.json",
        "cnn.keras",
    ]
    mine.set_default("ann")  # a shared model may be one's own default, chosen for oneself only
    assert mine.default_model() == "ann" and registry.default_model(tmp_path / "models") == "cnn"


@pytest.mark.usefixtures("ray_cluster")
def test_nobody_finds_stops_saves_or_discards_anyone_elses_training_even_by_id(people, tmp_path):
    alice, bob = people
    runner = Runner(JobStore(tmp_path / "jobs"))
    config = TrainConfig(epochs=1, batch_size=25, validation_size=50, augment=None)
    job = runner.start(
        ANNConfig(units=(16,)), config, tiny_mnist(), alice.owner, "Alice", models=alice.models()
    )
    assert job.join(WAIT_S) and job.snapshot().state == FINISHED
    assert runner.get(job.id, bob.owner) is None
    assert runner.get(job.id, LOCAL) is None  # nor through the single-person app's owner
    assert runner.history(bob.owner) == [] and runner.history(LOCAL) == []
    assert runner.store.get(job.id, bob.owner) is None
    runner.forget(job.id, bob.owner)  # discarding by id does nothing to Alice's run
    assert Runner(JobStore(tmp_path / "jobs")).get(job.id, bob.owner) is None  # nor after a restart
    found = runner.get(job.id, alice.owner)
    assert found is job and found.snapshot().can_save and not found.snapshot().discarded
    job.save("alices-run")  # to Alice's own registry, where Bob does not look
    assert alice.models().read_card("alices-run") and "alices-run" not in {
        e.name for e in bob.models().list_models()
    }
    assert [s.id for s in runner.history(alice.owner)] == [job.id]


@pytest.fixture
def one_each(people, tmp_path, monkeypatch):
    """A runner where a signed-in person may have one training at a time, data that waits until
    ``tmp_path / "abort"`` exists (then fails), and a tiny config: ``(runner, gate, config)``."""
    monkeypatch.setenv("DIGIT_JOBS_PER_PERSON", "1")
    runner = Runner(JobStore(tmp_path / "jobs"))
    gate = Gated(tmp_path / "never", abort=tmp_path / "abort")
    return runner, gate, TrainConfig(epochs=1, batch_size=25, validation_size=50, augment=None)


@pytest.mark.usefixtures("ray_cluster")
def test_a_person_starting_trainings_in_many_sessions_at_the_same_instant_gets_only_their_share(
    people, one_each, tmp_path, monkeypatch
):
    alice, _bob = people
    runner, gate, config = one_each
    # Widen the gap between counting a person's trainings and adding the new one, as a busy
    # server would: without the runner's lock every session would count none and start.
    described = jobs.settings_of
    monkeypatch.setattr(jobs, "settings_of", lambda *args: (time.sleep(0.2), described(*args))[1])
    barrier, outcomes = threading.Barrier(6), []

    def press_start() -> None:
        barrier.wait()
        try:
            outcomes.append(runner.start(ANNConfig(units=(16,)), config, gate, alice.owner))
        except BusyError as exc:
            outcomes.append(exc)

    sessions = [threading.Thread(target=press_start) for _ in range(6)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join(WAIT_S)
    started = [outcome for outcome in outcomes if not isinstance(outcome, BusyError)]
    (tmp_path / "abort").touch()
    for job in started:
        assert job.join(WAIT_S)
    assert len(outcomes) == 6 and len(started) == 1, outcomes


@pytest.mark.usefixtures("ray_cluster")
def test_a_signed_in_person_may_have_a_few_trainings_at_once_not_the_whole_machine(
    people, one_each, tmp_path
):
    alice, bob = people
    runner, gate, config = one_each
    started = [runner.start(ANNConfig(units=(16,)), config, gate, alice.owner)]
    with pytest.raises(BusyError, match="at most 1 training running or queued at once"):
        runner.start(ANNConfig(units=(16,)), config, gate, alice.owner)
    started.append(runner.start(ANNConfig(units=(16,)), config, gate, bob.owner))  # Bob has his own
    started += [runner.start(ANNConfig(units=(16,)), config, gate, LOCAL) for _ in range(2)]  # no limit
    (tmp_path / "abort").touch()
    for job in started:
        assert job.join(WAIT_S)
    assert {job.snapshot().state for job in started} == {FAILED}
    # Every job ended: Alice may start again.
    again = runner.start(ANNConfig(units=(16,)), config, gate, alice.owner)
    assert again.join(WAIT_S)
