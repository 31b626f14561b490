"""The official challenge figures in one call, and their per-class counterparts."""

import numpy as np

from .._validation import check_indicator, check_same_shape, check_scores
from ._challenge import challenge_scores, challenge_weights
from ._classification import (
    accuracy_scores,
    confusion_counts,
    f_beta_scores,
    f_measure_scores,
    g_beta_scores,
    nanmean_classes,
)
from ._ranking import areas_per_class


def cinc_report(y_true, y_score, y_pred, *, classes=None, year=2020):
    """The seven figures of the official 2020 evaluation, as a dict.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_score : array-like of shape (n_records, n_classes) or list of \
            n_classes arrays of shape (n_records, 2)
        Scores for AUROC and AUPRC, finite.
    y_pred : array-like of shape (n_records, n_classes)
        Binary predictions for the other figures.
    classes : sequence of str, default=None
        SNOMED-CT code of each column; see :func:`challenge_metric`.
    year : {2020, 2021} or None, default=2020
        Whose weight matrix the challenge metric uses. None: the columns
        are not challenge classes (PTB-XL's or LUDB's labels, say), so the
        challenge metric is not defined; it is left out of the report and
        ``classes`` is not read.

    Returns
    -------
    report : dict of str to float
        Keys ``"challenge"`` (unless ``year`` is None), ``"macro_auroc"``,
        ``"macro_auprc"``, ``"accuracy"``, ``"macro_f1"``, ``"f2"``,
        ``"g2"``: the names of :func:`make_cinc_scorers`.

    Examples
    --------
    >>> from sklearn_ecg.metrics import cinc_report
    >>> y_true = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    >>> y_score = [[0.8, 0.1, 0.2], [0.3, 0.6, 0.1], [0.2, 0.3, 0.9]]
    >>> codes = ["164889003", "164890007", "426783006"]
    >>> report = cinc_report(y_true, y_score, y_true, classes=codes)
    >>> report["challenge"], report["macro_auroc"]
    (1.0, 1.0)
    >>> "challenge" in cinc_report(y_true, y_score, y_true, classes=["NORM", "MI", "STTC"], year=None)
    False
    """
    y_true = check_indicator(y_true, "y_true")
    y_pred = check_indicator(y_pred, "y_pred")
    y_score = check_scores(y_score)
    check_same_shape(y_true, y_pred)
    check_same_shape(y_true, y_score, names=("y_true", "y_score"))
    values = {}
    if year is not None:
        weights, normal = challenge_weights(classes, y_true.shape[1], year)
        values["challenge"] = challenge_scores(y_true, y_pred, weights, normal)
    auroc, auprc = areas_per_class(y_true, y_score)
    values |= {
        "macro_auroc": nanmean_classes(auroc),
        "macro_auprc": nanmean_classes(auprc),
        "accuracy": accuracy_scores(y_true, y_pred),
        "macro_f1": f_measure_scores(y_true, y_pred),
        "f2": f_beta_scores(y_true, y_pred, beta=2),
        "g2": g_beta_scores(y_true, y_pred, beta=2),
    }
    return {name: float(np.asarray(value)) for name, value in values.items()}


def per_class_report(y_true, y_score, y_pred):
    """AUROC, AUPRC, F1 and the number of positive records of every class.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_score : array-like of shape (n_records, n_classes) or list of \
            n_classes arrays of shape (n_records, 2)
        Scores for AUROC and AUPRC, finite.
    y_pred : array-like of shape (n_records, n_classes)
        Binary predictions for F1.

    Returns
    -------
    report : dict of str to ndarray of shape (n_classes,)
        Keys ``"auroc"``, ``"auprc"``, ``"f1"`` (NaN where undefined, e.g.
        for a class without positive record) and ``"n_positive"``.

    Examples
    --------
    >>> from sklearn_ecg.metrics import per_class_report
    >>> report = per_class_report([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.3, 0.8], [0.7, 0.1]],
    ...                           [[1, 0], [0, 1], [1, 0]])
    >>> report["f1"], report["n_positive"]
    (array([1.        , 0.66666667]), array([2, 2]))
    """
    y_true = check_indicator(y_true, "y_true")
    y_pred = check_indicator(y_pred, "y_pred")
    y_score = check_scores(y_score)
    check_same_shape(y_true, y_pred)
    check_same_shape(y_true, y_score, names=("y_true", "y_score"))
    auroc, auprc = areas_per_class(y_true, y_score)
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return {"auroc": auroc, "auprc": auprc, "f1": f1, "n_positive": y_true.sum(axis=0)}
