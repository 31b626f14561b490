"""Targets and probabilities of multi-label estimators: a 0/1 indicator matrix in, one array out."""

import re
import warnings

import numpy as np
from sklearn.utils import get_tags
from sklearn.utils.multiclass import type_of_target

from ._sklearn_compat import num_samples
from ._validation import check_indicator


def check_multilabel_target(y, owner):
    """``y`` as a boolean indicator matrix, or a clear error naming ``owner``."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    target_type = type_of_target(y, input_name="y", raise_unknown=True)
    if target_type not in ("binary", "multilabel-indicator"):
        raise ValueError(
            "y must be a binary indicator matrix (n_records, n_classes); the type of "
            f"the target is {target_type}."
        )
    return check_indicator(y, "y")


OFF_THRESHOLD = 1.0
"""Threshold of a class that is never predicted (see ``apply_thresholds``)."""


def target_classes(Y, classes, *, target_name="Y"):
    """The classes of the columns of ``Y``: ``classes``, else the column names of a DataFrame ``Y``.

    A DataFrame names its classes by its columns (unless they are the
    default ``0 .. n - 1``). When ``classes`` is given too, the names must
    be the same, in the same order: the same codes in another order would
    label every column with another class, so they raise rather than being
    reordered silently.

    Returns
    -------
    classes : array-like or None
        ``classes`` as given, else the column names as an array of str, else None.
    """
    names = _column_names(Y)
    if names is None:
        return classes
    if classes is None:
        return names
    given = np.asarray(classes).astype(str)
    if given.shape == names.shape and (given == names).all():
        return classes
    if sorted(given.tolist()) == sorted(names.tolist()):
        problem = "the same classes in another order; reorder the columns to match, e.g. Y[classes]"
    else:
        problem = (
            f"classes has {_first(np.setdiff1d(given, names))} that {target_name} lacks, and "
            f"{target_name} has {_first(np.setdiff1d(names, given))} that classes lacks"
        )
    raise ValueError(
        f"The columns of the DataFrame {target_name} ({_first(names)}) disagree with classes "
        f"({_first(given)}): {problem}. Every column would be given the wrong class."
    )


def estimator_target(Y, Y_given):
    """The 0/1 integer target handed to inner estimators: a DataFrame as ``Y_given`` when it is one.

    Keeping the columns of a pandas ``Y_given`` lets inner estimators that
    name their classes check them too.
    """
    values = Y.astype(np.int64)
    if _column_names(Y_given) is None or not hasattr(Y_given, "index"):
        return values
    return type(Y_given)(values, index=Y_given.index, columns=Y_given.columns)


NO_POSITIVE_WARNING = "classes have no positive record in the data given to fit"
"""Part of the warning of :func:`classes_without_positives`, for filters that silence its repeats."""


def classes_without_positives(Y, classes):
    """Mask of the classes without a positive record in ``Y``, which are never to be predicted.

    Raises for a ``Y`` without any positive, and warns once, naming the
    classes, for columns without one.
    """
    positives = Y.sum(axis=0)
    if not positives.any():
        raise ValueError(
            f"Y has no positive label at all (all {Y.shape[0]} records x {Y.shape[1]} classes are 0): "
            "there is nothing to learn. Check that the labels were read, e.g. that the records' "
            "codes are among the classes."
        )
    absent = positives == 0
    if absent.any():
        warnings.warn(
            f"{absent.sum()} of {len(absent)} {NO_POSITIVE_WARNING}: {_first(np.asarray(classes)[absent], 10)}. "
            f"They are never predicted (threshold {OFF_THRESHOLD:g}).",
            UserWarning,
            stacklevel=1,  # one location, so that the default filter shows a repeated message once
        )
    return absent


def warn_classes_missing_from_folds(Y, splits, classes):
    """One warning, naming the classes, for those with positives in ``Y`` but none in some training part.

    ``splits`` are the ``(train, test)`` index pairs of an inner
    cross-validation: a fold that trains without a class's positives never
    predicts it.
    """
    Y = np.asarray(Y)
    present = Y.any(axis=0)
    missing = np.zeros(Y.shape[1], dtype=bool)
    for train, _ in splits:
        missing |= present & ~Y[train].any(axis=0)
    if missing.any():
        warnings.warn(
            f"{missing.sum()} of {len(missing)} classes have positive records in y but none in the training "
            f"part of some inner fold: {_first(np.asarray(classes)[missing], 10)}. That fold's model never "
            "predicts them.",
            UserWarning,
            stacklevel=3,
        )


def fit_without_repeating_absent_classes(estimator, X, Y):
    """``estimator.fit(X, Y)``, silencing its warning of classes without positives.

    For meta-estimators that fit inner estimators on parts of the data they
    have themselves checked: they warn once, naming the classes, where each
    inner estimator would repeat it, naming column numbers.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f".*{re.escape(NO_POSITIVE_WARNING)}", category=UserWarning)
        return estimator.fit(X, Y)


def fixed_thresholds(threshold, absent):
    """The given threshold per class, and ``OFF_THRESHOLD`` for the ``absent`` classes."""
    return np.where(absent, OFF_THRESHOLD, check_thresholds(threshold, len(absent)))


def classes_and_thresholds(Y, Y_given, threshold):
    """``classes_`` and ``thresholds_`` of a fit on the indicator matrix ``Y`` (given as ``Y_given``).

    The classes are the column names of a DataFrame ``Y_given``, else
    ``0 .. n_classes - 1``; a class without a positive record warns and is
    never predicted (see :func:`classes_without_positives`).
    """
    names = target_classes(Y_given, None)
    classes = np.arange(Y.shape[1]) if names is None else np.asarray(names)
    return classes, fixed_thresholds(threshold, classes_without_positives(Y, classes))


def check_thresholds(threshold, n_classes):
    """A threshold or one per class, in [0, 1], as an array of one per class."""
    thresholds = np.asarray(threshold, dtype=np.float64)
    if thresholds.shape not in ((), (n_classes,)) or not ((thresholds >= 0) & (thresholds <= 1)).all():
        raise ValueError(
            f"threshold must be in [0, 1], one value or one per class ({n_classes}); got {threshold!r}."
        )
    return np.broadcast_to(thresholds, (n_classes,)).copy()


def positive_proba(estimator, X, n_classes):
    """Probability of the positive class of each column, as one array.

    Handles the list of per-output arrays of scikit-learn's multi-output
    classifiers, including an output that saw a single class in training
    (its array then has one column).
    """
    proba = estimator.predict_proba(X)
    fitted_classes = getattr(estimator, "classes_", None)
    if isinstance(proba, list):
        labels = fitted_classes if isinstance(fitted_classes, list) else [None] * len(proba)
        proba = np.column_stack([_positive_column(p, c) for p, c in zip(proba, labels)])
    else:
        proba = np.asarray(proba, dtype=np.float64)
        if (
            n_classes == 1
            and get_tags(estimator).target_tags.single_output
            and _columns_are_binary_classes(fitted_classes, proba)
        ):
            # A single-output estimator fitted on the one column of y: its
            # columns are the values 0 and 1 it saw, not labels. (A multi-label
            # estimator's one column is the label's probability.)
            proba = _positive_column(proba, fitted_classes)[:, None]
    if proba.shape != (num_samples(X), n_classes):
        raise ValueError(
            f"predict_proba of {type(estimator).__name__} gave shape {proba.shape}; "
            f"expected ({num_samples(X)}, {n_classes}) or a list of {n_classes} "
            "(n_records, 2) arrays."
        )
    return proba


def _columns_are_binary_classes(fitted_classes, proba):
    if fitted_classes is None or isinstance(fitted_classes, list) or proba.ndim != 2:
        return False
    fitted_classes = np.asarray(fitted_classes)
    return (
        fitted_classes.shape == (proba.shape[1],)
        and fitted_classes.dtype.kind in "biuf"
        and set(fitted_classes.tolist()) <= {0, 1}
    )


def _positive_column(proba, labels):
    proba = np.asarray(proba, dtype=np.float64)
    if labels is None:
        return proba[:, -1]
    positive = np.flatnonzero(np.asarray(labels) == 1)
    return proba[:, positive[0]] if positive.size else np.zeros(len(proba))


def _column_names(Y):
    """Column names of a DataFrame ``Y`` as str, or None (no DataFrame, or its default 0 .. n - 1)."""
    columns = getattr(Y, "columns", None)
    if columns is None or np.ndim(Y) != 2:
        return None
    names = list(columns)
    if names == list(range(len(names))):
        return None
    return np.asarray([str(name) for name in names])


def _first(values, n=5):
    """The first ``n`` of ``values``, for a message."""
    values = [str(value) for value in values]
    return ", ".join(values[:n]) + (f", ... ({len(values)} in all)" if len(values) > n else "")
