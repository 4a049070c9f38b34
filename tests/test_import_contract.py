"""What importing the library costs: ``digit_core`` never imports Streamlit, and every module not
listed below as needing TensorFlow imports without loading it, or Ray (so the CLI's start, the home
page and most unit tests stay fast; the job modules import Ray when a job starts). Each module is
imported in a fresh interpreter."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import digit_core

PACKAGE = Path(digit_core.__file__).resolve().parent
# The modules that build, train or run models. Any other module, a new one included, must not load
# TensorFlow (or Keras) when imported.
NEEDS_TENSORFLOW = {
    "augment",
    "inference",
    "inside",
    "models",
    "pipeline",
    "progress_bar",
    "saliency",
    "training",
}
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__main__")
LIGHT = ["digit_core"] + [f"digit_core.{m}" for m in MODULES if m not in NEEDS_TENSORFLOW | {"__init__"}]


def loaded_after_import(module: str) -> list[str]:
    """Which of tensorflow, keras, ray and streamlit a fresh interpreter holds after ``import module``."""
    code = (
        f"import sys, {module}; "
        "print(' '.join(m for m in ('tensorflow', 'keras', 'ray', 'streamlit') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_every_module_is_either_light_or_declared_to_need_tensorflow():
    assert set(MODULES) >= NEEDS_TENSORFLOW, NEEDS_TENSORFLOW - set(MODULES)
    assert len(LIGHT) >= 10  # config, data, registry, handwriting, preprocess, jobs, worker, cli, ...


@pytest.mark.parametrize("module", LIGHT)
def test_a_light_module_imports_without_tensorflow_or_streamlit(module):
    assert loaded_after_import(module) == []


def test_no_module_of_the_library_imports_streamlit_even_lazily():
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}:{node.lineno}" for name in names if name.split(".")[0] == "streamlit"]
    assert found == []


def test_the_whole_library_loaded_still_holds_no_streamlit():
    modules = [f"digit_core.{m}" for m in MODULES if m != "__init__"]
    code = f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
    code += "print('streamlit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
