"""Soft voting of multi-label classifiers: the weighted mean of their probabilities."""

import dataclasses
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin, clone
from sklearn.utils import Bunch, get_tags
from sklearn.utils.validation import check_is_fitted

from .._multilabel import (
    check_multilabel_target,
    classes_and_thresholds,
    estimator_target,
    fit_without_repeating_absent_classes,
    positive_proba,
)
from .._sklearn_compat import BaseComposition, Interval, fit_context, num_samples
from ..model_selection import apply_thresholds

_INPUT_CAPABILITIES = ("two_d_array", "three_d_array", "allow_nan", "sparse")


class MultilabelVotingClassifier(ClassifierMixin, BaseComposition):
    """Soft voting for multi-label classifiers.

    Fits clones of several multi-label classifiers on the same records and
    predicts with the weighted mean of their probabilities: the multi-label
    counterpart of scikit-learn's ``VotingClassifier(voting="soft")``, which
    accepts one label per record only. Models that err differently gain from
    it (ANCHORS.md: the fused network and MiniRocket + ridge). Wrap it in
    :class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner` to tune
    the blend's per-class thresholds on out-of-fold probabilities of the
    training data.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The named classifiers, each with ``fit(X, Y)`` and ``predict_proba``
        giving an ``(n_records, n_classes)`` array or a list of per-class
        ``(n_records, 2)`` arrays (scikit-learn's multi-output classifiers).
        An estimator set to ``"drop"`` is left out. Names must be unique and
        free of ``"__"``; ``<name>__<parameter>`` sets a nested parameter,
        as in ``VotingClassifier``.
    weights : array-like of shape (n_estimators,), default=None
        Weight of each estimator's probabilities (dropped ones included);
        None: equal weights.
    threshold : float or array-like of shape (n_classes,), default=0.5
        Decision threshold of ``predict`` on the mean probability, per class.
    at_least_one : bool, default=True
        ``predict`` gives a record for which no class reaches its threshold
        its most probable class (see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`).
    n_jobs : int, default=None
        Estimators fitted in parallel (joblib).

    Attributes
    ----------
    estimators_ : list of estimator objects
        The fitted clones, without the dropped ones.
    named_estimators_ : :class:`~sklearn.utils.Bunch`
        The fitted clones by name.
    classes_ : ndarray of shape (n_classes,)
        The column names of a DataFrame ``Y``, else ``0 .. n_classes - 1``.
    thresholds_ : ndarray of shape (n_classes,)
        ``threshold`` for every class: the decision threshold of
        ``predict``; 1 (never predicted, see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`) for the
        classes without a positive record in ``Y``.
    n_features_in_ : int
        Number of features the first fitted estimator saw, if it records it.

    See Also
    --------
    sklearn_ecg.model_selection.MultilabelThresholdTuner : Thresholds of the blend, tuned honestly.
    sklearn.ensemble.VotingClassifier : Single-label counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn_ecg.ensemble import MultilabelVotingClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.5]).astype(int)
    >>> blend = MultilabelVotingClassifier([
    ...     ("linear", MultiOutputClassifier(LogisticRegression())),
    ...     ("knn", KNeighborsClassifier(5)),
    ... ]).fit(X, Y)
    >>> blend.predict_proba(X[:2]).shape
    (2, 2)
    >>> blend.set_params(knn__n_neighbors=3).get_params()["knn__n_neighbors"]
    3
    """

    _parameter_constraints = {
        "estimators": [list],
        "weights": ["array-like", None],
        "threshold": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "at_least_one": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimators, *, weights=None, threshold=0.5, at_least_one=True, n_jobs=None):
        self.estimators = estimators
        self.weights = weights
        self.threshold = threshold
        self.at_least_one = at_least_one
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Get parameters of this estimator, and of its estimators when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the estimators (by name) and their parameters
            (``<name>__<parameter>``).

        Returns
        -------
        params : dict
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of this estimator and of its estimators.

        Parameters
        ----------
        **params : keyword arguments
            ``estimators``, an estimator by name (or ``"drop"``),
            ``<name>__<parameter>``, or a parameter of this estimator.

        Returns
        -------
        self : MultilabelVotingClassifier
        """
        self._set_params("estimators", **params)
        return self

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y):
        """Fit a clone of every estimator that is not dropped.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Training records, passed to every estimator as they are.
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix (multi-hot labels), with a positive
            record for every class (a class without one warns and is never
            predicted). A DataFrame names the classes by its columns and
            reaches the estimators as a DataFrame, so that those naming
            their classes check them.

        Returns
        -------
        self : MultilabelVotingClassifier
        """
        Y_given, Y = Y, check_multilabel_target(Y, type(self).__name__)
        if num_samples(X) != len(Y):
            raise ValueError(f"X has {num_samples(X)} records but Y has {len(Y)}.")
        kept = self._kept_estimators()
        self._weights = self._checked_weights()
        classes, self.thresholds_ = classes_and_thresholds(Y, Y_given, self.threshold)
        Y = estimator_target(Y, Y_given)  # the usual 0/1 integer indicator matrix
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_without_repeating_absent_classes)(clone(estimator), X, Y) for _, estimator in kept
        )
        self.named_estimators_ = Bunch(**{name: e for (name, _), e in zip(kept, self.estimators_)})
        self.classes_ = classes
        return self

    def predict_proba(self, X):
        """Weighted mean of the estimators' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        proba : ndarray of shape (n_records, n_classes)
        """
        check_is_fitted(self)
        probas = [positive_proba(estimator, X, len(self.classes_)) for estimator in self.estimators_]
        return np.average(probas, axis=0, weights=self._weights)

    def predict(self, X):
        """Binary predictions: the mean probability against ``threshold``.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        Y_pred : ndarray of int of shape (n_records, n_classes)
        """
        return apply_thresholds(self.predict_proba(X), self.thresholds_, at_least_one=self.at_least_one)

    @property
    def n_features_in_(self):
        """Number of features seen by the first fitted estimator."""
        return self.estimators_[0].n_features_in_

    def _kept_estimators(self):
        names = [name for name, _ in self.estimators]
        self._validate_names(names)
        kept = [(name, estimator) for name, estimator in self.estimators if estimator != "drop"]
        if not kept:
            raise ValueError("All estimators are 'drop'; at least one is required.")
        for name, estimator in kept:
            if not (hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")):
                raise ValueError(
                    f"Estimator {name!r} ({type(estimator).__name__}) needs fit and predict_proba."
                )
        return kept

    def _checked_weights(self):
        """The weights of the kept estimators, or None for equal weights."""
        if self.weights is None:
            return None
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.shape != (len(self.estimators),) or not (np.isfinite(weights) & (weights >= 0)).all():
            raise ValueError(
                f"weights must hold one non-negative weight per estimator ({len(self.estimators)}); "
                f"got {self.weights!r}."
            )
        weights = weights[[estimator != "drop" for _, estimator in self.estimators]]
        if weights.sum() == 0:
            raise ValueError("The weights of the estimators that are not dropped sum to zero.")
        return weights

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inputs = [get_tags(e).input_tags for _, e in self.estimators if e != "drop"]
        if inputs:
            # The blend takes what every estimator takes.
            tags.input_tags = dataclasses.replace(
                inputs[0], **{name: all(getattr(i, name) for i in inputs) for name in _INPUT_CAPABILITIES}
            )
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
