"""Progress on stderr: log lines, and the estimators' own progress output, unless ``--quiet``.

Standard output carries only results (the tables of ``cv`` and
``ablation``), so that it can be redirected to a file.
"""

import contextlib
import logging
import sys

from sklearn.pipeline import Pipeline

logger = logging.getLogger("sklearn_ecg.cli")


@contextlib.contextmanager
def logging_to_stderr(*, quiet):
    """Send the command line's log lines to stderr for the block; only warnings when ``quiet``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def warn(message):
    """A warning as one line on stderr, also with ``--quiet``."""
    logger.warning(f"sklearn-ecg: warning: {one_line(message)}")


def one_line(text):
    return " ".join(str(text).split())


def enabled():
    """Whether progress is shown (no ``--quiet``)."""
    return logger.isEnabledFor(logging.INFO)


def show_training_progress(pipeline):
    """Turn on the progress output of every estimator in ``pipeline`` (epochs, inner folds).

    Pipelines' own ``verbose`` (step timings) stays off.
    """
    params = pipeline.get_params()
    names = [
        name for name in params
        if name.endswith("__verbose") and not isinstance(params[name.rpartition("__")[0]], Pipeline)
    ]
    pipeline.set_params(**dict.fromkeys(names, 1))
    return pipeline


@contextlib.contextmanager
def training_output_to_stderr():
    """The estimators print their epoch tables on stdout: send them to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        yield
