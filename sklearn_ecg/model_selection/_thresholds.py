"""Per-class decision thresholds tuned on out-of-fold training probabilities."""

import dataclasses
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._multilabel import (
    OFF_THRESHOLD,
    check_multilabel_target,
    classes_without_positives,
    estimator_target,
    fit_without_repeating_absent_classes,
    positive_proba,
    target_classes,
    warn_classes_missing_from_folds,
)
from .._sklearn_compat import HasMethods, Interval, Options, StrOptions, fit_context, num_samples, safe_indexing
from .._validation import check_indicator, check_same_shape, check_scores
from ..classes import column_codes
from ..metrics import LABEL_METRICS, stacked_label_metric
from ._split import MultilabelStratifiedKFold

_MIN_GAIN = 1e-12  # a threshold moves only for a gain above rounding noise


def apply_thresholds(proba, thresholds, *, at_least_one=True):
    """Binary multi-label predictions from probabilities and per-class thresholds.

    Parameters
    ----------
    proba : array-like of shape (n_records, n_classes) or list of \
            n_classes arrays of shape (n_records, 2)
        Probability of each class (the second column of each array in the
        list form).
    thresholds : float or array-like of shape (n_classes,)
        A class is predicted where its probability is ``>=`` its threshold.
        A threshold of 1 (or more) switches its class off: it is never
        predicted, not even by ``at_least_one``. The classifiers of
        sklearn-ecg give it to the classes without a positive record in
        their training data.
    at_least_one : bool, default=True
        Give a record that no class reaches its highest-probability class
        (among those not switched off), so that every record gets a
        diagnosis, as the challenge expects.

    Returns
    -------
    y_pred : ndarray of int of shape (n_records, n_classes)
        0/1 predictions.

    Examples
    --------
    >>> from sklearn_ecg.model_selection import apply_thresholds
    >>> proba = [[0.7, 0.2, 0.4], [0.1, 0.3, 0.2]]
    >>> apply_thresholds(proba, [0.5, 0.5, 0.3])
    array([[1, 0, 1],
           [0, 1, 0]])
    >>> apply_thresholds(proba, [0.5, 1.0, 0.3])  # the second class is off
    array([[1, 0, 1],
           [0, 0, 1]])
    """
    proba = check_scores(proba, "proba")
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.ndim > 1 or (thresholds.ndim == 1 and len(thresholds) != proba.shape[1]):
        raise ValueError(
            f"thresholds must be a float or have one entry per class ({proba.shape[1]}); "
            f"got shape {thresholds.shape}."
        )
    on = np.broadcast_to(thresholds < OFF_THRESHOLD, proba.shape[1:])
    y_pred = (proba >= thresholds) & on
    if at_least_one and on.any():
        _ensure_one_label(y_pred, np.where(on, proba, -np.inf))
    return y_pred.astype(int)


def tune_thresholds(
    y_true, proba, *, scoring="challenge", thresholds=19, n_passes=2, shrinkage=0.0,
    at_least_one=True, classes=None, year=2020, disabled=None,
):
    """Per-class thresholds that maximise a metric on given probabilities.

    The coordinate ascent of :class:`MultilabelThresholdTuner`, for
    probabilities already at hand: out-of-fold probabilities of the training
    records (never those of the records to be scored), e.g. the mean of two
    tuners' ``oof_proba_`` to threshold a blend of their models.

    Parameters
    ----------
    y_true : array-like of shape (n_records, n_classes)
        Binary indicator matrix.
    proba : array-like of shape (n_records, n_classes)
        Probability of each class.
    scoring : {"challenge", "f2", "g2", "macro_f1", "accuracy"} or callable, \
            default="challenge"
        Metric of the binary predictions to maximise, or such a metric
        built beforehand by :func:`~sklearn_ecg.metrics.stacked_label_metric`
        (then ``classes`` and ``year`` are not used).
    thresholds : int or array-like of shape (n_thresholds,), default=19
        Candidate thresholds in [0, 1), or their number, evenly spaced
        inside (0, 1).
    n_passes : int, default=2
        Sweeps of coordinate ascent over the classes.
    shrinkage : float in [0, 1], default=0.0
        Pull of each class's threshold toward the best threshold common to
        all classes, on the logit scale (see
        :class:`MultilabelThresholdTuner`).
    at_least_one : bool, default=True
        Give a record that no class reaches its most probable class.
    classes : array-like of str of shape (n_classes,), default=None
        SNOMED-CT code of each column; None: the year's scored classes.
    year : {2020, 2021}, default=2020
        Whose weight matrix the challenge metric uses.
    disabled : array-like of bool of shape (n_classes,), default=None
        Classes switched off: their threshold is 1, so that they are never
        predicted (see :func:`apply_thresholds`), and they are not tuned;
        e.g. the classes without a positive record in the training data.

    Returns
    -------
    thresholds : ndarray of shape (n_classes,)
        Tuned threshold of each class, for :func:`apply_thresholds`.
    score : float
        The metric of those thresholds on ``proba``.

    Examples
    --------
    >>> from sklearn_ecg.model_selection import tune_thresholds
    >>> y = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]]
    >>> proba = [[0.4, 0.1, 0.2], [0.1, 0.3, 0.2], [0.2, 0.1, 0.9], [0.3, 0.1, 0.6]]
    >>> thresholds, score = tune_thresholds(
    ...     y, proba, classes=["164889003", "164890007", "426783006"])
    >>> float(score)
    1.0
    """
    y_true = check_indicator(y_true, "y_true")
    proba = check_scores(proba, "proba")
    check_same_shape(y_true, proba, names=("y_true", "proba"))
    if not isinstance(n_passes, Integral) or n_passes < 1:
        raise ValueError(f"n_passes must be an int >= 1; got {n_passes!r}.")
    if not 0.0 <= shrinkage <= 1.0:
        raise ValueError(f"shrinkage must be in [0, 1]; got {shrinkage!r}.")
    if callable(scoring):
        metric = scoring
    else:
        metric = stacked_label_metric(scoring, classes=classes, year=year, n_columns=y_true.shape[1])
    disabled = np.zeros(y_true.shape[1], dtype=bool) if disabled is None else np.asarray(disabled, dtype=bool)
    if disabled.shape != (y_true.shape[1],):
        raise ValueError(f"disabled must hold one bool per class ({y_true.shape[1]}); got shape {disabled.shape}.")
    return _tune(
        y_true, proba, _threshold_grid(thresholds), metric, n_passes=n_passes,
        shrinkage=shrinkage, at_least_one=at_least_one, disabled=disabled,
    )


class MultilabelThresholdTuner(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Multi-label classifier whose per-class thresholds maximise a challenge metric.

    The multi-label counterpart of ``TunedThresholdClassifierCV``, done
    honestly: the thresholds are chosen on out-of-fold probabilities of the
    training data (an inner cross-validation), never on the data the tuned
    model is later scored on. Coordinate ascent starts every class at 0.5
    and, class after class, moves its threshold to the grid value that most
    improves the metric of the whole prediction, all grid values of a class
    being scored in one vectorised call; ``n_passes`` sweeps over the
    classes. The estimator is then refitted on all the training data, or,
    with ``ensemble=True``, the inner folds' estimators are kept and their
    probabilities averaged (as ``CalibratedClassifierCV(ensemble=True)``
    does): no refit, and for neural networks, whose runs differ with the
    seed and the data order, usually better ranked probabilities.

    Parameters
    ----------
    estimator : estimator object
        Multi-label classifier with ``fit`` and ``predict_proba`` (an
        ``(n_records, n_classes)`` array or a list of ``(n_records, 2)``
        arrays).
    scoring : {"challenge", "f2", "g2", "macro_f1", "accuracy"}, \
            default="challenge"
        Metric of the binary predictions to maximise (see
        :func:`sklearn_ecg.metrics.make_cinc_scorers`).
    thresholds : int or array-like of shape (n_thresholds,), default=19
        Candidate thresholds in [0, 1), or their number, evenly spaced
        inside (0, 1): 19 gives 0.05, 0.10, ..., 0.95.
    cv : int, cross-validation generator or iterable, default=5
        Inner split of the training data for the out-of-fold
        probabilities; an int means ``MultilabelStratifiedKFold(cv,
        shuffle=True, random_state=random_state)``. It must put every
        record in exactly one test fold.
    n_passes : int, default=2
        Sweeps of coordinate ascent over the classes.
    shrinkage : float in [0, 1], default=0.0
        Pull of each class's threshold toward the best threshold common to
        all classes (also chosen on the out-of-fold probabilities), on the
        logit scale: 0 keeps the per-class thresholds, 1 gives every class
        the common one. Thresholds of classes with a handful of positives
        fit the noise of the out-of-fold probabilities; shrinking them
        trades some of that fit for stability.
    ensemble : bool, default=False
        False: refit a clone of the estimator on all the training data and
        predict with it. True: predict with the mean probability of the
        estimators fitted in the inner folds (each on part of the training
        data), which cost nothing more than the tuning itself.
    at_least_one : bool, default=True
        Give a record that no class reaches its highest-probability class
        (see :func:`apply_thresholds`), in tuning and in ``predict``.
    classes : array-like of str of shape (n_classes,), default=None
        SNOMED-CT code of each column of ``y``. None: the column names of a
        DataFrame ``y``, else the year's scored classes if ``y`` has as many
        columns, else unnamed. A DataFrame's column names must equal
        ``classes`` when both are given. The challenge metric needs codes
        including the normal class.
    year : {2020, 2021}, default=2020
        Whose weight matrix the challenge metric uses.
    random_state : int, RandomState instance or None, default=None
        Seeds the inner split when ``cv`` is an int.
    n_jobs : int, default=None
        Inner folds fitted in parallel (joblib).
    verbose : int, default=0
        Show a progress bar over the inner folds if positive.

    Attributes
    ----------
    estimator_ : estimator object
        The estimator refitted on all the training data (``ensemble=False``)
        or the first inner fold's estimator (``ensemble=True``).
    estimators_ : list of estimator objects
        The estimators whose probabilities ``predict_proba`` averages: the
        refitted one, or those of every inner fold.
    thresholds_ : ndarray of shape (n_classes,)
        Tuned threshold of each class; 1 (never predicted, see
        :func:`apply_thresholds`) for the classes without a positive record
        in ``y``, which are not tuned.
    best_score_ : float
        The metric of the tuned thresholds on the out-of-fold probabilities
        (a slightly optimistic estimate: it selected the thresholds).
    oof_proba_ : ndarray of shape (n_records, n_classes)
        The out-of-fold probabilities of the training records that tuned the
        thresholds, as ``cross_val_predict`` would give them: for
        diagnostics, or to tune the thresholds of a blend of models honestly.
    classes_ : ndarray of shape (n_classes,)
        Codes of the columns (``classes``, a DataFrame's column names, or
        the year's table), or ``0 .. n_classes - 1`` when unnamed.
    n_features_in_ : int
        Number of features the refitted estimator saw, if it records it.
    modality_names_ : ndarray of str
        The modalities of a gated estimator (e.g.
        :class:`~sklearn_ecg.fusion.GatedFusionClassifier`), whose mean
        per-record weights :meth:`gate_weights` returns.

    See Also
    --------
    apply_thresholds : The decision rule, for reuse on stored probabilities.
    tune_thresholds : The tuning alone, on given probabilities.
    sklearn.model_selection.TunedThresholdClassifierCV : Binary counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from sklearn_ecg.model_selection import MultilabelThresholdTuner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 1.0, X[:, 0] <= 0.5]).astype(int)
    >>> tuner = MultilabelThresholdTuner(
    ...     MultiOutputClassifier(LogisticRegression()), cv=3, random_state=0,
    ...     classes=["164889003", "164890007", "426783006"])
    >>> tuner.fit(X, y).predict(X[:2]).shape
    (2, 3)
    >>> tuner.thresholds_.shape
    (3,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "scoring": [StrOptions(set(LABEL_METRICS))],
        "thresholds": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "shrinkage": [Interval(Real, 0, 1, closed="both")],
        "ensemble": ["boolean"],
        "at_least_one": ["boolean"],
        "classes": ["array-like", None],
        "year": [Options(Integral, {2020, 2021})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        scoring="challenge",
        thresholds=19,
        cv=5,
        n_passes=2,
        shrinkage=0.0,
        ensemble=False,
        at_least_one=True,
        classes=None,
        year=2020,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.thresholds = thresholds
        self.cv = cv
        self.n_passes = n_passes
        self.shrinkage = shrinkage
        self.ensemble = ensemble
        self.at_least_one = at_least_one
        self.classes = classes
        self.year = year
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None):
        """Tune the thresholds on inner out-of-fold probabilities, then refit (or ensemble).

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Training records, passed to the estimator as they are.
        y : array-like of shape (n_records, n_classes)
            Binary indicator matrix, with a positive record for every class
            (a class without one warns and is never predicted). A DataFrame
            names the classes by its columns and reaches the estimator as
            a DataFrame.
        groups : array-like of shape (n_records,), default=None
            Passed to the inner splitter's ``split``.

        Returns
        -------
        self : object
            Fitted tuner.
        """
        y_given, y = y, check_multilabel_target(y, type(self).__name__)
        if num_samples(X) != len(y):
            raise ValueError(f"X has {num_samples(X)} records but y has {len(y)}.")
        classes = target_classes(y_given, self.classes, target_name="y")
        classes = None if classes is None else np.asarray(classes).astype(str)
        self.classes_ = column_codes(classes, y.shape[1], year=self.year)
        disabled = classes_without_positives(y, self.classes_)
        metric = stacked_label_metric(self.scoring, classes=classes, year=self.year, n_columns=y.shape[1])
        grid = _threshold_grid(self.thresholds)
        # The estimator gets the usual 0/1 integer indicator matrix.
        y_estimator = estimator_target(y, y_given)
        self.oof_proba_, fold_estimators = self._out_of_fold_proba(X, y_estimator, groups)
        self.thresholds_, self.best_score_ = _tune(
            y, self.oof_proba_, grid, metric, n_passes=self.n_passes, shrinkage=self.shrinkage,
            at_least_one=self.at_least_one, disabled=disabled,
        )
        if self.ensemble:
            self.estimators_ = fold_estimators
        else:
            self.estimators_ = [fit_without_repeating_absent_classes(clone(self.estimator), X, y_estimator)]
        self.estimator_ = self.estimators_[0]
        return self

    def predict_proba(self, X):
        """Probability of each class: the refitted estimator's, or the inner folds' mean.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        proba : ndarray of shape (n_records, n_classes)
        """
        check_is_fitted(self)
        return np.mean([positive_proba(e, X, len(self.classes_)) for e in self.estimators_], axis=0)

    def predict(self, X):
        """Binary predictions with the tuned thresholds.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        y_pred : ndarray of int of shape (n_records, n_classes)
        """
        return apply_thresholds(
            self.predict_proba(X), self.thresholds_, at_least_one=self.at_least_one
        )

    @available_if(lambda self: hasattr(self.estimator, "decision_function"))
    def decision_function(self, X):
        """The refitted estimator's decision function, or the inner folds' mean.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        decision : ndarray
            As the estimator returns it.
        """
        return self._mean_over_estimators("decision_function", X)

    @available_if(lambda self: hasattr(self.estimator, "gate_weights"))
    def gate_weights(self, X):
        """Per-record modality weights of a gated estimator: the refitted one's, or the inner folds' mean.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records.

        Returns
        -------
        weights : ndarray of shape (n_records, n_modalities)
            Rows sum to one; columns in the order of ``modality_names_``.
        """
        return self._mean_over_estimators("gate_weights", X)

    def _mean_over_estimators(self, method, X):
        check_is_fitted(self)
        return np.mean([np.asarray(getattr(e, method)(X)) for e in self.estimators_], axis=0)

    @property
    def modality_names_(self):
        """Names of the gated estimator's modalities (the columns of :meth:`gate_weights`)."""
        return self.estimator_.modality_names_

    @property
    def n_features_in_(self):
        """Number of features seen by the refitted estimator."""
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = dataclasses.replace(get_tags(self.estimator).input_tags)
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    def _out_of_fold_proba(self, X, y, groups):
        if isinstance(self.cv, Integral):
            cv = MultilabelStratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        else:
            cv = check_cv(self.cv)
        splits = list(cv.split(X, y, groups))
        warn_classes_missing_from_folds(y, splits, self.classes_)
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_predict_proba)(clone(self.estimator), X, y, train, test)
            for train, test in tqdm(splits, desc="inner folds", disable=not self.verbose)
        )
        proba = np.full(y.shape, np.nan)
        times_tested = np.zeros(len(y), dtype=int)
        for (_, test), (_, fold_proba) in zip(splits, fitted):
            proba[test] = fold_proba
            times_tested[test] += 1
        if (times_tested != 1).any():
            raise ValueError(
                "cv must put every training record in exactly one test fold; "
                f"{np.sum(times_tested != 1)} records are not."
            )
        return proba, [estimator for estimator, _ in fitted]


def _threshold_grid(thresholds):
    if isinstance(thresholds, Integral):
        if thresholds < 1:
            raise ValueError(f"thresholds must be an int >= 1 or an array of values; got {thresholds}.")
        return np.linspace(0.0, 1.0, thresholds + 2)[1:-1]
    grid = np.asarray(thresholds, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not ((grid >= 0) & (grid < OFF_THRESHOLD)).all():
        raise ValueError(
            "thresholds must be a non-empty 1-D array of finite values in [0, 1) (a threshold of 1 "
            "switches a class off)."
        )
    return grid


def _fit_predict_proba(estimator, X, y, train, test):
    fit_without_repeating_absent_classes(estimator, safe_indexing(X, train), safe_indexing(y, train))
    return estimator, positive_proba(estimator, safe_indexing(X, test), y.shape[1])


def _tune(y, proba, grid, metric, *, n_passes, shrinkage, at_least_one, disabled):
    """Per-class thresholds by coordinate ascent, shrunk toward the best common one; ``disabled`` at 1."""
    thresholds, score = _coordinate_ascent(
        y, proba, grid, metric, n_passes=n_passes, at_least_one=at_least_one, disabled=disabled
    )
    if shrinkage == 0:
        return thresholds, score
    common = np.stack([
        apply_thresholds(proba, np.where(disabled, OFF_THRESHOLD, t), at_least_one=at_least_one) for t in grid
    ]).astype(bool)
    best_common = grid[np.argmax(_finite(metric(y, common)))]
    # Clipped: a grid may hold 0, whose logit is infinite.
    logits = logit(np.clip(np.append(thresholds, best_common), 1e-6, 1 - 1e-6))
    shrunk = expit((1 - shrinkage) * logits[:-1] + shrinkage * logits[-1])
    thresholds = np.where(disabled, OFF_THRESHOLD, shrunk)
    predicted = apply_thresholds(proba, thresholds, at_least_one=at_least_one).astype(bool)
    return thresholds, float(_finite(metric(y, predicted)))


def _coordinate_ascent(y, proba, grid, metric, *, n_passes, at_least_one, disabled):
    """Per-class thresholds by coordinate ascent from 0.5, ``disabled`` ones fixed at 1; returns them and the score."""
    thresholds = np.where(disabled, OFF_THRESHOLD, 0.5)
    current = apply_thresholds(proba, thresholds, at_least_one=False).astype(bool)
    start = apply_thresholds(proba, thresholds, at_least_one=at_least_one).astype(bool)
    best = _finite(metric(y, start))
    # The class at_least_one gives an empty record: never a disabled one.
    most_probable = np.where(disabled, -np.inf, proba).argmax(axis=1)
    for _ in range(n_passes):
        for k in np.flatnonzero(~disabled):
            others = current.copy()
            others[:, k] = False
            column = proba[:, k] >= grid[:, None]
            candidates = np.repeat(others[None], len(grid), axis=0)
            candidates[:, :, k] = column
            if at_least_one:
                # Empty records are found on (grid, records), not on the stack.
                grid_index, record = np.nonzero(~others.any(axis=1) & ~column)
                candidates[grid_index, record, most_probable[record]] = True
            scores = _finite(metric(y, candidates))
            pick = np.argmax(scores)
            if scores[pick] > best + _MIN_GAIN:
                best, thresholds[k] = scores[pick], grid[pick]
                current[:, k] = column[pick]
    return thresholds, float(best)


def _finite(scores):
    """NaN (a metric undefined for a prediction) ranks below every number."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.where(np.isnan(scores), -np.inf, scores)


def _ensure_one_label(y_pred, proba):
    """Switch on, in place, the most probable class of every empty prediction."""
    empty = np.nonzero(~y_pred.any(axis=-1))
    y_pred[(*empty, proba.argmax(axis=1)[empty[-1]])] = True
