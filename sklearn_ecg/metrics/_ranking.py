"""Macro AUROC and AUPRC as the 2020 challenge computes them."""

import numpy as np

from .._validation import check_indicator, check_same_shape, check_scores
from ._classification import nanmean_classes


def macro_auroc(y_true, y_score):
    """Area under the ROC curve, averaged over classes, as the challenge does.

    Per class, the curve has a point at every distinct score (a recording is
    positive at threshold ``t`` when its score is ``>= t``) plus one above the
    maximum; the area is the trapezoid rule on specificity against
    sensitivity. A class without positives or without negatives is NaN and
    left out of the mean. Same value as ``sklearn.metrics.roc_auc_score``
    where both are defined.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_score : array-like of shape (n_records, n_classes) or list of \
            n_classes arrays of shape (n_records, 2)
        Scores (probabilities or decision values), finite.

    Returns
    -------
    auroc : float

    Examples
    --------
    >>> from sklearn_ecg.metrics import macro_auroc
    >>> macro_auroc([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.3, 0.8], [0.7, 0.1]])
    0.75
    """
    auroc, _ = areas_per_class(*_check_ranking(y_true, y_score))
    return float(nanmean_classes(auroc))


def macro_auprc(y_true, y_score):
    """Area under the precision-recall curve, averaged over classes.

    Per class, over the same thresholds as :func:`macro_auroc`, the sum of
    each step in recall times the precision at the new threshold (a step
    function, no interpolation). A class without positives is NaN and left
    out of the mean. Differs from ``sklearn.metrics.average_precision_score``
    on tied scores.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_score : array-like of shape (n_records, n_classes) or list of \
            n_classes arrays of shape (n_records, 2)
        Scores (probabilities or decision values), finite.

    Returns
    -------
    auprc : float

    Examples
    --------
    >>> from sklearn_ecg.metrics import macro_auprc
    >>> macro_auprc([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.3, 0.8], [0.7, 0.1]])
    0.9166666666666666
    """
    _, auprc = areas_per_class(*_check_ranking(y_true, y_score))
    return float(nanmean_classes(auprc))


def areas_per_class(y_true, y_score):
    """AUROC and AUPRC of every class at once, by one sort per class.

    Returns
    -------
    auroc, auprc : ndarray of shape (n_classes,)
        NaN where undefined.
    """
    n_classes, n_records = y_score.shape[1], y_score.shape[0]
    # Class-major copies: each class's sort and running sum are contiguous.
    scores, labels = np.ascontiguousarray(y_score.T), np.ascontiguousarray(y_true.T)
    order = np.argsort(-scores, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    tp = np.cumsum(np.take_along_axis(labels, order, axis=1), axis=1)
    # A threshold at a distinct score admits its whole tie group: the curve's
    # points are the last records of the groups, in class-major order.
    group_end = np.ones(scores.shape, dtype=bool)
    group_end[:, :-1] = scores[:, :-1] != scores[:, 1:]
    cls, position = np.nonzero(group_end)
    tp_end = tp[cls, position]
    fp_end = position + 1 - tp_end
    # Each point joins the previous one of its class, the first one (0, 0).
    first = np.ones(len(cls), dtype=bool)
    first[1:] = cls[1:] != cls[:-1]
    tp_before = np.where(first, 0, np.roll(tp_end, 1))
    fp_before = np.where(first, 0, np.roll(fp_end, 1))
    positives = tp[:, -1][cls]
    negatives = n_records - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        recall_step = (tp_end - tp_before) / positives
        tnr_sum = (2 * negatives - fp_end - fp_before) / negatives
        precision = tp_end / (position + 1)
    auroc = np.bincount(cls, 0.5 * recall_step * tnr_sum, minlength=n_classes)
    auprc = np.bincount(cls, recall_step * precision, minlength=n_classes)
    return auroc, auprc


def _check_ranking(y_true, y_score):
    y_true = check_indicator(y_true, "y_true")
    y_score = check_scores(y_score)
    check_same_shape(y_true, y_score, names=("y_true", "y_score"))
    return y_true, y_score
