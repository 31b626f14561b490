import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from _multilabel_cases import CODES, MULTILABEL_ONLY, three_labels
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ecg.ensemble import MultilabelVotingClassifier
from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import (
    MultilabelThresholdTuner,
    apply_thresholds,
    tune_thresholds,
)


def _members():
    return [("linear", MultiOutputClassifier(LogisticRegression())), ("knn", KNeighborsClassifier(7))]


def _positive(proba_list):
    return np.column_stack([p[:, 1] for p in proba_list])


class TestVoting:
    def test_weighted_mean_of_the_fitted_clones(self):
        X, y = three_labels(80)
        linear, knn = _members()
        blend = MultilabelVotingClassifier([linear, knn], weights=[3, 1]).fit(X, y)
        expected = (3 * _positive(linear[1].fit(X, y).predict_proba(X))
                    + _positive(knn[1].fit(X, y).predict_proba(X))) / 4
        np.testing.assert_allclose(blend.predict_proba(X), expected)
        np.testing.assert_array_equal(blend.predict(X), apply_thresholds(expected, 0.5))
        assert list(blend.named_estimators_) == ["linear", "knn"]
        assert blend.named_estimators_.knn is not knn[1]  # a clone, the given one untouched
        assert blend.n_features_in_ == 4

    def test_dropped_estimator_and_its_weight_are_left_out(self):
        X, y = three_labels(60)
        blend = MultilabelVotingClassifier(_members(), weights=[5, 1]).set_params(linear="drop").fit(X, y)
        alone = _positive(KNeighborsClassifier(7).fit(X, y).predict_proba(X))
        np.testing.assert_allclose(blend.predict_proba(X), alone)
        assert list(blend.named_estimators_) == ["knn"]

    def test_thresholds_and_at_least_one(self):
        X, y = three_labels(60)
        blend = MultilabelVotingClassifier(_members(), threshold=[0.3, 1.0, 0.7], at_least_one=False).fit(X, y)
        proba = blend.predict_proba(X)
        np.testing.assert_array_equal(blend.predict(X), (proba >= [0.3, 2.0, 0.7]))  # a threshold of 1 is off
        np.testing.assert_array_equal(blend.set_params(threshold=0.4).fit(X, y).thresholds_, [0.4] * 3)
        blend.set_params(at_least_one=True).fit(X, y)
        assert blend.predict(X).sum(axis=1).min() == 1

    def test_tuned_blend_equals_the_manual_recipe(self):
        """Tuning the blend is tuning on the mean of the members' out-of-fold probabilities."""
        X, y = three_labels(90)
        tuner = dict(cv=3, classes=CODES, random_state=0, ensemble=True)
        blend = MultilabelThresholdTuner(MultilabelVotingClassifier(_members()), **tuner).fit(X, y)
        members = [MultilabelThresholdTuner(estimator, **tuner).fit(X, y) for _, estimator in _members()]
        mean_oof = np.mean([m.oof_proba_ for m in members], axis=0)
        np.testing.assert_allclose(blend.oof_proba_, mean_oof)
        thresholds, _ = tune_thresholds(y, mean_oof, classes=CODES)
        np.testing.assert_array_equal(blend.thresholds_, thresholds)
        mean_test = np.mean([m.predict_proba(X[:20]) for m in members], axis=0)
        np.testing.assert_allclose(blend.predict_proba(X[:20]), mean_test)

    def test_tuner_reads_the_one_column_of_a_single_label_blend(self):
        X, y = three_labels(60)
        blend = MultilabelVotingClassifier([("knn", KNeighborsClassifier(7))], at_least_one=False)
        tuner = MultilabelThresholdTuner(
            blend, scoring="macro_f1", at_least_one=False, cv=3, random_state=0
        ).fit(X, y[:, :1])
        expected = tuner.estimator_.predict_proba(X)
        assert expected.shape == (60, 1) and expected.max() > 0
        np.testing.assert_array_equal(tuner.predict_proba(X), expected)

    def test_grid_search_over_nested_and_own_parameters(self):
        X, y = three_labels(90)
        grid = {"knn__n_neighbors": [3, 9], "weights": [None, [2, 1]], "linear": ["drop", _members()[0][1]]}
        search = GridSearchCV(
            MultilabelVotingClassifier(_members()), grid, cv=KFold(3, shuffle=True, random_state=0),
            scoring=make_cinc_scorers(classes=CODES)["challenge"], error_score="raise",
        ).fit(X, y)
        assert len(search.cv_results_["params"]) == 8
        best = search.best_estimator_
        assert best.named_estimators_.knn.n_neighbors == search.best_params_["knn__n_neighbors"]
        assert ("linear" in best.named_estimators_) == (search.best_params_["linear"] != "drop")

    def test_pickled_blend_predicts_identically(self):
        X, y = three_labels(60)
        blend = MultilabelVotingClassifier(_members()).fit(X, y)
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(blend)).predict_proba(X), blend.predict_proba(X))

    def test_input_tags_are_what_every_estimator_accepts(self):
        class Signals(ClassifierMixin, BaseEstimator):
            def __sklearn_tags__(self):
                tags = super().__sklearn_tags__()
                tags.input_tags.three_d_array = True
                return tags

        assert get_tags(MultilabelVotingClassifier([("a", Signals()), ("b", Signals())])).input_tags.three_d_array
        mixed = MultilabelVotingClassifier([("a", Signals()), ("b", KNeighborsClassifier())])
        assert not get_tags(mixed).input_tags.three_d_array
        assert get_tags(mixed).classifier_tags.multi_label


def test_a_dataframe_y_names_the_classes_and_reaches_the_estimators():
    X, y = three_labels(60)
    blend = MultilabelVotingClassifier(_members()).fit(X, pd.DataFrame(y, columns=CODES))
    np.testing.assert_array_equal(blend.classes_, CODES)
    from_array = MultilabelVotingClassifier(_members()).fit(X, y)
    np.testing.assert_array_equal(blend.predict_proba(X), from_array.predict_proba(X))
    # A member that names its classes checks them against the columns.
    members = [("tuned", MultilabelThresholdTuner(KNeighborsClassifier(7), classes=CODES, cv=3, random_state=0))]
    with pytest.raises(ValueError, match="another order"):
        MultilabelVotingClassifier(members).fit(X, pd.DataFrame(y, columns=CODES)[CODES[::-1]])


def test_classes_without_positives_warn_and_are_never_predicted():
    X, y = three_labels(60)
    y[:, 0] = 0
    y[:, 2] &= X[:, 3] > 0  # records without any label
    blend = MultilabelVotingClassifier([("knn", KNeighborsClassifier(7))])
    with pytest.warns(UserWarning, match="1 of 3 classes have no positive record in the data given to fit: 0"):
        blend.fit(X, y)
    np.testing.assert_array_equal(blend.thresholds_, [1.0, 0.5, 0.5])
    assert (blend.predict_proba(X) == 0).all(axis=1).any()  # records whose most probable class used to be the first
    prediction = blend.predict(X)
    assert not prediction[:, 0].any() and prediction.any(axis=1).all()
    with pytest.raises(ValueError, match="no positive label at all"):
        blend.fit(X, np.zeros_like(y))


def test_a_member_does_not_repeat_the_warning_of_classes_without_positives():
    X, y = three_labels(60)
    y[:, 0] = 0
    inner_blend = MultilabelVotingClassifier([("knn", KNeighborsClassifier(7))])  # warns when fitted alone
    members = [("knn", KNeighborsClassifier(7)), ("blend", inner_blend)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MultilabelVotingClassifier(members).fit(X, pd.DataFrame(y, columns=CODES[:3]))
    messages = [str(w.message) for w in caught if "no positive record" in str(w.message)]
    assert messages == [f"1 of 3 classes have no positive record in the data given to fit: {CODES[0]}. "
                        "They are never predicted (threshold 1)."]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"weights": [1.0]}, "one non-negative weight per estimator \\(2\\)"),
        ({"weights": [1.0, -1.0]}, "one non-negative weight"),
        ({"weights": [0.0, 1.0], "knn": "drop"}, "sum to zero"),
        ({"linear": "drop", "knn": "drop"}, "All estimators are 'drop'"),
        ({"estimators": [("a", KNeighborsClassifier()), ("a", KNeighborsClassifier())]}, "unique"),
        ({"estimators": [("a__b", KNeighborsClassifier())]}, "must not contain __"),
        ({"estimators": [("a", object())]}, "'a' \\(object\\) needs fit and predict_proba"),
        ({"threshold": [0.5, 0.5]}, "one per class \\(3\\)"),
    ],
)
def test_bad_parameters(params, match):
    X, y = three_labels(30)
    with pytest.raises(ValueError, match=match):
        MultilabelVotingClassifier(_members()).set_params(**params).fit(X, y)


def test_bad_targets():
    X, y = three_labels(30)
    blend = MultilabelVotingClassifier(_members())
    with pytest.raises(ValueError, match="type of the target is continuous"):
        blend.fit(X, y * 0.5)
    with pytest.raises(ValueError, match="requires y"):
        blend.fit(X, None)
    with pytest.raises(ValueError, match="X has 29 records but Y has 30"):
        blend.fit(X[:29], y)


@settings(max_examples=25, deadline=None)
@given(weights=st.lists(st.floats(0.0, 10.0), min_size=2, max_size=2).filter(lambda w: sum(w) > 0.01),
       seed=st.integers(0, 1000))
def test_blend_lies_between_its_members(weights, seed):
    """Property: every blended probability is a convex combination of the members'."""
    X, y = three_labels(60, seed)  # every label has both values for every seed drawn (40 records did not)
    blend = MultilabelVotingClassifier(_members(), weights=weights).fit(X, y)
    members = np.stack([
        _positive(blend.named_estimators_.linear.predict_proba(X)),
        _positive(blend.named_estimators_.knn.predict_proba(X)),
    ])
    proba = blend.predict_proba(X)
    assert np.all(proba >= members.min(axis=0) - 1e-12) and np.all(proba <= members.max(axis=0) + 1e-12)


@parametrize_with_checks(
    [MultilabelVotingClassifier(_members(), at_least_one=False)],
    expected_failed_checks=lambda estimator: MULTILABEL_ONLY,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
