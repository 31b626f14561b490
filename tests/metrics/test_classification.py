import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import accuracy_score, f1_score

from sklearn_ecg.metrics import (
    challenge_accuracy,
    f_beta_measure,
    g_beta_measure,
    macro_f_measure,
)
from sklearn_ecg.metrics._classification import confusion_counts

METRICS = {
    "accuracy": challenge_accuracy,
    "f_measure": macro_f_measure,
    "f_beta_2": f_beta_measure,
    "g_beta_2": g_beta_measure,
}


@pytest.fixture(scope="module")
def golden(reference_dir):
    with open(reference_dir / "cinc" / "metric_cases_2020.json") as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("name", sorted(METRICS))
def test_golden_cases(golden, name):
    for case in golden:
        value = METRICS[name](case["labels"], case["binary_outputs"])
        assert value == pytest.approx(case["expected"][name], abs=1e-9)


def _naive_counts(labels, outputs, normalize):
    # The official compute_confusion_matrices loop, with max(1, ...) so that a
    # recording without labels counts once.
    counts = np.zeros((4, labels.shape[1]))  # tp, fp, fn, tn
    for i in range(labels.shape[0]):
        share = 1.0 / max(1, int(labels[i].sum())) if normalize else 1.0
        for j in range(labels.shape[1]):
            true, predicted = int(labels[i, j]), int(outputs[i, j])
            row = {(1, 1): 0, (0, 1): 1, (1, 0): 2, (0, 0): 3}[true, predicted]
            counts[row, j] += share
    return counts


label_pairs = st.tuples(st.integers(1, 15), st.integers(1, 6)).flatmap(
    lambda shape: st.tuples(arrays(bool, shape), arrays(bool, shape))
)


@settings(max_examples=40, deadline=None)
@given(label_pairs, st.booleans())
def test_confusion_counts_equal_naive_loop(pair, normalize):
    labels, outputs = pair
    counts = confusion_counts(labels, outputs, normalize=normalize)
    expected = _naive_counts(labels, outputs, normalize)
    np.testing.assert_allclose(np.array(counts), expected, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(label_pairs, st.integers(1, 4))
def test_stacked_counts_equal_one_at_a_time(pair, n_stack):
    labels, outputs = pair
    rng = np.random.default_rng(n_stack)
    stack = rng.random((n_stack, *outputs.shape)) < 0.5
    stacked = confusion_counts(labels, stack, normalize=True)
    for s in range(n_stack):
        single = confusion_counts(labels, stack[s], normalize=True)
        for a, b in zip(stacked, single):
            np.testing.assert_allclose(a[s], b, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(label_pairs, st.randoms(use_true_random=False))
def test_permuting_records_changes_nothing(pair, random):
    labels, outputs = pair
    order = list(range(len(labels)))
    random.shuffle(order)
    for metric in METRICS.values():
        np.testing.assert_allclose(
            metric(labels[order], outputs[order]), metric(labels, outputs), atol=1e-12
        )


def test_accuracy_is_subset_accuracy():
    rng = np.random.default_rng(0)
    labels = (rng.random((50, 4)) < 0.3).astype(int)
    outputs = labels.copy()
    outputs[::3, 1] ^= 1
    assert challenge_accuracy(labels, outputs) == pytest.approx(accuracy_score(labels, outputs))


def test_macro_f_leaves_out_classes_never_true_nor_predicted():
    labels = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    outputs = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0]])
    # Class 2 is undefined (NaN); the mean runs over classes 0 and 1 only.
    defined = f1_score(labels[:, :2], outputs[:, :2], average=None)
    assert macro_f_measure(labels, outputs) == pytest.approx(defined.mean())
    # sklearn's macro F1 counts the undefined class as 0 instead.
    assert f1_score(labels, outputs, average="macro", zero_division=0) < defined.mean()


def test_all_classes_undefined_gives_nan_without_warning(recwarn):
    empty = np.zeros((3, 2), dtype=int)
    assert np.isnan(macro_f_measure(empty, empty))
    assert np.isnan(g_beta_measure(empty, empty))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_beta_counts_share_a_recording_between_its_labels():
    labels = np.array([[1, 1], [0, 1]])
    outputs = np.array([[1, 0], [0, 1]])
    # Class 1: TP 1 (second record), FN 1/2 (first record has two labels).
    assert f_beta_measure(labels, outputs) == pytest.approx((1 + 5 / (5 + 4 * 0.5)) / 2)
    assert g_beta_measure(labels, outputs) == pytest.approx((1 + 1 / (1 + 2 * 0.5)) / 2)
    assert f_beta_measure(labels, outputs, beta=1) == pytest.approx((1 + 2 / (2 + 0.5)) / 2)
