import numpy as np
import pytest

from sklearn_ecg.metrics import challenge_metric, merge_equivalent_classes


def test_labels_merge_by_any_and_scores_by_mean():
    codes = ["164889003", "59118001", "713427006", "426783006"]  # AF, RBBB, CRBBB, SNR
    labels = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 1, 0]])
    merged, merged_codes = merge_equivalent_classes(labels, codes)
    assert merged_codes.tolist() == ["164889003", "713427006", "426783006"]
    np.testing.assert_array_equal(merged, [[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])

    scores = np.array([[0.2, 0.4, 0.8, 0.1]])
    merged, _ = merge_equivalent_classes(scores, codes, kind="scores")
    np.testing.assert_allclose(merged, [[0.2, 0.6, 0.1]])


def test_representative_names_a_lone_equivalent_code():
    merged, codes = merge_equivalent_classes([[1, 0]], ["63593006", "164889003"])
    assert codes.tolist() == ["284470004", "164889003"]  # SVPB is scored as PAC
    np.testing.assert_array_equal(merged, [[True, False]])


def test_unscored_codes_pass_through():
    merged, codes = merge_equivalent_classes([[0.3, 0.9]], ["999999", "17338001"], kind="scores")
    assert codes.tolist() == ["999999", "427172004"]
    np.testing.assert_allclose(merged, [[0.3, 0.9]])


def test_year_2021_merges_clbbb_and_lbbb():
    labels = [[1, 0], [0, 1]]
    lbbb = ["733534002", "164909002"]
    merged_2021, codes_2021 = merge_equivalent_classes(labels, lbbb, year=2021)
    assert codes_2021.tolist() == ["733534002"]
    np.testing.assert_array_equal(merged_2021, [[True], [True]])
    _, codes_2020 = merge_equivalent_classes(labels, lbbb, year=2020)
    assert len(codes_2020) == 2


def test_merged_output_feeds_the_challenge_metric():
    codes = ["59118001", "713427006", "426783006"]
    labels = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    merged, merged_codes = merge_equivalent_classes(labels, codes)
    assert challenge_metric(merged, merged, classes=merged_codes) == 1.0


@pytest.mark.parametrize(
    "y, codes, kind, match",
    [
        ([[1, 0]], ["164889003"], "labels", "1 codes but y has 2 columns"),
        ([[1, 0]], ["164889003", "164889003"], "labels", "must not repeat"),
        ([[1, 2]], ["164889003", "426783006"], "labels", "binary"),
        ([[0.1, np.nan]], ["164889003", "426783006"], "scores", "NaN"),
        ([[1, 0]], ["164889003", "426783006"], "votes", "kind must be"),
    ],
)
def test_bad_input(y, codes, kind, match):
    with pytest.raises(ValueError, match=match):
        merge_equivalent_classes(y, codes, kind=kind)
