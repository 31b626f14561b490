import numpy as np
import pytest
from _multilabel_cases import DECISION_MULTILABEL_ONLY
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.linear_model import MiniRocketRidgeClassifier
from sklearn_ecg.metrics import macro_auroc

# The fewest kernels MiniRocket takes: fits in a fraction of a second.
FAST = dict(n_kernels=84, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_synthetic_ecg(60, duration=3.0, random_state=0)


_N_FEATURES_REASON = (
    "signals may have any length, so there is no fixed number of input features; the lead count "
    "is checked instead (n_leads_in_)"
)
EXPECTED_FAILURES = dict(DECISION_MULTILABEL_ONLY, check_n_features_in=_N_FEATURES_REASON,
                         check_n_features_in_after_fitting=_N_FEATURES_REASON)


@parametrize_with_checks([MiniRocketRidgeClassifier(**FAST)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_learns_the_synthetic_rhythms(data):
    train, test = slice(0, 40), slice(40, None)
    model = MiniRocketRidgeClassifier(n_kernels=840, random_state=0).fit(data.X[train], data.y[train])
    proba = model.predict_proba(data.X[test])
    assert proba.shape == data.y[test].shape and ((proba > 0) & (proba < 1)).all()
    present = data.y[test].any(axis=0) & ~data.y[test].all(axis=0)
    assert macro_auroc(data.y[test][:, present], proba[:, present]) > 0.8


def test_probabilities_are_the_sigmoid_of_three_times_the_decision(data):
    model = MiniRocketRidgeClassifier(**FAST).fit(data.X, data.y)
    decision = model.decision_function(data.X[:5])
    np.testing.assert_allclose(model.predict_proba(data.X[:5]), 1 / (1 + np.exp(-3 * decision)), rtol=1e-6)
    labels = model.predict(data.X[:5])
    assert ((labels == 1) | (decision == decision.max(axis=1, keepdims=True)) | (decision < 0)).all()
    assert labels.sum(axis=1).min() >= 1  # at_least_one


def test_same_seed_same_model_and_numpy_global_state_untouched(data):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = MiniRocketRidgeClassifier(**FAST).fit(data.X, data.y)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    second = clone(first).fit(data.X, data.y)
    other = MiniRocketRidgeClassifier(n_kernels=84, random_state=1).fit(data.X, data.y)
    np.testing.assert_array_equal(first.decision_function(data.X), second.decision_function(data.X))
    assert not np.allclose(first.decision_function(data.X), other.decision_function(data.X))


def test_a_class_without_positives_is_never_predicted(data):
    Y = data.y.copy()
    Y[:, 0] = 0
    with pytest.warns(UserWarning, match="no positive record"):
        model = MiniRocketRidgeClassifier(**FAST).fit(data.X, Y)
    assert model.thresholds_[0] == 1 and not model.predict(data.X)[:, 0].any()


def test_short_signals_are_zero_padded_to_the_kernel_length(data):
    model = MiniRocketRidgeClassifier(**FAST).fit(data.X[:, :, :5], data.y)
    np.testing.assert_allclose(model.decision_function(data.X[:3, :, :5]),
                               model.decision_function(np.pad(data.X[:3, :, :5], ((0, 0), (0, 0), (0, 4)))))


@pytest.mark.parametrize(("X", "message"), [
    (lambda X: X[:, :6], "X has 6 leads .* but 12 are required"),
    (lambda X: np.where(np.arange(X.shape[-1]) == 3, np.nan, X), "NaN"),
    (lambda X: X[:, 0, 0], "Expected 2D array, got 1D array"),
])
def test_bad_signals_at_predict_are_named(data, X, message):
    model = MiniRocketRidgeClassifier(**FAST).fit(data.X, data.y)
    with pytest.raises(ValueError, match=message):
        model.predict(X(data.X[:4]))
