import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.metrics import challenge_metric, modified_confusion_matrix

TABLE = scored_classes(2020)
NORMAL = TABLE.classes.index(TABLE.normal_class)


@pytest.fixture(scope="module")
def golden(reference_dir):
    with open(reference_dir / "cinc" / "metric_cases_2020.json") as f:
        return json.load(f)


def test_golden_cases_challenge_metric(golden):
    assert tuple(golden["classes"]) == TABLE.classes
    for case in golden["cases"]:
        value = challenge_metric(case["labels"], case["binary_outputs"], classes=golden["classes"])
        assert value == pytest.approx(case["expected"]["challenge_metric"], abs=1e-9)


def _naive_modified_confusion(labels, outputs):
    # The official loop: credit 1/|true or predicted| per true-predicted pair.
    n_classes = labels.shape[1]
    matrix = np.zeros((n_classes, n_classes))
    for i in range(labels.shape[0]):
        union = max(1, int(np.sum(labels[i] | outputs[i])))
        for j in range(n_classes):
            if labels[i, j]:
                for k in range(n_classes):
                    if outputs[i, k]:
                        matrix[j, k] += 1.0 / union
    return matrix


def _naive_challenge(labels, outputs, weights, normal):
    inactive_outputs = np.zeros_like(labels)
    inactive_outputs[:, normal] = True
    observed = np.sum(weights * _naive_modified_confusion(labels, outputs))
    correct = np.sum(weights * _naive_modified_confusion(labels, labels))
    inactive = np.sum(weights * _naive_modified_confusion(labels, inactive_outputs))
    return 0.0 if correct == inactive else (observed - inactive) / (correct - inactive)


label_matrices = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        arrays(bool, (n, TABLE.n_classes)), arrays(bool, (n, TABLE.n_classes))
    )
)


@settings(max_examples=40, deadline=None)
@given(label_matrices)
def test_modified_confusion_matrix_equals_naive_loop(pair):
    labels, outputs = pair
    np.testing.assert_allclose(
        modified_confusion_matrix(labels, outputs), _naive_modified_confusion(labels, outputs),
        atol=1e-12,
    )


@settings(max_examples=40, deadline=None)
@given(label_matrices)
def test_challenge_metric_equals_naive_loop(pair):
    labels, outputs = pair
    expected = _naive_challenge(labels, outputs, TABLE.weights, NORMAL)
    assert challenge_metric(labels, outputs) == pytest.approx(expected, abs=1e-9)


def _has_non_normal_credit(labels):
    # The true labels beat always-normal unless every record is normal-only
    # or empty; then the metric is defined as 0.
    only_normal = labels[:, NORMAL] & (labels.sum(axis=1) == 1)
    return bool((labels.any(axis=1) & ~only_normal).any())


@settings(max_examples=40, deadline=None)
@given(label_matrices)
def test_perfect_outputs_score_one_and_always_normal_zero(pair):
    labels, _ = pair
    always_normal = np.zeros_like(labels)
    always_normal[:, NORMAL] = True
    assert challenge_metric(labels, always_normal) == pytest.approx(0.0, abs=1e-12)
    expected_perfect = 1.0 if _has_non_normal_credit(labels) else 0.0
    assert challenge_metric(labels, labels) == pytest.approx(expected_perfect, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(label_matrices, st.randoms(use_true_random=False))
def test_permuting_records_changes_nothing(pair, random):
    labels, outputs = pair
    order = list(range(len(labels)))
    random.shuffle(order)
    assert challenge_metric(labels[order], outputs[order]) == pytest.approx(
        challenge_metric(labels, outputs), abs=1e-12
    )


def test_classes_subset_uses_weight_submatrix():
    codes = ["164889003", "164890007", "426783006"]  # AF, AFL, sinus rhythm
    labels = np.eye(3, dtype=int)
    swapped = labels[:, [1, 0, 2]]
    sub = TABLE.weights[np.ix_([1, 2, NORMAL], [1, 2, NORMAL])]
    assert sub[0, 1] == 0.5
    expected = _naive_challenge(labels.astype(bool), swapped.astype(bool), sub, 2)
    assert challenge_metric(labels, swapped, classes=codes) == pytest.approx(expected)
    # The same columns inside the full table give the same value.
    full_labels = np.zeros((3, TABLE.n_classes), dtype=int)
    full_pred = np.zeros_like(full_labels)
    full_labels[:, [1, 2, NORMAL]] = labels
    full_pred[:, [1, 2, NORMAL]] = swapped
    assert challenge_metric(full_labels, full_pred) == pytest.approx(expected)


def test_equivalent_code_names_its_class():
    # 59118001 (RBBB) is scored as 713427006 (CRBBB) in 2020.
    labels = np.array([[1, 0], [0, 1], [1, 0]])
    outputs = np.array([[1, 0], [1, 0], [1, 0]])
    assert challenge_metric(labels, outputs, classes=["59118001", "426783006"]) == (
        challenge_metric(labels, outputs, classes=["713427006", "426783006"])
    )


def test_year_2021_uses_its_own_table():
    table = scored_classes(2021)
    rng = np.random.default_rng(0)
    labels = rng.random((30, table.n_classes)) < 0.2
    outputs = rng.random((30, table.n_classes)) < 0.2
    normal = table.classes.index(table.normal_class)
    expected = _naive_challenge(labels, outputs, table.weights, normal)
    assert challenge_metric(labels, outputs, year=2021) == pytest.approx(expected, abs=1e-9)
    # CLBBB and LBBB are one class in 2021 only.
    two = labels[:, :2]
    for lbbb in ("733534002", "164909002"):
        codes = [lbbb, table.normal_class]
        assert challenge_metric(two, two, classes=codes, year=2021) == 1.0
    with pytest.raises(ValueError, match="733534002"):
        challenge_metric(two, two, classes=["733534002", table.normal_class], year=2020)


def test_does_not_write_into_read_only_input():
    labels = np.zeros((4, TABLE.n_classes), dtype=np.int8)
    labels[:, NORMAL] = 1
    labels.setflags(write=False)
    assert challenge_metric(labels, labels) == 0.0
