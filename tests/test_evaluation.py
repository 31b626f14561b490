import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_ecg.evaluation import cross_val_cinc_report
from sklearn_ecg.metrics import cinc_report
from sklearn_ecg.model_selection import apply_thresholds

CODES = np.array(["164889003", "164890007", "426783006"])


class _ProbaArrayKNN(ClassifierMixin, BaseEstimator):
    """KNN whose predict_proba is an (n, n_classes) array, as our classifiers give."""

    def fit(self, X, y):
        self.knn_ = KNeighborsClassifier(3).fit(X, y)
        return self

    def predict_proba(self, X):
        return np.column_stack([p[:, 1] for p in self.knn_.predict_proba(X)])

    def predict(self, X):
        return self.knn_.predict(X)


@pytest.fixture
def labelled():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.5, X[:, 0] <= 0.5]).astype(int)
    return X, y


def test_out_of_fold_outputs_cover_every_record_once(labelled):
    X, y = labelled
    result = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=5)
    assert sorted(np.bincount(result.fold_of)) == [18] * 5
    np.testing.assert_array_equal(result.y_true, y)
    assert result.pooled == cinc_report(y, result.y_score, result.y_pred, classes=CODES)
    assert len(result.folds) == 5
    assert all(fold["fit_time"] >= 0 and fold["score_time"] >= 0 for fold in result.folds)
    # The features separate the classes: far better than chance, pooled and per fold.
    assert result.pooled["macro_auroc"] > 0.85
    assert min(fold["challenge"] for fold in result.folds) > 0.3


def test_fold_figures_are_those_of_the_fold_records(labelled):
    X, y = labelled
    result = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3)
    for fold, figures in enumerate(result.folds):
        rows = result.fold_of == fold
        expected = cinc_report(y[rows], result.y_score[rows], result.y_pred[rows], classes=CODES)
        assert {k: figures[k] for k in expected} == expected


def test_classes_that_are_not_challenge_codes_are_reported_without_the_challenge_metric(labelled):
    X, y = labelled
    names = ["NORM", "MI", "STTC"]
    result = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=names, cv=3, year=None)
    assert "challenge" not in result.pooled and all("challenge" not in fold for fold in result.folds)
    assert result.pooled == cinc_report(y, result.y_score, result.y_pred, year=None)
    assert result.classes.tolist() == names


def test_per_class_f1_and_counts(labelled):
    X, y = labelled
    result = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3)
    np.testing.assert_array_equal(result.per_class["n_positive"], y.sum(axis=0))
    tp = ((result.y_pred == 1) & (y == 1)).sum(axis=0)
    fp = ((result.y_pred == 1) & (y == 0)).sum(axis=0)
    fn = ((result.y_pred == 0) & (y == 1)).sum(axis=0)
    np.testing.assert_allclose(result.per_class["f1"], 2 * tp / (2 * tp + fp + fn))


def test_parallel_folds_equal_serial(labelled):
    X, y = labelled
    serial = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3)
    # Threads: what is tested is that the folds' outputs return to their records
    # (process workers would only add seconds of start-up).
    with parallel_config(backend="threading"):
        parallel = cross_val_cinc_report(
            _ProbaArrayKNN(), X, y, classes=CODES, cv=3, n_jobs=2,
            test_transforms={"scaled": StandardScaler()}, return_gate_weights=True,
        )
    np.testing.assert_array_equal(serial.y_score, parallel.y_score)
    assert parallel.test_transforms["scaled"].y_score.shape == y.shape


class _CountingKNN(_ProbaArrayKNN):
    fits = []  # class-level: clones share it

    def fit(self, X, y):
        type(self).fits.append(len(X))
        return super().fit(X, y)


def test_transformed_test_records_are_scored_by_each_fold_model(labelled):
    X, y = labelled
    _CountingKNN.fits.clear()
    transforms = {"scaled": StandardScaler(), "first_zeroed": FunctionTransformer(_zero_first)}
    result = cross_val_cinc_report(_CountingKNN(), X, y, classes=CODES, cv=3, test_transforms=transforms)
    assert len(_CountingKNN.fits) == 3  # one fit per fold, whatever the number of transforms
    splits = [(np.flatnonzero(result.fold_of != k), np.flatnonzero(result.fold_of == k)) for k in range(3)]
    for name, transformer in transforms.items():
        transformed = result.test_transforms[name]
        for train, test in splits:
            model = _ProbaArrayKNN().fit(X[train], y[train])
            # The transformer is fitted on the training records, not the test ones.
            X_test = clone(transformer).fit(X[train]).transform(X[test])
            np.testing.assert_array_equal(transformed.y_score[test], model.predict_proba(X_test))
            np.testing.assert_array_equal(transformed.y_pred[test], model.predict(X_test))
        assert transformed.pooled == cinc_report(y, transformed.y_score, transformed.y_pred, classes=CODES)
        assert len(transformed.folds) == 3 and "score_time" in transformed.folds[0]
    # Zeroing the most informative feature must cost ranking quality.
    assert result.test_transforms["first_zeroed"].pooled["macro_auroc"] < result.pooled["macro_auroc"] - 0.1
    np.testing.assert_array_equal(result.test_transforms["scaled"].y_true, y)


class _Thresholded(_ProbaArrayKNN):
    """Predicts by thresholds on its probabilities, and counts its inference calls."""

    calls = []  # class-level: clones share it

    def __init__(self, at_least_one=True):
        self.at_least_one = at_least_one

    def fit(self, X, y):
        self.thresholds_ = np.array([0.3, 0.5, 0.7])
        return super().fit(X, y)

    def predict_proba(self, X):
        type(self).calls.append("predict_proba")
        return super().predict_proba(X)

    def predict(self, X):
        type(self).calls.append("predict")
        return apply_thresholds(super().predict_proba(X), self.thresholds_, at_least_one=self.at_least_one)


@pytest.mark.parametrize("at_least_one", [True, False])
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_a_model_exposing_its_decision_rule_runs_once_per_test_set(labelled, at_least_one, in_pipeline):
    X, y = labelled
    _Thresholded.calls.clear()
    model = _Thresholded(at_least_one=at_least_one)
    if in_pipeline:
        model = make_pipeline(StandardScaler(), model)
    result = cross_val_cinc_report(model, X, y, classes=CODES, cv=3,
                                   test_transforms={"scaled": StandardScaler()})
    assert _Thresholded.calls == ["predict_proba"] * 6  # 3 folds, each with its original and scaled records
    np.testing.assert_array_equal(result.y_pred, apply_thresholds(result.y_score, [0.3, 0.5, 0.7],
                                                                  at_least_one=at_least_one))
    for k in range(3):
        train, test = np.flatnonzero(result.fold_of != k), np.flatnonzero(result.fold_of == k)
        np.testing.assert_array_equal(result.y_pred[test], clone(model).fit(X[train], y[train]).predict(X[test]))


def _zero_first(X):
    X = X.copy()
    X[:, 0] = 0
    return X


class _Gated(_ProbaArrayKNN):
    """A classifier with a gate whose weights are the first two features it is given."""

    def fit(self, X, y):
        self.modality_names_ = np.array(["time", "spectrogram"], dtype=object)
        return super().fit(X, y)

    def gate_weights(self, X):
        return X[:, :2]


def test_gate_weights_are_gathered_out_of_fold(labelled):
    X, y = labelled
    result = cross_val_cinc_report(_Gated(), X, y, classes=CODES, cv=3, return_gate_weights=True)
    np.testing.assert_array_equal(result.gate_weights, X[:, :2])
    assert result.modality_names.tolist() == ["time", "spectrogram"]


def test_gate_weights_of_a_pipeline_see_the_transformed_records(labelled):
    X, y = labelled
    pipeline = make_pipeline(FunctionTransformer(lambda X: 10 * X), _Gated())
    result = cross_val_cinc_report(pipeline, X, y, classes=CODES, cv=3, return_gate_weights=True)
    np.testing.assert_allclose(result.gate_weights, 10 * X[:, :2])


def test_gate_weights_are_none_without_a_gate(labelled):
    X, y = labelled
    result = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3, return_gate_weights=True)
    assert result.gate_weights is None and result.modality_names is None
    assert "gate_weights" not in cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3)
