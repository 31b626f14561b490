"""Cross-validation that keeps the out-of-fold outputs, for the challenge report."""

import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .metrics import cinc_report
from .metrics._classification import confusion_counts
from .metrics._ranking import areas_per_class
from .model_selection import MultilabelStratifiedKFold

__all__ = ["cross_val_cinc_report"]


def cross_val_cinc_report(
    estimator,
    X,
    y,
    *,
    classes,
    cv=10,
    groups=None,
    year=2020,
    n_jobs=None,
    verbose=0,
):
    """Cross-validate a multi-label classifier and report the challenge figures.

    Unlike :func:`sklearn.model_selection.cross_validate`, which returns one
    score per fold, this keeps every fold's out-of-fold probabilities and
    predictions, so that the figures can also be computed on all records at
    once (pooled), as the challenge papers report them, and per class.

    Parameters
    ----------
    estimator : estimator
        Multi-label classifier with ``predict_proba`` and ``predict``
        returning ``(n_records, n_classes)`` arrays.
    X : array-like of shape (n_records, ...)
        Signals.
    y : array-like of shape (n_records, n_classes)
        Multi-hot labels.
    classes : sequence of str
        SNOMED-CT code of each column of ``y``.
    cv : int or cross-validation generator, default=10
        An int means :class:`~sklearn_ecg.model_selection.MultilabelStratifiedKFold`
        with that many folds and ``random_state=0``.
    groups : array-like of shape (n_records,), default=None
        Passed to the splitter.
    year : {2020, 2021}, default=2020
        Weights of the challenge metric.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).
    verbose : int, default=0
        Progress bar over folds when positive.

    Returns
    -------
    result : Bunch
        ``folds``: list of dicts, each fold's seven figures plus ``fit_time``
        and ``score_time``; ``pooled``: the seven figures on all out-of-fold
        outputs; ``per_class``: dict of arrays (``auroc``, ``auprc``, ``f1``,
        ``n_positive``); ``y_true``, ``y_score``, ``y_pred``: out-of-fold
        arrays; ``fold_of``: test fold of each record; ``classes``.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn_ecg.datasets import make_synthetic_ecg
    >>> from sklearn_ecg.evaluation import cross_val_cinc_report
    >>> data = make_synthetic_ecg(60, random_state=0)
    >>> result = cross_val_cinc_report(
    ...     KNeighborsClassifier(), data.X.reshape(60, -1), data.y, classes=data.classes, cv=3)
    >>> sorted(result.pooled)
    ['accuracy', 'challenge', 'f2', 'g2', 'macro_auroc', 'macro_auprc', 'macro_f1']
    """
    y = np.asarray(y)
    if isinstance(cv, int):
        cv = MultilabelStratifiedKFold(cv, random_state=0)
    cv = check_cv(cv, y, classifier=True)
    splits = list(cv.split(X, y, groups))
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_predict)(clone(estimator), X, y, train, test)
        for train, test in tqdm(splits, desc="folds", disable=not verbose)
    )
    y_score = np.zeros(y.shape, dtype=float)
    y_pred = np.zeros_like(y)
    fold_of = np.full(len(y), -1)
    folds = []
    for fold, ((_, test), (score, pred, fit_time, score_time)) in enumerate(zip(splits, outputs)):
        y_score[test], y_pred[test], fold_of[test] = score, pred, fold
        figures = cinc_report(y[test], score, pred, classes=classes, year=year)
        folds.append({**figures, "fit_time": fit_time, "score_time": score_time})
    return Bunch(
        folds=folds,
        pooled=cinc_report(y, y_score, y_pred, classes=classes, year=year),
        per_class=_per_class(y, y_score, y_pred),
        y_true=y,
        y_score=y_score,
        y_pred=y_pred,
        fold_of=fold_of,
        classes=np.asarray(classes),
    )


def _fit_and_predict(estimator, X, y, train, test):
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    X_test = X[test]
    score, pred = estimator.predict_proba(X_test), estimator.predict(X_test)
    return np.asarray(score), np.asarray(pred), fit_time, time.perf_counter() - start


def _per_class(y_true, y_score, y_pred):
    auroc, auprc = areas_per_class(y_true.astype(float), y_score)
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return {"auroc": auroc, "auprc": auprc, "f1": f1, "n_positive": y_true.sum(axis=0)}
