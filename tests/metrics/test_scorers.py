import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier

from sklearn_ecg.metrics import cinc_report, make_cinc_scorers

CODES = ["164889003", "164890007", "426783006"]  # AF, AFL, sinus rhythm


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.column_stack([X[:, 0] > 0.3, X[:, 1] > 0.8, X[:, 0] <= 0.3]).astype(int)
    flip = rng.random(y.shape) < 0.1
    return X, np.where(flip, 1 - y, y)


def _positive_columns(proba):
    if isinstance(proba, list):
        return np.column_stack([p[:, 1] for p in proba])
    return proba


@pytest.mark.parametrize(
    "estimator",
    [MultiOutputClassifier(LogisticRegression()), KNeighborsClassifier(n_neighbors=7)],
    ids=["multioutput-logistic", "knn"],
)
def test_cross_validate_scores_equal_the_metrics(estimator):
    X, y = _data()
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    results = cross_validate(
        estimator, X, y, cv=splits, scoring=make_cinc_scorers(classes=CODES), return_estimator=True
    )
    for fold, (_, test) in enumerate(splits):
        fitted = results["estimator"][fold]
        expected = cinc_report(
            y[test],
            _positive_columns(fitted.predict_proba(X[test])),
            fitted.predict(X[test]),
            classes=CODES,
        )
        for name, value in expected.items():
            assert results[f"test_{name}"][fold] == pytest.approx(value, abs=1e-12), name


def test_grid_search_refits_on_the_challenge_metric():
    X, y = _data(120)
    search = GridSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": [1, 5, 25]},
        scoring=make_cinc_scorers(classes=CODES),
        refit="challenge",
        cv=3,
    ).fit(X, y)
    challenge = search.cv_results_["mean_test_challenge"]
    assert search.best_index_ == np.argmax(challenge)
    assert search.best_score_ == challenge.max()
    assert set(search.cv_results_) >= {"mean_test_macro_auroc", "mean_test_g2"}


class _CodedClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier naming its columns by code, counting its calls."""

    def __init__(self, codes=None):
        self.codes = codes

    def fit(self, X, y):
        self.model_ = KNeighborsClassifier(n_neighbors=5).fit(X, y)
        self.classes_ = np.array(self.codes)
        self.calls_ = {"predict": 0, "predict_proba": 0}
        return self

    def predict(self, X):
        self.calls_["predict"] += 1
        return self.model_.predict(X)

    def predict_proba(self, X):
        self.calls_["predict_proba"] += 1
        return _positive_columns(self.model_.predict_proba(X))


def test_codes_are_read_from_the_estimator_and_predictions_shared():
    X, y = _data()
    codes = ["164890007", "164889003", "426783006"]  # not the table's order
    splits = list(KFold(3, shuffle=True, random_state=1).split(X))
    scoring = make_cinc_scorers()
    results = cross_validate(
        _CodedClassifier(codes), X, y, cv=splits, scoring=scoring, return_estimator=True
    )
    for fold, (_, test) in enumerate(splits):
        fitted = results["estimator"][fold]
        # One predict and one predict_proba call served all seven scorers.
        assert fitted.calls_ == {"predict": 1, "predict_proba": 1}
        expected = cinc_report(
            y[test], fitted.predict_proba(X[test]), fitted.predict(X[test]), classes=codes
        )
        assert results["test_challenge"][fold] == pytest.approx(expected["challenge"], abs=1e-12)


def test_scorers_survive_pickling():
    X, y = _data()
    fitted = KNeighborsClassifier().fit(X, y)
    scorers = make_cinc_scorers(classes=CODES)
    restored = pickle.loads(pickle.dumps(scorers))
    for name, scorer in scorers.items():
        assert restored[name](fitted, X, y) == scorer(fitted, X, y)


def test_estimator_without_codes_needs_classes():
    X, y = _data()
    fitted = KNeighborsClassifier().fit(X, y)
    with pytest.raises(ValueError, match="pass classes="):
        make_cinc_scorers()["challenge"](fitted, X, y)


def test_bad_arguments_fail_when_making_the_scorers():
    with pytest.raises(ValueError, match="999"):
        make_cinc_scorers(classes=["164889003", "999"])
    with pytest.raises(ValueError, match="normal class"):
        make_cinc_scorers(classes=["164889003"])
    with pytest.raises(ValueError, match="year"):
        make_cinc_scorers(year=2019)
