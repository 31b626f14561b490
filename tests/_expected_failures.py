"""Justified failures of scikit-learn's checks shared by the multi-label meta-estimators.

They accept a 0/1 indicator matrix only and return one column per label, where
the checks fit single-label targets and expect scikit-learn's binary shapes.
"""

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
