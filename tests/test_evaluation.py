import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier

from sklearn_ecg.evaluation import cross_val_cinc_report
from sklearn_ecg.metrics import cinc_report

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
    parallel = cross_val_cinc_report(_ProbaArrayKNN(), X, y, classes=CODES, cv=3, n_jobs=2)
    np.testing.assert_array_equal(serial.y_score, parallel.y_score)
