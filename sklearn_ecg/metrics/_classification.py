"""Accuracy, F-measure, F-beta and G-beta as the 2020 challenge defines them."""

import warnings

import numpy as np

from .._validation import check_indicator, check_same_shape


def challenge_accuracy(y_true, y_pred):
    """Fraction of recordings whose whole label vector is predicted exactly.

    The challenge's "accuracy" is subset accuracy: a recording counts only if
    every class is right. It equals ``sklearn.metrics.accuracy_score`` on
    indicator matrices; the name says which definition is meant.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean.

    Returns
    -------
    accuracy : float

    Examples
    --------
    >>> from sklearn_ecg.metrics import challenge_accuracy
    >>> challenge_accuracy([[1, 0], [0, 1]], [[1, 0], [1, 1]])
    0.5
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(accuracy_scores(y_true, y_pred))


def macro_f_measure(y_true, y_pred):
    """Macro F1 over classes, as the challenge computes it.

    Per class ``2 TP / (2 TP + FP + FN)`` over recordings; a class with a zero
    denominator (never true, never predicted) is NaN and left out of the mean.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean.

    Returns
    -------
    f_measure : float
        NaN if no class is ever true or predicted.

    Examples
    --------
    >>> from sklearn_ecg.metrics import macro_f_measure
    >>> macro_f_measure([[1, 0, 0], [1, 1, 0]], [[1, 0, 0], [0, 1, 0]])
    0.8333333333333333
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(f_measure_scores(y_true, y_pred))


def f_beta_measure(y_true, y_pred, *, beta=2):
    """Macro F-beta with per-recording normalised counts (challenge 2020).

    Each recording adds ``1 / max(1, number of its true classes)`` to the
    confusion counts of every class; per class
    ``(1 + beta**2) TP / ((1 + beta**2) TP + FP + beta**2 FN)``, NaN for a zero
    denominator, then the NaN-ignoring mean over classes.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean.
    beta : float, default=2
        Weight of recall against precision.

    Returns
    -------
    f_beta : float

    Examples
    --------
    >>> from sklearn_ecg.metrics import f_beta_measure
    >>> f_beta_measure([[1, 1], [0, 1]], [[1, 0], [0, 1]])  # mean of 1 and 5/7
    0.8571428571428572
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(f_beta_scores(y_true, y_pred, beta=beta))


def g_beta_measure(y_true, y_pred, *, beta=2):
    """Macro G-beta with per-recording normalised counts (challenge 2020).

    Counts as in :func:`f_beta_measure`; per class
    ``TP / (TP + FP + beta FN)`` (beta, not squared, as in the official code),
    then the NaN-ignoring mean over classes.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean.
    beta : float, default=2
        Weight of false negatives.

    Returns
    -------
    g_beta : float

    Examples
    --------
    >>> from sklearn_ecg.metrics import g_beta_measure
    >>> g_beta_measure([[1, 1], [0, 1]], [[1, 0], [0, 1]])  # mean of 1 and 1/2
    0.75
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(g_beta_scores(y_true, y_pred, beta=beta))


def confusion_counts(y_true, y_pred, *, normalize=False):
    """Per-class TP, FP, FN, TN of one or a stack of predictions.

    ``y_pred`` may carry leading axes ``(..., n_records, n_classes)``; the
    counts then carry them too. With ``normalize`` each recording counts
    ``1 / max(1, number of its true classes)`` instead of 1.

    Returns
    -------
    tp, fp, fn, tn : ndarray of shape (..., n_classes)
    """
    n_true = y_true.sum(axis=1)
    share = 1.0 / np.maximum(1, n_true) if normalize else np.ones(len(y_true))
    true_share = y_true * share[:, None]
    tp = np.einsum("...ic,ic->...c", y_pred, true_share)
    fp = np.einsum("...ic,i->...c", y_pred, share) - tp
    fn = true_share.sum(axis=0) - tp
    tn = share.sum() - tp - fp - fn
    return tp, fp, fn, tn


def accuracy_scores(y_true, y_pred):
    """Subset accuracy of one or a stack of predictions."""
    return np.all(y_pred == y_true, axis=-1).mean(axis=-1)


def f_measure_scores(y_true, y_pred):
    """Macro F1 of one or a stack of predictions."""
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    return nanmean_classes(_ratio(2 * tp, 2 * tp + fp + fn))


def f_beta_scores(y_true, y_pred, *, beta=2):
    """Macro F-beta (normalised counts) of one or a stack of predictions."""
    tp, fp, fn, _ = confusion_counts(y_true, y_pred, normalize=True)
    weighted_tp = (1 + beta**2) * tp
    return nanmean_classes(_ratio(weighted_tp, weighted_tp + fp + beta**2 * fn))


def g_beta_scores(y_true, y_pred, *, beta=2):
    """Macro G-beta (normalised counts) of one or a stack of predictions."""
    tp, fp, fn, _ = confusion_counts(y_true, y_pred, normalize=True)
    return nanmean_classes(_ratio(tp, tp + fp + beta * fn))


def nanmean_classes(values):
    """Mean over the last axis ignoring NaN; NaN, silently, if all are NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=-1)


def _ratio(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / denominator, np.nan)


def _check_labels(y_true, y_pred):
    y_true = check_indicator(y_true, "y_true")
    y_pred = check_indicator(y_pred, "y_pred")
    check_same_shape(y_true, y_pred)
    return y_true, y_pred
