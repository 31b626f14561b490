import warnings

import numpy as np
import pandas as pd
import pytest
from _multilabel_cases import CODES, MULTILABEL_ONLY, three_labels
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, ShuffleSplit, cross_validate
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.ensemble import MultilabelVotingClassifier
from sklearn_ecg.metrics import challenge_metric, g_beta_measure, make_cinc_scorers, stacked_label_metric
from sklearn_ecg.model_selection import MultilabelThresholdTuner, apply_thresholds, tune_thresholds


def _tuner(**params):
    defaults = dict(classes=CODES, cv=3, random_state=0)
    return MultilabelThresholdTuner(KNeighborsClassifier(9), **{**defaults, **params})


def _oof_proba(X, y, splits):
    proba = np.zeros(y.shape)
    for train, test in splits:
        model = KNeighborsClassifier(9).fit(X[train], y[train])
        proba[test] = np.column_stack([p[:, 1] for p in model.predict_proba(X[test])])
    return proba


class TestApplyThresholds:
    def test_per_class_thresholds_inclusive(self):
        proba = np.array([[0.5, 0.2], [0.49, 0.9]])
        np.testing.assert_array_equal(apply_thresholds(proba, [0.5, 0.9]), [[1, 0], [0, 1]])
        np.testing.assert_array_equal(apply_thresholds(proba, 0.3), [[1, 0], [1, 1]])

    def test_empty_rows_get_their_most_probable_class(self):
        proba = np.array([[0.1, 0.4, 0.2], [0.3, 0.1, 0.2], [0.9, 0.8, 0.1]])
        np.testing.assert_array_equal(
            apply_thresholds(proba, 0.5), [[0, 1, 0], [1, 0, 0], [1, 1, 0]]
        )
        np.testing.assert_array_equal(
            apply_thresholds(proba, 0.5, at_least_one=False), [[0, 0, 0], [0, 0, 0], [1, 1, 0]]
        )

    def test_list_of_predict_proba_arrays(self):
        proba = np.array([[0.7, 0.2], [0.1, 0.6]])
        as_list = [np.column_stack([1 - proba[:, k], proba[:, k]]) for k in range(2)]
        np.testing.assert_array_equal(apply_thresholds(as_list, 0.5), apply_thresholds(proba, 0.5))

    def test_a_threshold_of_one_switches_its_class_off(self):
        # Never predicted: neither at probability 1 nor as the most probable class of an empty record.
        proba = np.array([[1.0, 0.2], [0.9, 0.1], [0.3, 0.8]])
        np.testing.assert_array_equal(apply_thresholds(proba, [1.0, 0.5]), [[0, 1], [0, 1], [0, 1]])
        np.testing.assert_array_equal(apply_thresholds(proba, [1.0, 0.9], at_least_one=False), [[0, 0]] * 3)
        np.testing.assert_array_equal(apply_thresholds(proba, 1.0), [[0, 0]] * 3)  # every class off

    def test_bad_thresholds(self):
        with pytest.raises(ValueError, match=r"one entry per class \(2\); got shape \(3,\)"):
            apply_thresholds(np.zeros((2, 2)), [0.5, 0.5, 0.5])
        with pytest.raises(ValueError, match="NaN"):
            apply_thresholds(np.array([[np.nan, 0.5]]), 0.5)


def test_best_score_is_the_metric_of_the_tuned_thresholds_on_out_of_fold_proba():
    X, y = three_labels(150)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    tuner = _tuner(cv=splits).fit(X, y)
    proba = _oof_proba(X, y, splits)
    np.testing.assert_allclose(tuner.oof_proba_, proba)
    tuned = challenge_metric(y, apply_thresholds(proba, tuner.thresholds_), classes=CODES)
    untuned = challenge_metric(y, apply_thresholds(proba, 0.5), classes=CODES)
    assert tuner.best_score_ == pytest.approx(tuned, abs=1e-12)
    assert tuner.best_score_ >= untuned
    on_grid = np.isclose(tuner.thresholds_[:, None], np.arange(1, 20) * 0.05)
    assert on_grid.any(axis=1).all()


class TestTuneThresholds:
    def test_same_thresholds_as_the_tuner_on_its_out_of_fold_proba(self):
        X, y = three_labels(150)
        tuner = _tuner(n_passes=3).fit(X, y)
        thresholds, score = tune_thresholds(y, tuner.oof_proba_, classes=CODES, n_passes=3)
        np.testing.assert_array_equal(thresholds, tuner.thresholds_)
        assert score == tuner.best_score_

    @pytest.mark.parametrize("scoring", ["challenge", "g2"])
    def test_a_prebuilt_metric_tunes_as_its_name(self, scoring):
        X, y = three_labels(150)
        proba = _tuner().fit(X, y).oof_proba_
        metric = stacked_label_metric(scoring, n_columns=3, classes=CODES)
        by_name = tune_thresholds(y, proba, scoring=scoring, classes=CODES)
        # classes and year are not used with a prebuilt metric: the wrong year changes nothing.
        prebuilt = tune_thresholds(y, proba, scoring=metric, year=2021)
        np.testing.assert_array_equal(prebuilt[0], by_name[0])
        assert prebuilt[1] == by_name[1]

    @settings(max_examples=40, deadline=None)
    @given(
        y=arrays(np.int64, (12, 3), elements=st.integers(0, 1)),
        proba=arrays(np.float64, (12, 3), elements=st.floats(0.0, 1.0)),
    )
    def test_score_is_that_of_the_thresholds_and_no_worse_than_half(self, y, proba):
        thresholds, score = tune_thresholds(y, proba, classes=CODES)
        assert score == pytest.approx(
            challenge_metric(y, apply_thresholds(proba, thresholds), classes=CODES), abs=1e-12
        )
        assert score >= challenge_metric(y, apply_thresholds(proba, 0.5), classes=CODES) - 1e-12

    def test_shrinkage_pulls_every_threshold_toward_the_best_common_one(self):
        X, y = three_labels(150)
        proba = _tuner().fit(X, y).oof_proba_
        own, _ = tune_thresholds(y, proba, classes=CODES)
        common, common_score = tune_thresholds(y, proba, classes=CODES, shrinkage=1.0)
        assert np.ptp(common) < 1e-12  # one threshold for every class
        grid = np.linspace(0.05, 0.95, 19)
        scores = [challenge_metric(y, apply_thresholds(proba, t), classes=CODES) for t in grid]
        assert common[0] == pytest.approx(grid[np.argmax(scores)]) and common_score == max(scores)
        half, score = tune_thresholds(y, proba, classes=CODES, shrinkage=0.5)
        logit = lambda p: np.log(p / (1 - p))  # noqa: E731
        np.testing.assert_allclose(logit(half), (logit(own) + logit(common)) / 2)
        assert score == challenge_metric(y, apply_thresholds(proba, half), classes=CODES)
        tuner = _tuner(shrinkage=0.5).fit(X, y)
        np.testing.assert_array_equal(
            tuner.thresholds_, tune_thresholds(y, tuner.oof_proba_, classes=CODES, shrinkage=0.5)[0]
        )

    @settings(max_examples=30, deadline=None)
    @given(
        y=arrays(np.int64, (12, 3), elements=st.integers(0, 1)),
        proba=arrays(np.float64, (12, 3), elements=st.floats(0.0, 1.0)),
        shrinkage=st.floats(0.0, 1.0),
    )
    def test_shrunk_thresholds_lie_between_own_and_common(self, y, proba, shrinkage):
        own, _ = tune_thresholds(y, proba, classes=CODES)
        common, _ = tune_thresholds(y, proba, classes=CODES, shrinkage=1.0)
        shrunk, _ = tune_thresholds(y, proba, classes=CODES, shrinkage=shrinkage)
        low, high = np.minimum(own, common), np.maximum(own, common)
        assert np.all((shrunk >= low - 1e-12) & (shrunk <= high + 1e-12))

    @pytest.mark.parametrize("shrinkage", [0.0, 0.5])
    def test_disabled_classes_stay_off_and_at_least_one_never_picks_them(self, shrinkage):
        X, y = three_labels(150)
        proba = _tuner().fit(X, y).oof_proba_
        proba[:, 0] = 1.0  # the most probable class of every record
        disabled = [True, False, False]
        thresholds, score = tune_thresholds(y, proba, classes=CODES, disabled=disabled, shrinkage=shrinkage)
        assert thresholds[0] == 1.0 and (thresholds[1:] < 1).all()
        predicted = apply_thresholds(proba, thresholds)
        assert not predicted[:, 0].any() and predicted.any(axis=1).all()
        assert score == pytest.approx(challenge_metric(y, predicted, classes=CODES), abs=1e-12)
        with pytest.raises(ValueError, match=r"disabled must hold one bool per class \(3\)"):
            tune_thresholds(y, proba, classes=CODES, disabled=[True])

    def test_bad_input(self):
        with pytest.raises(ValueError, match=r"y_true has shape \(2, 3\) but proba has shape \(2, 2\)"):
            tune_thresholds(np.zeros((2, 3)), np.zeros((2, 2)), classes=CODES)
        with pytest.raises(ValueError, match="proba contains NaN"):
            tune_thresholds(np.zeros((1, 3)), [[np.nan, 0.1, 0.2]], classes=CODES)
        with pytest.raises(ValueError, match="scoring must be one of"):
            tune_thresholds(np.zeros((1, 3)), np.zeros((1, 3)), classes=CODES, scoring="auroc")
        with pytest.raises(ValueError, match="thresholds must be an int >= 1"):
            tune_thresholds(np.zeros((1, 3)), np.zeros((1, 3)), classes=CODES, thresholds=0)
        with pytest.raises(ValueError, match="n_passes must be an int >= 1"):
            tune_thresholds(np.zeros((1, 3)), np.zeros((1, 3)), classes=CODES, n_passes=0)
        with pytest.raises(ValueError, match=r"shrinkage must be in \[0, 1\]; got 1.5"):
            tune_thresholds(np.zeros((1, 3)), np.zeros((1, 3)), classes=CODES, shrinkage=1.5)


def test_converged_thresholds_are_a_local_optimum_of_the_naive_metric():
    X, y = three_labels(120, seed=1)
    splits = list(KFold(3, shuffle=True, random_state=1).split(X))
    grid = np.array([0.1, 0.2, 0.3, 0.5, 0.7])
    tuner = _tuner(cv=splits, thresholds=grid, n_passes=8, scoring="g2").fit(X, y)
    proba = _oof_proba(X, y, splits)
    best = g_beta_measure(y, apply_thresholds(proba, tuner.thresholds_))
    assert best == pytest.approx(tuner.best_score_, abs=1e-12)
    for k in range(3):
        for value in grid:  # one Python call per candidate: the naive search
            moved = tuner.thresholds_.copy()
            moved[k] = value
            assert g_beta_measure(y, apply_thresholds(proba, moved)) <= best + 1e-12


def test_tuning_helps_held_out_data():
    X, y = three_labels(400, seed=2)
    X_test, y_test = three_labels(3000, seed=3)
    tuner = _tuner().fit(X, y)
    assert tuner.thresholds_[1] < 0.5  # the rare, weak class gets a lower threshold
    plain = apply_thresholds(tuner.predict_proba(X_test), 0.5)
    assert challenge_metric(y_test, tuner.predict(X_test), classes=CODES) > challenge_metric(
        y_test, plain, classes=CODES
    )


def test_thresholds_are_never_tuned_on_predictions_of_seen_records():
    # 1-NN recalls its training labels perfectly, so in-sample tuning would
    # score 1; on out-of-fold probabilities random labels cannot be learnt.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = (rng.random((90, 3)) < 0.4).astype(int)
    tuner = MultilabelThresholdTuner(
        KNeighborsClassifier(n_neighbors=1), classes=CODES, cv=3, random_state=0
    ).fit(X, y)
    assert challenge_metric(y, tuner.predict(X), classes=CODES) == 1.0
    assert tuner.best_score_ < 0.6


_FIT_LOG = []


class _Spy(ClassifierMixin, BaseEstimator):
    """Records which rows (by the id in column 0) it fits on and predicts."""

    def fit(self, X, y):
        self.seen_ = set(X[:, 0].astype(int))
        self.y_ = y
        self.model_ = KNeighborsClassifier(3).fit(X[:, 1:], y)
        return self

    def predict_proba(self, X):
        _FIT_LOG.append((self.seen_, set(X[:, 0].astype(int))))
        return self.model_.predict_proba(X[:, 1:])


def test_inner_folds_predict_only_records_they_did_not_fit():
    X, y = three_labels(60)
    X = np.column_stack([np.arange(60), X])
    _FIT_LOG.clear()
    tuner = MultilabelThresholdTuner(_Spy(), classes=CODES, cv=4, random_state=0).fit(X, y)
    assert len(_FIT_LOG) == 4
    predicted = set()
    for seen, scored in _FIT_LOG:
        assert not seen & scored
        predicted |= scored
    assert predicted == set(range(60))
    assert tuner.estimator_.seen_ == set(range(60))  # the refit uses all records


def test_ensemble_averages_the_inner_folds_estimators_without_refit():
    X, y = three_labels(60)
    X = np.column_stack([np.arange(60), X])
    tuner = MultilabelThresholdTuner(_Spy(), classes=CODES, cv=4, random_state=0, ensemble=True)
    tuner.fit(X, y)
    assert len(tuner.estimators_) == 4
    # No refit on all 60: each record was fitted by the 3 folds that did not test it.
    assert sum(len(e.seen_) for e in tuner.estimators_) == 3 * 60
    assert set().union(*(e.seen_ for e in tuner.estimators_)) == set(range(60))
    expected = np.mean([
        np.column_stack([p[:, 1] for p in e.predict_proba(X)]) for e in tuner.estimators_
    ], axis=0)
    np.testing.assert_allclose(tuner.predict_proba(X), expected)
    np.testing.assert_array_equal(
        tuner.predict(X), apply_thresholds(expected, tuner.thresholds_)
    )
    # The thresholds are those of the same out-of-fold probabilities.
    refitted = MultilabelThresholdTuner(_Spy(), classes=CODES, cv=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(refitted.thresholds_, tuner.thresholds_)


class _Logistic(ClassifierMixin, BaseEstimator):
    """One logistic regression per column, with a (n_records, n_classes) decision."""

    def fit(self, X, y):
        self.models_ = [LogisticRegression().fit(X, column) for column in y.T]
        return self

    def decision_function(self, X):
        return np.column_stack([m.decision_function(X) for m in self.models_])

    def predict_proba(self, X):
        return 1 / (1 + np.exp(-self.decision_function(X)))


def test_ensemble_decision_function_is_the_inner_folds_mean():
    X, y = three_labels(90)
    tuner = MultilabelThresholdTuner(_Logistic(), classes=CODES, cv=3, random_state=0, ensemble=True)
    tuner.fit(X, y)
    expected = np.mean([e.decision_function(X) for e in tuner.estimators_], axis=0)
    np.testing.assert_allclose(tuner.decision_function(X), expected)
    assert not np.allclose(tuner.estimators_[0].decision_function(X), expected)


class _Gated(_Logistic):
    """A two-modality gated estimator whose gate depends on the fitted weights."""

    def fit(self, X, y):
        super().fit(X, y)
        self.modality_names_ = np.array(["time", "spectrogram"], dtype=object)
        return self

    def gate_weights(self, X):
        first = 1 / (1 + np.exp(-X @ self.models_[0].coef_.ravel()))
        return np.column_stack([first, 1 - first])


def test_ensemble_gate_weights_are_the_inner_folds_mean():
    X, y = three_labels(90)
    tuner = MultilabelThresholdTuner(_Gated(), classes=CODES, cv=3, random_state=0, ensemble=True)
    tuner.fit(X, y)
    expected = np.mean([e.gate_weights(X) for e in tuner.estimators_], axis=0)
    np.testing.assert_allclose(tuner.gate_weights(X), expected)
    np.testing.assert_allclose(tuner.gate_weights(X).sum(axis=1), 1.0)
    assert tuner.modality_names_.tolist() == ["time", "spectrogram"]
    # Only a gated estimator's tuner has gate weights.
    assert not hasattr(_tuner(), "gate_weights")


def test_in_pipeline_and_cross_validate():
    X, y = three_labels(150)
    pipeline = make_pipeline(StandardScaler(), _tuner(thresholds=9))
    results = cross_validate(pipeline, X, y, cv=3, scoring=make_cinc_scorers(classes=CODES))
    assert np.isfinite(results["test_challenge"]).all()
    assert np.isfinite(results["test_macro_auroc"]).all()


def test_fitted_attributes_and_prediction_shapes():
    X, y = three_labels(120)
    tuner = _tuner().fit(X, y)
    assert tuner.classes_.tolist() == CODES
    assert tuner.thresholds_.shape == (3,)
    assert tuner.n_features_in_ == 4
    assert tuner.predict_proba(X).shape == (120, 3)
    assert tuner.predict(X).sum(axis=1).min() >= 1
    assert not hasattr(tuner, "decision_function")  # KNeighborsClassifier has none
    np.testing.assert_array_equal(_tuner().fit(X, y).thresholds_, tuner.thresholds_)


@pytest.mark.filterwarnings("ignore:A column-vector y was passed")
def test_decision_function_passes_through():
    X, y = three_labels(80)
    tuner = MultilabelThresholdTuner(
        LogisticRegression(), scoring="macro_f1", at_least_one=False, cv=2, random_state=0
    ).fit(X, y[:, :1])
    np.testing.assert_allclose(tuner.decision_function(X), tuner.estimator_.decision_function(X))
    assert tuner.predict(X).shape == (80, 1)


def test_default_classes_are_the_year_table_when_the_width_matches():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.zeros((60, 24), dtype=int)
    y[np.arange(60), np.arange(60) % 24] = 1
    tuner = MultilabelThresholdTuner(
        KNeighborsClassifier(5), thresholds=3, n_passes=1, cv=2, random_state=0
    ).fit(X, y)
    assert tuner.classes_.tolist() == list(scored_classes(2020).classes)


@pytest.mark.parametrize(
    "params, y_columns, error, match",
    [
        ({"classes": None}, 3, ValueError, "pass classes="),
        ({"classes": CODES[:2]}, 3, ValueError, "classes names 2 classes but y has 3 columns"),
        ({"scoring": "macro_auroc"}, 3, ValueError, "scoring"),
        ({"cv": ShuffleSplit(2, test_size=0.3, random_state=0)}, 3, ValueError, "exactly one"),
        ({"thresholds": [0.2, np.nan]}, 3, ValueError, "finite"),
        ({"thresholds": [0.2, 1.0]}, 3, ValueError, r"in \[0, 1\) \(a threshold of 1 switches a class off"),
        ({"shrinkage": 2.0}, 3, ValueError, "shrinkage"),
    ],
)
def test_bad_parameters(params, y_columns, error, match):
    X, y = three_labels(60)
    with pytest.raises(error, match=match):
        _tuner(**params).fit(X, y[:, :y_columns])


def test_bad_targets_and_estimators():
    X, y = three_labels(30)
    with pytest.raises(ValueError, match="type of the target is continuous"):
        _tuner().fit(X, y * 0.5)
    with pytest.raises(ValueError, match="requires y"):
        _tuner().fit(X, None)
    with pytest.raises(ValueError, match="predict_proba"):
        MultilabelThresholdTuner(object()).fit(X, y)


# Justified failures: the tuner is multi-label only, and its predictions follow
# the tuned thresholds rather than sklearn's binary conventions.
_TUNER_FAILURES = {
    **MULTILABEL_ONLY,
    "check_classifier_multioutput": "predict applies tuned thresholds, not 0.5 on predict_proba",
}


@parametrize_with_checks(
    [
        MultilabelThresholdTuner(
            MultiOutputClassifier(LogisticRegression()),
            scoring="macro_f1",
            at_least_one=False,  # a single-label check target would be all positive
            thresholds=5,
            n_passes=1,
            cv=2,
        )
    ],
    expected_failed_checks=lambda estimator: _TUNER_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore:A column-vector y was passed")
def test_positive_probability_of_an_output_that_saw_one_class():
    X, y = three_labels(60)
    y[:, 1] = 0  # AFL never occurs: KNN's per-output array has a single column
    knn = KNeighborsClassifier(5).fit(X, y)
    assert knn.predict_proba(X)[1].shape == (60, 1)
    tuner = MultilabelThresholdTuner(KNeighborsClassifier(5), classes=CODES, cv=3, random_state=0)
    with pytest.warns(UserWarning, match="164890007"):
        proba = tuner.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba[:, 1], 0.0)
    # A single output that saw only positives: its one column is the positive class's.
    single = MultilabelThresholdTuner(
        KNeighborsClassifier(5), scoring="macro_f1", at_least_one=False, cv=3, random_state=0
    ).fit(X, np.ones((60, 1), dtype=int))
    np.testing.assert_array_equal(single.predict_proba(X), 1.0)


def test_a_dataframe_y_names_the_classes_and_reaches_the_estimator():
    X, y = three_labels(90)
    frame = pd.DataFrame(y, columns=CODES)
    tuner = MultilabelThresholdTuner(_Spy(), cv=3, random_state=0).fit(np.column_stack([np.arange(90), X]), frame)
    np.testing.assert_array_equal(tuner.classes_, CODES)
    named = _tuner().fit(X, y)
    # The challenge metric weighs the columns by their codes: the same thresholds as with classes=CODES.
    np.testing.assert_array_equal(_tuner(classes=None).fit(X, frame).thresholds_, named.thresholds_)
    assert isinstance(tuner.estimator_.y_, pd.DataFrame) and list(tuner.estimator_.y_.columns) == CODES


def test_dataframe_columns_in_another_order_than_classes_are_refused():
    X, y = three_labels(60)
    shuffled = pd.DataFrame(y, columns=CODES)[CODES[::-1]]
    with pytest.raises(ValueError, match="columns of the DataFrame y .* disagree with classes.*another order"):
        _tuner().fit(X, shuffled)


def test_classes_without_positives_warn_and_are_never_predicted():
    X, y = three_labels(120)
    y[:, 0] = 0  # no AF
    y[:, 2] &= X[:, 3] > 0  # records without any label, whose KNN probabilities are all 0
    tuner = _tuner()
    with pytest.warns(UserWarning, match="1 of 3 classes have no positive record.*164889003"):
        tuner.fit(X, y)
    assert tuner.thresholds_[0] == 1.0
    all_zero = (tuner.predict_proba(X) == 0).all(axis=1)
    assert all_zero.any()  # records whose most probable class used to be the first, AF
    prediction = tuner.predict(X)
    assert not prediction[:, 0].any() and prediction.any(axis=1).all()
    with pytest.raises(ValueError, match="no positive label at all"):
        _tuner().fit(X, np.zeros_like(y))


def test_a_class_missing_from_an_inner_fold_warns_once_by_its_code():
    X, y = three_labels(60)
    y[:, 1] = 0
    y[0, 1] = 1  # one positive: the inner fold that tests it trains without any
    tuner = MultilabelThresholdTuner(MultilabelVotingClassifier([("knn", KNeighborsClassifier(5))]), cv=3,
                                     classes=CODES, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    messages = [str(w.message) for w in caught if "no positive record" in str(w.message)
                or "inner fold" in str(w.message)]
    assert messages == [f"1 of 3 classes have positive records in y but none in the training part of some inner "
                        f"fold: {CODES[1]}. That fold's model never predicts them."]
