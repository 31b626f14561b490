"""The fitted folds of ``sklearn-ecg cv``, kept in the report folder until the report is written.

Each fold's fitted pipeline is saved in ``REPORT/fitted_folds`` as soon as
it is fitted, under a key made of its training records, beside the run's
settings. A run that is interrupted or fails keeps them, and ``--resume``
loads them instead of fitting again: only the folds not yet fitted are
trained, and every fold is scored again (cheap next to training). Once the
report is written, the folder is removed.
"""

import contextlib
import json
import shutil
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.metaestimators import available_if

from .._header_file import atomic_file, read_header, read_payload, write_with_header
from ._errors import Interrupted
from ._files import check_writable, remove_if_empty
from ._progress import logger

FOLDER = "fitted_folds"
SETTINGS = "settings.json"
FOLD_MARKER = b"sklearn-ecg fitted fold\n"
# Options that do not change the results: free to differ when resuming.
FREE_OPTIONS = ("output", "resume", "n_jobs", "cache_dir")


def fold_path(folder, X, y):
    """Where the pipeline fitted on (X, y) is kept."""
    return Path(folder) / f"fold-{joblib.hash((np.asarray(X), np.asarray(y)))}.model"


class ResumableFit(MetaEstimatorMixin, BaseEstimator):
    """``estimator`` (a pipeline), fitted once per training set: kept in ``folder``, loaded when fitted again.

    Parameters
    ----------
    estimator : Pipeline
        The pipeline to fit.
    folder : path-like
        Folder of the fitted pipelines.
    """

    def __init__(self, estimator, *, folder):
        self.estimator = estimator
        self.folder = folder

    def fit(self, X, y):
        path = fold_path(self.folder, X, y)
        if path.is_file():
            self.estimator_ = read_payload(path)
            return self
        start = time.perf_counter()
        self.estimator_ = clone(self.estimator).fit(X, y)
        write_with_header(path, FOLD_MARKER, {"fit_time": time.perf_counter() - start}, self.estimator_)
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        return self.estimator_.predict(X)

    @available_if(lambda self: hasattr(self.estimator[-1], "gate_weights"))
    def gate_weights(self, X):
        """The gate weights of the pipeline's final step, on ``X`` transformed by the steps before it."""
        return self.estimator_[-1].gate_weights(self.estimator_[:-1].transform(X))

    @property
    def modality_names_(self):
        return self.estimator_[-1].modality_names_


class FoldCheckpoints:
    """The ``fitted_folds`` folder of the report folder ``report``."""

    def __init__(self, report):
        self.report = Path(report)
        self.folder = self.report / FOLDER

    def check(self, settings, *, resume):
        """Before any work: the report folder is writable, and kept folds are resumed with their settings."""
        check_writable(self.report, "report folder", folder=True)
        if not resume:
            if self.folder.exists():
                raise ValueError(
                    f"{str(self.report)!r} holds {self.count()} fitted folds of an interrupted run: "
                    f"add --resume to continue it, or remove {str(self.folder)!r} to start afresh"
                )
            return
        saved = self.folder / SETTINGS
        if not saved.is_file():
            raise ValueError(f"--resume: {str(self.report)!r} holds no interrupted run to resume")
        kept = json.loads(saved.read_text())
        changed = [
            f"--{name.replace('_', '-')} {value} here, {kept.get(name)} there"
            for name, value in _binding(settings).items() if kept.get(name) != value
        ]
        if changed:
            raise ValueError(
                f"--resume: the options differ from those of the run kept in {str(self.report)!r} "
                f"({'; '.join(changed)}); give the same options, or remove {str(self.folder)!r}"
            )

    @contextlib.contextmanager
    def kept(self, settings, n_folds):
        """Yield the folder of the fitted folds; on failure keep those fitted, or remove all if none."""
        created = not self.report.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(self.folder / SETTINGS) as partial:
            partial.write_text(json.dumps(_binding(settings), indent=2))
        done = self.count()
        if done:
            logger.info(f"resuming: {done} of {n_folds} folds already fitted")
        try:
            yield self.folder
        except BaseException as error:
            done = self.count()
            if not done:
                self.discard()
                if created:
                    remove_if_empty(self.report)
            message = f"{done} of {n_folds} folds kept in {self.folder}; the same command with --resume continues"
            if isinstance(error, KeyboardInterrupt):
                raise Interrupted(message if done else "no fold was finished; nothing kept") from None
            if done:
                logger.warning(message)
            raise

    def count(self):
        return len(list(self.folder.glob("fold-*.model")))

    def fit_time(self, X, y):
        """The time the pipeline kept for (X, y) took to fit, in this run or an interrupted one."""
        return read_header(fold_path(self.folder, X, y), FOLD_MARKER, "a fitted fold")["fit_time"]

    def discard(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def _binding(settings):
    return {name: value for name, value in settings.items() if name not in FREE_OPTIONS}
