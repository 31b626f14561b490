"""Sphinx configuration of the sklearn-ecg documentation.

Build (examples included) with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
Nothing here fetches from the network: no intersphinx, built-in theme.
"""

import contextlib
import io
import os

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import sklearn_ecg

# argparse wraps its help to the terminal width: fix it so the pages do not
# depend on the terminal that builds them.
os.environ["COLUMNS"] = "88"
# Examples plot off screen.
os.environ.setdefault("MPLBACKEND", "agg")

project = "sklearn-ecg"
author = "sklearn-ecg developers"
copyright = "sklearn-ecg developers, BSD-3-Clause"
release = sklearn_ecg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"

# numpydoc renders the Parameters/Attributes sections; the class template
# lists the methods, so numpydoc must not add its own member tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "write_computation_times": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    # An example that raises fails the build.
    "only_warn_on_example_error": False,
}

html_theme = "alabaster"
html_theme_options = {
    "description": "Multi-label arrhythmia classification from ECGs, the scikit-learn way",
    "fixed_sidebar": True,
}
html_static_path = []
html_show_sourcelink = False


class CommandHelp(SphinxDirective):
    """``.. command-help:: cv`` inserts the ``--help`` text of ``sklearn-ecg cv``.

    The page then shows the options of the installed command line, never a
    stale copy. With no argument it shows the top-level help.
    """

    optional_arguments = 1

    def run(self):
        from sklearn_ecg.cli import main

        argv = [*self.arguments, "--help"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(argv)
        text = out.getvalue().strip()
        if not text:
            raise self.error(f"'sklearn-ecg {' '.join(argv)}' printed nothing")
        return [nodes.literal_block(text, text, language="none")]


def skip_metadata_requests(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates for metadata routing.

    They are scikit-learn's, documented there, and their docstrings point
    into scikit-learn's own pages.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.add_directive("command-help", CommandHelp)
    app.connect("autodoc-skip-member", skip_metadata_requests)
