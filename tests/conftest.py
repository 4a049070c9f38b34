import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before any TensorFlow import
# What the app keeps between runs (trainings' records and results, signed-in people's data) goes to
# a folder of this test session, never to the project's data/: set before anything reads it, and
# inherited by the servers the browser tests start.
_STATE = tempfile.mkdtemp(prefix="digit-tests-")
os.environ.setdefault("DIGIT_JOBS_DIR", os.path.join(_STATE, "jobs"))
os.environ.setdefault("DIGIT_USERS_DIR", os.path.join(_STATE, "users"))
# The tests' Ray (and the browser tests' servers') has 2 CPUs whatever the machine, one per job: two
# trainings run at once and a third waits, as the tests expect.
os.environ.setdefault("DIGIT_RAY_CPUS", "2")
os.environ.setdefault("DIGIT_JOB_CPUS", "1")

import pytest  # noqa: E402

from digit_core.data import DATA_DIR_ENV, DataError, MnistNotFoundError, load_mnist  # noqa: E402
from tests.support.helpers import REQUIRE_DATA_ENV  # noqa: E402

NO_MNIST = (
    f"MNIST is not available: set {DATA_DIR_ENV} to a folder with the four *-ubyte.gz "
    "files (CI points it at ../shared/data/mnist)"
)


def data_required() -> bool:
    return os.environ.get(REQUIRE_DATA_ENV, "") not in ("", "0")


@pytest.fixture(scope="session")
def ray_cluster():
    """A real local Ray, started once for the whole test session (as the app starts it: loopback,
    token authentication, no dashboard) and stopped at its end."""
    from digit_core import cluster

    info = cluster.connect()
    yield info
    cluster.shutdown()


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST; without it a skip that says why, or a failure when ``DIGIT_REQUIRE_DATA``
    is set."""
    try:
        return load_mnist(download=False)
    except (MnistNotFoundError, DataError) as exc:
        if data_required():
            pytest.fail(
                f"{REQUIRE_DATA_ENV} is set, so MNIST must be there: {NO_MNIST} ({exc})", pytrace=False
            )
        pytest.skip(f"{NO_MNIST} ({exc})")
