import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before any TensorFlow import

import pytest  # noqa: E402

from digit_core.data import DATA_DIR_ENV, DataError, MnistNotFoundError, load_mnist  # noqa: E402

NO_MNIST = (
    f"MNIST is not available: set {DATA_DIR_ENV} to a folder with the four *-ubyte.gz "
    "files (CI points it at ../shared/data/mnist)"
)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, or a skip that says why."""
    try:
        return load_mnist(download=False)
    except (MnistNotFoundError, DataError) as exc:
        pytest.skip(f"{NO_MNIST} ({exc})")
