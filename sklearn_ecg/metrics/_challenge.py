"""The PhysioNet/CinC challenge metric: weighted credit for partly right diagnoses."""

import numpy as np

from .._validation import check_indicator, check_same_shape
from ..classes import scored_classes
from ._checks import resolve_classes


def challenge_metric(y_true, y_pred, *, classes=None, year=2020):
    """Normalised challenge score of binary multi-label predictions.

    Each recording's credit is spread over the union of its true and predicted
    classes; a prediction of class ``k`` for a recording of true class ``j``
    earns ``weights[j, k]`` of the year's weight matrix. The total is scaled so
    that the true labels score 1 and predicting only the normal class (sinus
    rhythm) for every recording scores 0, as in the official
    ``evaluate_12ECG_score.py``. Predictions worse than that are negative.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean. Used as given: unlike the official
        file loader, no rule adds or removes the normal class.
    classes : sequence of str, default=None
        SNOMED-CT code of each column (any code of an equivalence group
        names the group). None means all scored classes of ``year`` in the
        order of ``sklearn_ecg.classes.scored_classes(year).classes``. The
        normal class 426783006 must be among them.
    year : {2020, 2021}, default=2020
        Whose weight matrix to use.

    Returns
    -------
    score : float
        1 for perfect predictions, 0 for always-normal; 0 when the true labels
        themselves score no better than always-normal (the official code
        returns NaN there).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.metrics import challenge_metric
    >>> y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    >>> classes = ["164889003", "164890007", "426783006"]  # AF, AFL, sinus rhythm
    >>> challenge_metric(y_true, y_true, classes=classes)
    1.0
    >>> y_pred = [[0, 1, 0], [1, 0, 0], [0, 0, 1]]  # AF and AFL swapped: weight 0.5
    >>> round(challenge_metric(y_true, y_pred, classes=classes), 4)  # (1.5 - 1.25) / (3 - 1.25)
    0.1429
    """
    y_true = check_indicator(y_true, "y_true")
    y_pred = check_indicator(y_pred, "y_pred")
    check_same_shape(y_true, y_pred)
    weights, normal = challenge_weights(classes, y_true.shape[1], year)
    return float(challenge_scores(y_true, y_pred, weights, normal))


def modified_confusion_matrix(y_true, y_pred):
    """Multi-label confusion matrix on which the challenge metric is built.

    Entry ``[j, k]`` adds, over recordings with true class ``j`` and predicted
    class ``k``, one over the number of classes true or predicted for that
    recording (at least one).

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        True labels, 0/1 or boolean.
    y_pred : array-like of shape (n_records, n_classes)
        Predicted labels, 0/1 or boolean.

    Returns
    -------
    matrix : ndarray of shape (n_classes, n_classes)
        Rows true classes, columns predicted classes.

    Examples
    --------
    >>> from sklearn_ecg.metrics import modified_confusion_matrix
    >>> modified_confusion_matrix([[1, 0], [1, 1]], [[0, 1], [1, 1]])
    array([[0.5, 1. ],
           [0.5, 0.5]])
    """
    y_true = check_indicator(y_true, "y_true")
    y_pred = check_indicator(y_pred, "y_pred")
    check_same_shape(y_true, y_pred)
    share = 1.0 / np.maximum(1, (y_true | y_pred).sum(axis=1))
    return (y_true * share[:, None]).T @ y_pred


def challenge_weights(classes, n_columns, year):
    """Weight submatrix of the named columns, and the normal class's column."""
    positions = resolve_classes(classes, n_columns, year)
    table = scored_classes(year)
    normal = np.flatnonzero(positions == table.index_of(table.normal_class))
    if normal.size == 0:
        raise ValueError(
            f"The challenge metric needs the normal class {table.normal_class} "
            "(sinus rhythm) among the classes."
        )
    return table.weights[np.ix_(positions, positions)], int(normal[0])


def challenge_scores(y_true, y_pred, weights, normal):
    """Challenge metric of one or a stack of predictions, without validation.

    ``y_pred`` may carry leading axes, ``(..., n_records, n_classes)``: every
    slice is scored against the same ``y_true`` (threshold tuning scores all
    candidate thresholds of a class in one call).
    """
    # The credit of one recording is the weight row of its true classes,
    # summed, dotted with its outputs: precompute the summed rows once.
    credit = y_true @ weights
    n_true = y_true.sum(axis=1)
    observed = _normalised_credit(credit, y_pred, (y_true | y_pred).sum(axis=-1))
    correct = _normalised_credit(credit, y_true, n_true)
    # Always-normal outputs: the union grows by one wherever normal is false.
    inactive = np.sum(credit[:, normal] / np.maximum(1, n_true + ~y_true[:, normal]))
    denominator = correct - inactive
    if denominator == 0:
        return np.zeros(np.shape(observed))
    return (observed - inactive) / denominator


def _normalised_credit(credit, outputs, n_union):
    per_record = np.einsum("...ik,ik->...i", outputs, credit)
    return np.sum(per_record / np.maximum(1, n_union), axis=-1)
