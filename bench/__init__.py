"""Benchmarks, each run from the project root as a module: ``python -m bench.latency --quick``.

Importing the package quiets TensorFlow's C++ logging before any script can load TensorFlow.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must be set before TensorFlow loads
