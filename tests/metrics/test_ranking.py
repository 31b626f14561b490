import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_ecg.metrics import macro_auprc, macro_auroc


@pytest.fixture(scope="module")
def golden(reference_dir):
    with open(reference_dir / "cinc" / "metric_cases_2020.json") as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("name, metric", [("auroc", macro_auroc), ("auprc", macro_auprc)])
def test_golden_cases(golden, name, metric):
    for case in golden:
        value = metric(case["labels"], case["scalar_outputs"])
        assert value == pytest.approx(case["expected"][name], abs=1e-9)


def _naive_official(labels, scores):
    # The official compute_auc: walk the distinct thresholds of each class.
    n_records, n_classes = labels.shape
    auroc, auprc = np.zeros(n_classes), np.zeros(n_classes)
    for k in range(n_classes):
        thresholds = np.unique(scores[:, k])[::-1]
        tp = fp = 0
        positives, negatives = labels[:, k].sum(), (~labels[:, k]).sum()
        tpr_prev, tnr_prev = 0.0, 1.0
        for t in thresholds:
            above = scores[:, k] >= t
            tp, fp = (labels[above, k]).sum(), (~labels[above, k]).sum()
            tpr = tp / positives if positives else np.nan
            tnr = (negatives - fp) / negatives if negatives else np.nan
            auroc[k] += 0.5 * (tpr - tpr_prev) * (tnr + tnr_prev)
            auprc[k] += (tpr - tpr_prev) * tp / (tp + fp)
            tpr_prev, tnr_prev = tpr, tnr
        if not positives:
            auroc[k] = auprc[k] = np.nan
        if not negatives:
            auroc[k] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN means
        return np.nanmean(auroc), np.nanmean(auprc)


tied_cases = st.tuples(st.integers(2, 20), st.integers(1, 4)).flatmap(
    lambda shape: st.tuples(
        arrays(bool, shape),
        arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])),
    )
)


@settings(max_examples=60, deadline=None)
@given(tied_cases)
def test_equals_official_loop_with_ties(case):
    labels, scores = case
    if not labels.any(axis=0).any():
        return  # no class has positives: both NaN, checked elsewhere
    expected_auroc, expected_auprc = _naive_official(labels, scores)
    np.testing.assert_allclose(macro_auroc(labels, scores), expected_auroc, atol=1e-12)
    np.testing.assert_allclose(macro_auprc(labels, scores), expected_auprc, atol=1e-12)


def test_without_ties_equals_sklearn():
    rng = np.random.default_rng(0)
    labels = rng.random((80, 5)) < 0.3
    labels[0] = True  # every class has positives
    labels[1] = False  # and negatives
    scores = rng.random((80, 5))
    assert macro_auroc(labels, scores) == pytest.approx(
        roc_auc_score(labels, scores, average="macro"), abs=1e-12
    )
    assert macro_auprc(labels, scores) == pytest.approx(
        average_precision_score(labels, scores, average="macro"), abs=1e-12
    )


def test_class_without_positives_is_left_out():
    labels = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    scores = np.array([[0.9, 0.1], [0.2, 0.3], [0.3, 0.5], [0.4, 0.7]])
    assert macro_auroc(labels, scores) == pytest.approx(roc_auc_score(labels[:, 0], scores[:, 0]))
    assert macro_auprc(labels, scores) == pytest.approx(
        average_precision_score(labels[:, 0], scores[:, 0])
    )


def test_list_of_predict_proba_arrays_is_accepted():
    rng = np.random.default_rng(1)
    labels = rng.random((30, 3)) < 0.4
    positive = rng.random((30, 3))
    as_list = [np.column_stack([1 - positive[:, k], positive[:, k]]) for k in range(3)]
    assert macro_auroc(labels, as_list) == macro_auroc(labels, positive)
    assert macro_auprc(labels, as_list) == macro_auprc(labels, positive)


@settings(max_examples=30, deadline=None)
@given(tied_cases, st.randoms(use_true_random=False))
def test_permuting_records_changes_nothing(case, random):
    labels, scores = case
    order = list(range(len(labels)))
    random.shuffle(order)
    for metric in (macro_auroc, macro_auprc):
        permuted = metric(labels[order], scores[order])
        np.testing.assert_allclose(permuted, metric(labels, scores), atol=1e-12)
