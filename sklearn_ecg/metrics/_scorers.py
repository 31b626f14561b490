"""scikit-learn scorers for the challenge metrics."""

from functools import partial

import numpy as np
from sklearn.metrics import make_scorer

# Subclassing the class make_scorer returns (a private scikit-learn name,
# imported through _sklearn_compat) keeps the challenge scorer in
# cross_validate's shared prediction cache (one predict call for all label
# metrics) while reading the codes off the fitted estimator, which a plain
# make_scorer score function never sees.
from .._sklearn_compat import Scorer
from ..classes import scored_classes
from ._challenge import challenge_metric, challenge_scores, challenge_weights
from ._classification import (
    accuracy_scores,
    challenge_accuracy,
    f_beta_measure,
    f_beta_scores,
    f_measure_scores,
    g_beta_measure,
    g_beta_scores,
    macro_f_measure,
)
from ._ranking import macro_auprc, macro_auroc

LABEL_METRICS = ("challenge", "f2", "g2", "macro_f1", "accuracy")
"""Names of the metrics of binary predictions, which thresholds change (see :func:`stacked_label_metric`)."""

_SCORE_RESPONSE = ("predict_proba", "decision_function")


def make_cinc_scorers(*, classes=None, year=2020):
    """Scorers for the seven official challenge figures.

    Use the dict as ``scoring=`` of ``cross_validate``, ``GridSearchCV``
    (with e.g. ``refit="challenge"``) and the like. The label metrics call
    ``predict``; AUROC and AUPRC call ``predict_proba`` (or
    ``decision_function`` if there is none), whose multi-label output may be
    an ``(n_records, n_classes)`` array or a list of ``(n_records, 2)``
    arrays (``MultiOutputClassifier``, ``KNeighborsClassifier``).

    Parameters
    ----------
    classes : sequence of str, default=None
        SNOMED-CT code of each column of the targets, for the challenge
        metric. None: the fitted estimator's ``classes_`` when that is a 1-D
        array of strings (codes), else every scored class of ``year`` in
        table order.
    year : {2020, 2021}, default=2020
        Whose weight matrix the challenge metric uses.

    Returns
    -------
    scorers : dict of str to callable
        Keys ``"challenge"``, ``"f2"``, ``"g2"``, ``"macro_f1"``,
        ``"accuracy"``, ``"macro_auroc"``, ``"macro_auprc"``; greater is
        better for all.

    Notes
    -----
    scikit-learn reads an estimator whose ``classes_`` has exactly two
    entries as a binary classifier and passes only one column of its
    ``predict_proba`` to the scorer; AUROC and AUPRC then fail with a shape
    error. Score two-class multi-label models with the metric functions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn_ecg.metrics import make_cinc_scorers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] <= 0]).astype(int)
    >>> scorers = make_cinc_scorers(classes=["164889003", "164890007", "426783006"])
    >>> results = cross_validate(KNeighborsClassifier(), X, y, cv=3, scoring=scorers)
    >>> sorted(key for key in results if key.startswith("test_"))[:3]
    ['test_accuracy', 'test_challenge', 'test_f2']
    """
    scored_classes(year)  # fails early on a bad year
    if classes is not None:
        challenge_weights(classes, len(classes), year)  # fails early on bad codes
    return {
        "challenge": _ChallengeScorer(classes=classes, year=year),
        "f2": make_scorer(f_beta_measure, beta=2),
        "g2": make_scorer(g_beta_measure, beta=2),
        "macro_f1": make_scorer(macro_f_measure),
        "accuracy": make_scorer(challenge_accuracy),
        "macro_auroc": make_scorer(macro_auroc, response_method=_SCORE_RESPONSE),
        "macro_auprc": make_scorer(macro_auprc, response_method=_SCORE_RESPONSE),
    }


class _ChallengeScorer(Scorer):
    """make_scorer(challenge_metric) that can read the codes off the estimator."""

    def __init__(self, *, classes, year):
        super().__init__(challenge_metric, 1, {"year": year}, "predict")
        self._classes = classes

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        classes = self._classes if self._classes is not None else _codes_of(estimator)
        return super()._score(method_caller, estimator, X, y_true, classes=classes, **kwargs)


def _codes_of(estimator):
    """The estimator's ``classes_`` if it is a 1-D array of codes, else None."""
    classes = getattr(estimator, "classes_", None)
    if classes is None or isinstance(classes, list):
        return None
    classes = np.asarray(classes)
    if classes.ndim == 1 and all(isinstance(code, str) for code in classes.tolist()):
        return classes
    return None


def stacked_label_metric(name, *, n_columns, classes=None, year=2020):
    """A label metric that scores a whole stack of candidate predictions in one call.

    The form of the metrics that threshold tuning maximises (see
    :func:`~sklearn_ecg.model_selection.tune_thresholds`, which also accepts
    the returned callable as ``scoring``): every candidate threshold of a
    class is scored at once. Building it checks the codes, so that a bad
    code fails before any training.

    Parameters
    ----------
    name : {"challenge", "f2", "g2", "macro_f1", "accuracy"}
        The metric, one of :data:`LABEL_METRICS`.
    n_columns : int
        Number of classes (columns) of the predictions to score.
    classes : array-like of str of shape (n_columns,), default=None
        SNOMED-CT code of each column, for the challenge metric; None: the
        year's scored classes (then ``n_columns`` must be their number).
    year : {2020, 2021}, default=2020
        Whose weight matrix the challenge metric uses.

    Returns
    -------
    metric : callable
        ``metric(y_true, y_pred) -> scores``, with ``y_true`` a boolean
        ``(n_records, n_classes)`` array and ``y_pred`` a boolean ``(...,
        n_records, n_classes)`` stack; the scores have the stack's leading
        shape. The arrays are not validated.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.metrics import stacked_label_metric
    >>> metric = stacked_label_metric("macro_f1", n_columns=2)
    >>> y_true = np.array([[1, 0], [0, 1]], dtype=bool)
    >>> candidates = np.stack([y_true, ~y_true])
    >>> metric(y_true, candidates)
    array([1., 0.])
    """
    if name == "challenge":
        weights, normal = challenge_weights(classes, n_columns, year)
        return partial(challenge_scores, weights=weights, normal=normal)
    metrics = {
        "f2": partial(f_beta_scores, beta=2),
        "g2": partial(g_beta_scores, beta=2),
        "macro_f1": f_measure_scores,
        "accuracy": accuracy_scores,
    }
    if name not in metrics:
        raise ValueError(
            f"scoring must be one of {LABEL_METRICS} (metrics of binary predictions), "
            f"got {name!r}."
        )
    return metrics[name]
