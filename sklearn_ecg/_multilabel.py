"""Targets and probabilities of multi-label estimators: a 0/1 indicator matrix in, one array out."""

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
