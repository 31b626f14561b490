"""Shared cases of the multi-label meta-estimators' tests: data, and sklearn checks they fail.

The meta-estimators accept a 0/1 indicator matrix only and return one column
per label, where scikit-learn's checks fit single-label targets and expect its
binary shapes: those checks are expected to fail.
"""

import numpy as np

CODES = ["164889003", "164890007", "426783006"]  # AF, AFL, sinus rhythm


def three_labels(n, seed=0):
    """Features and labels of CODES; AFL is rare and weakly signalled, so 0.5 misses it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    af = X[:, 0] > 0.5
    afl = X[:, 1] + 0.8 * rng.normal(size=n) > 1.6
    normal = ~af & ~afl
    return X, np.column_stack([af, afl, normal]).astype(int)


MULTILABEL_ONLY = {
    "check_estimators_dtypes": "the check's target has labels {1, 2}, not a 0/1 indicator matrix",
    "check_fit2d_1feature": "the check's target has labels {1, 2}, not a 0/1 indicator matrix",
    "check_classifier_data_not_an_array": "the check's target has labels {1, 2}, not 0/1",
    "check_classifiers_classes": "the check fits 1-D targets; y must be a 2-D indicator matrix",
    "check_classifiers_train": "predict returns (n_records, n_classes) even for a single label",
    "check_classifier_not_supporting_multiclass": "refuses multiclass, but as non multi-label, "
    "not with the binary-only message the check wants",
    "check_estimator_sparse_array": "predict_proba has a column per label, not the binary (n, 2)",
    "check_estimator_sparse_matrix": "predict_proba has a column per label, not the binary (n, 2)",
}


# Multi-label classifiers with a decision_function (the fusion classifiers, MiniRocket + ridge).
DECISION_MULTILABEL_ONLY = {
    "check_estimators_dtypes": "the check's target has labels {1, 2}, not a 0/1 indicator matrix",
    "check_fit2d_1feature": "the check's target has labels {1, 2}, not a 0/1 indicator matrix",
    "check_classifier_data_not_an_array": "the check's target has labels {1, 2}, not 0/1",
    "check_classifiers_classes": "the check fits 1-D targets; Y must be a 2-D indicator matrix",
    "check_classifiers_train": "the check fits 1-D targets; Y must be a 2-D indicator matrix",
    "check_decision_proba_consistency": "the check fits a 1-D target; Y must be 2-D",
    "check_classifier_not_supporting_multiclass": "refuses multiclass, but as non multi-label, "
    "not with the binary-only message the check wants",
}
