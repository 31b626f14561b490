"""MiniRocket features and one ridge regression for all classes: the anchor of the development data."""

import contextlib
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._multilabel import (
    check_multilabel_target,
    classes_and_thresholds,
)
from .._random import SKLEARN_SEED_BITS, draw_seed
from .._sklearn_compat import Interval, fit_context
from .._validation import check_signals
from ..model_selection import apply_thresholds

# MiniRocket's kernels have 9 taps: shorter signals are zero-padded to it,
# as aeon advises.
_KERNEL_LENGTH = 9
# predict_proba is sigmoid(scale x decision): 0.5 at decision 0, and the
# ridge's decisions (targets +-1) spread over the probability range.
_DECISION_SCALE = 3.0


class MiniRocketRidgeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier: MiniRocket features, standardised, and a ridge regression on targets +-1.

    MiniRocket (Dempster et al., KDD 2021; aeon's implementation) convolves
    the signals with fixed kernels of random dilations and biases and keeps
    the proportion of positive values of each; a
    :class:`~sklearn.linear_model.RidgeCV` (regularisation chosen by
    efficient leave-one-out) regresses every class's +-1 target on the
    standardised features at once. This is the anchor of the development
    data's comparisons, and a cheap member of blends: it errs differently
    from the deep models.

    Parameters
    ----------
    n_kernels : int, default=10000
        Number of MiniRocket features (rounded down by MiniRocket to a
        multiple of 84).
    max_dilations_per_kernel : int, default=32
        Largest number of dilations of each kernel.
    alphas : array-like of float, default=None
        Ridge penalties that leave-one-out chooses from; None:
        ``np.logspace(-1, 4, 12)``.
    threshold : float or array-like of shape (n_classes,), default=0.5
        Probability threshold of ``predict`` (0.5 is decision 0), per class
        or for all.
    at_least_one : bool, default=True
        ``predict`` gives a record that no class reaches its threshold its
        most probable class.
    n_jobs : int, default=1
        Threads of MiniRocket's transform.
    random_state : int, RandomState instance or None, default=None
        Seeds the dilations, channel combinations and biases. Numpy's global
        random state is left as it was.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Names of the target columns (a DataFrame's columns), else
        ``0 .. n_classes - 1``.
    thresholds_ : ndarray of shape (n_classes,)
        Thresholds of ``predict``; 1 for a class without a positive record in fit.
    minirocket_ : aeon MiniRocket
        The fitted feature transform.
    ridge_ : Pipeline
        StandardScaler then RidgeCV.
    n_leads_in_ : int
        Number of leads of the signals seen in fit (they may have any
        length, so there is no fixed number of input features).

    See Also
    --------
    sklearn_ecg.ensemble.MultilabelVotingClassifier : blends it with other models.
    sklearn_ecg.model_selection.MultilabelThresholdTuner : tunes its thresholds.

    Examples
    --------
    >>> from sklearn_ecg.datasets import make_synthetic_ecg
    >>> from sklearn_ecg.linear_model import MiniRocketRidgeClassifier
    >>> data = make_synthetic_ecg(n_records=40, random_state=0)
    >>> model = MiniRocketRidgeClassifier(n_kernels=840, random_state=0).fit(data.X, data.y)
    >>> model.predict_proba(data.X[:2]).shape == (2, data.y.shape[1])
    True
    """

    _parameter_constraints = {
        "n_kernels": [Interval(Integral, 84, None, closed="left")],
        "max_dilations_per_kernel": [Interval(Integral, 1, None, closed="left")],
        "alphas": ["array-like", None],
        "threshold": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "at_least_one": ["boolean"],
        "n_jobs": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_kernels=10_000,
        max_dilations_per_kernel=32,
        alphas=None,
        threshold=0.5,
        at_least_one=True,
        n_jobs=1,
        random_state=None,
    ):
        self.n_kernels = n_kernels
        self.max_dilations_per_kernel = max_dilations_per_kernel
        self.alphas = alphas
        self.threshold = threshold
        self.at_least_one = at_least_one
        self.n_jobs = n_jobs
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, Y):
        """Fit MiniRocket's biases on ``X`` and the ridge on its features.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Signals; shorter than 9 samples (MiniRocket's kernel), zero-padded
            at the end.
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix; a DataFrame names the classes.

        Returns
        -------
        self : MiniRocketRidgeClassifier
        """
        Y_given, Y = Y, check_multilabel_target(Y, type(self).__name__)
        X = _padded(check_signals(X))
        if len(X) != len(Y):
            raise ValueError(f"X has {len(X)} records but Y has {len(Y)}.")
        self.classes_, self.thresholds_ = classes_and_thresholds(Y, Y_given, self.threshold)
        self.minirocket_ = _minirocket(self, draw_seed(self.random_state, bits=SKLEARN_SEED_BITS))
        with _numpy_global_state_kept():
            self.minirocket_.fit(X)
        alphas = np.logspace(-1, 4, 12) if self.alphas is None else np.asarray(self.alphas, dtype=float)
        self.ridge_ = make_pipeline(StandardScaler(), RidgeCV(alphas=alphas))
        self.ridge_.fit(self.minirocket_.transform(X), 2.0 * Y - 1.0)
        self.n_leads_in_ = X.shape[1]
        return self

    def decision_function(self, X):
        """Ridge decision of every class (positive: predicted at threshold 0.5).

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)

        Returns
        -------
        decision : ndarray of shape (n_records, n_classes)
        """
        check_is_fitted(self)
        X = _padded(check_signals(X, n_leads=self.n_leads_in_))
        return self.ridge_.predict(self.minirocket_.transform(X)).reshape(len(X), -1)

    def predict_proba(self, X):
        """Sigmoid of 3 x the decision, per class.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)

        Returns
        -------
        proba : ndarray of shape (n_records, n_classes)
        """
        return expit(_DECISION_SCALE * self.decision_function(X))

    def predict(self, X):
        """Binary predictions: each class's probability against its threshold.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)

        Returns
        -------
        Y_pred : ndarray of shape (n_records, n_classes)
        """
        return apply_thresholds(self.predict_proba(X), self.thresholds_, at_least_one=self.at_least_one)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


def _padded(X):
    if X.shape[-1] >= _KERNEL_LENGTH:
        return X
    return np.pad(X, ((0, 0), (0, 0), (0, _KERNEL_LENGTH - X.shape[-1])))


def _minirocket(estimator, seed):
    try:
        from aeon.transformations.collection.convolution_based import MiniRocket
    except ImportError as error:  # pragma: no cover - aeon is a dependency
        raise ImportError("MiniRocketRidgeClassifier needs aeon: pip install aeon") from error
    return MiniRocket(n_kernels=estimator.n_kernels, max_dilations_per_kernel=estimator.max_dilations_per_kernel,
                      n_jobs=estimator.n_jobs, random_state=seed)


@contextlib.contextmanager
def _numpy_global_state_kept():
    # aeon's MiniRocket seeds numpy's global generator (np.random.seed) in
    # fit: put back the caller's state.
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)
