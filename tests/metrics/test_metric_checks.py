import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_ecg.metrics import (
    challenge_accuracy,
    challenge_metric,
    f_beta_measure,
    macro_auroc,
    macro_f_measure,
)

CODES = ["164889003", "164890007", "426783006"]


@pytest.mark.parametrize(
    "metric", [challenge_metric, challenge_accuracy, macro_f_measure, f_beta_measure]
)
def test_shape_mismatch(metric):
    expected = r"y_true has shape \(3, 24\) but y_pred has shape \(2, 24\)"
    with pytest.raises(ValueError, match=expected):
        metric(np.zeros((3, 24)), np.zeros((2, 24)))


@pytest.mark.parametrize("bad, where", [(2, "y_true"), (0.5, "y_true"), (np.nan, "y_true")])
def test_non_binary_labels(bad, where):
    labels = np.zeros((3, 24))
    labels[1, 4] = bad
    with pytest.raises(ValueError, match=f"{where} must be a binary indicator"):
        challenge_metric(labels, np.zeros((3, 24)))


def test_string_labels():
    with pytest.raises(ValueError, match="0/1 labels"):
        macro_f_measure(np.array([["a", "b"]]), np.array([["a", "b"]]))


def test_one_dimensional_and_empty_input():
    with pytest.raises(ValueError, match=r"must be 2-D \(n_records, n_classes\)"):
        challenge_accuracy([1, 0, 1], [1, 0, 1])
    with pytest.raises(ValueError, match="empty"):
        challenge_accuracy(np.zeros((0, 3)), np.zeros((0, 3)))


def test_unknown_code_is_named():
    with pytest.raises(ValueError, match="123456789"):
        labels = np.zeros((2, 3))
        challenge_metric(labels, labels, classes=[CODES[0], "123456789", CODES[2]])


def test_unscored_code_of_the_other_year_is_named():
    # 6374002 (BBB) is scored in 2021 only.
    labels = np.zeros((2, 2))
    with pytest.raises(ValueError, match="6374002"):
        challenge_metric(labels, labels, classes=["6374002", "426783006"], year=2020)
    assert challenge_metric(labels, labels, classes=["6374002", "426783006"], year=2021) == 0.0


def test_column_count_versus_classes():
    with pytest.raises(ValueError, match="classes names 3 codes but the arrays have 4 columns"):
        challenge_metric(np.zeros((2, 4)), np.zeros((2, 4)), classes=CODES)
    with pytest.raises(ValueError, match="4 columns but the 2020 challenge scores 24 classes"):
        challenge_metric(np.zeros((2, 4)), np.zeros((2, 4)))


def test_normal_class_is_required():
    with pytest.raises(ValueError, match="normal class 426783006"):
        challenge_metric(np.zeros((2, 2)), np.zeros((2, 2)), classes=CODES[:2])


def test_equivalent_codes_in_two_columns():
    with pytest.raises(ValueError, match="59118001 and 713427006 are the same class"):
        labels = np.zeros((2, 3))
        challenge_metric(labels, labels, classes=["59118001", "713427006", CODES[2]])


def test_bad_year():
    with pytest.raises(ValueError, match="year"):
        challenge_metric(np.zeros((2, 24)), np.zeros((2, 24)), year=2019)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_scores(bad):
    scores = np.full((3, 2), 0.5)
    scores[0, 1] = bad
    with pytest.raises(ValueError, match="y_score contains NaN or infinity"):
        macro_auroc([[1, 0], [0, 1], [1, 1]], scores)


def test_malformed_probability_list():
    with pytest.raises(ValueError, match=r"entry 1 has shape \(3, 3\)"):
        macro_auroc(np.ones((3, 2)), [np.ones((3, 2)), np.ones((3, 3))])


def test_sparse_and_boolean_labels_are_accepted():
    labels = np.array([[1, 0, 0], [0, 1, 1]])
    assert challenge_metric(sp.csr_matrix(labels), labels.astype(bool), classes=CODES) == 1.0
