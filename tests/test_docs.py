"""The documentation: complete API reference, true user-guide snippets, a clean build.

The build runs ``sphinx-build -W --keep-going`` on copies of ``docs/`` and
``examples/`` (the gallery executes every example), so any Sphinx, autodoc or
numpydoc warning, or an example that raises, fails the suite.
"""

import doctest
import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sklearn_ecg

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
USER_GUIDE = sorted((DOCS / "user_guide").glob("*.rst"))
DOC_PACKAGES = ("sphinx", "numpydoc", "sphinx_gallery", "matplotlib")


def _public_modules():
    """sklearn_ecg's modules and subpackages whose name has no leading underscore."""
    names = [sklearn_ecg.__name__]
    for info in pkgutil.iter_modules(sklearn_ecg.__path__, prefix="sklearn_ecg."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            names.append(info.name)
    return names


def _documented_names():
    """Fully qualified names listed in api.rst: each autosummary entry under its currentmodule."""
    documented, module = set(), None
    for line in (DOCS / "api.rst").read_text().splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line)
        if directive:
            module = directive.group(1)
        elif module and re.fullmatch(r"   [A-Za-z_][A-Za-z0-9_]*", line):
            documented.add(f"{module}.{line.strip()}")
    return documented


def test_api_reference_lists_every_public_name():
    documented = _documented_names()
    missing = []
    for name in _public_modules():
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", ()):
            obj = getattr(module, public)
            # A top-level re-export is documented in the subpackage that defines it.
            home = obj.__module__.rsplit("._", 1)[0] if hasattr(obj, "__module__") else name
            if not {f"{name}.{public}", f"{home}.{public}"} & documented:
                missing.append(f"{name}.{public}")
    assert not missing, f"public names missing from docs/api.rst: {missing}"


def test_user_guide_lists_every_page():
    index = (DOCS / "user_guide" / "index.rst").read_text()
    pages = {path.stem for path in USER_GUIDE} - {"index"}
    assert pages, "no user guide pages"
    unlisted = sorted(page for page in pages if not re.search(rf"^   {page}$", index, re.MULTILINE))
    assert not unlisted, f"user guide pages missing from its toctree: {unlisted}"


@pytest.mark.parametrize("page", USER_GUIDE, ids=lambda path: path.stem)
def test_user_guide_snippets_run(page):
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        report=True,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} snippets of {page.name} failed (see stdout)"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    for package in DOC_PACKAGES:
        pytest.importorskip(package, reason=f"{package} is needed to build the docs (pip install -e '.[docs]')")
    # Build from copies, so that the generated pages and gallery never land in the repository.
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    # One torch thread: the suite runs on two workers (pytest -n 2) of a small machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "agg"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q"]
    start = time.perf_counter()
    run = subprocess.run(
        [*command, str(tmp_path / "docs"), str(tmp_path / "html")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - start
    assert run.returncode == 0, f"docs build failed after {elapsed:.0f} s:\n{run.stdout[-5000:]}\n{run.stderr[-10000:]}"
    for page in ("index.html", "api.html", "user_guide/evaluation.html", "auto_examples/plot_quickstart.html"):
        assert (tmp_path / "html" / page).is_file(), f"{page} was not built"
    # Every example ran and drew its figure.
    examples = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))
    images = {path.name for path in (tmp_path / "html" / "_images").glob("sphx_glr_plot_*_001.png")}
    assert examples and all(f"sphx_glr_{name}_001.png" in images for name in examples), (examples, images)
