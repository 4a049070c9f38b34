import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before any TensorFlow import

import pytest  # noqa: E402

from digit_core.data import DATA_DIR_ENV, DataError, MnistNotFoundError, load_mnist  # noqa: E402
from tests.support.app_setup import set_up_like_the_entry_point  # noqa: E402
from tests.support.helpers import REQUIRE_DATA_ENV  # noqa: E402

NO_MNIST = (
    f"MNIST is not available: set {DATA_DIR_ENV} to a folder with the four *-ubyte.gz "
    "files (CI points it at ../shared/data/mnist)"
)


def data_required() -> bool:
    return os.environ.get(REQUIRE_DATA_ENV, "") not in ("", "0")


@pytest.fixture(scope="session", autouse=True)
def app_set_up():
    """Page scripts run alone under AppTest get the set-up that Home.py gives every real session."""
    set_up_like_the_entry_point()


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
