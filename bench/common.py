"""Shared by the benchmark scripts: the machine header, the JSON writer, MNIST and the models."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    # Read from the installed metadata, so the header does not have to import TensorFlow.
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """The machine a figure was measured on: numbers mean little without it."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "pillow": _version("pillow"),
        "platform": platform.platform(),
    }


def print_machine() -> dict:
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable)")
    print(
        f"python {info['python']}, tensorflow {info['tensorflow']}, keras {info['keras']}, "
        f"numpy {info['numpy']}, pillow {info['pillow']}"
    )
    print(flush=True)
    return info


def write_json(path: str | None, payload: dict) -> None:
    if not path:
        return
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


def mnist():
    """Real MNIST from $DIGIT_DATA_DIR (or the other local places); exits with the reason if absent."""
    from digit_core.data import DataError, MnistNotFoundError, load_mnist

    try:
        return load_mnist(download=False)  # a benchmark never downloads behind your back
    except (MnistNotFoundError, DataError) as exc:
        raise SystemExit(str(exc)) from exc


def load_models(names: list[str], untrained: bool) -> dict:
    """Registry models by name or path; with ``untrained``, fresh default ones (to test the code path)."""
    if untrained:
        from digit_core.models import build_ann, build_cnn

        builders = {"cnn": build_cnn, "ann": build_ann}
        unknown = [n for n in names if n not in builders]
        if unknown:
            raise SystemExit(f"--untrained knows only cnn and ann, not {unknown}")
        return {name: builders[name]() for name in names}
    from digit_core.registry import ModelError, load_model

    try:
        return {name: load_model(name) for name in names}
    except ModelError as exc:
        raise SystemExit(str(exc)) from exc


def parse_args(parser, quick: dict):
    """Add --quick and --json, then parse. --quick swaps in ``quick`` as the defaults, so that an
    option given explicitly still wins (``--quick --count 50``)."""
    settings = " ".join(f"--{key.replace('_', '-')} {value}" for key, value in quick.items())
    parser.add_argument("--quick", action="store_true", help=f"tiny run to check the code path: {settings}")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(**quick)
        args = parser.parse_args()
    return args
