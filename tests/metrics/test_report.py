import json

import numpy as np
import pytest

from sklearn_ecg.metrics import (
    challenge_accuracy,
    challenge_metric,
    cinc_report,
    f_beta_measure,
    g_beta_measure,
    macro_auprc,
    macro_auroc,
    macro_f_measure,
    per_class_report,
)

OFFICIAL_NAMES = {
    "challenge": "challenge_metric",
    "macro_auroc": "auroc",
    "macro_auprc": "auprc",
    "accuracy": "accuracy",
    "macro_f1": "f_measure",
    "f2": "f_beta_2",
    "g2": "g_beta_2",
}


def test_golden_cases_all_seven(reference_dir):
    with open(reference_dir / "cinc" / "metric_cases_2020.json") as f:
        golden = json.load(f)
    for case in golden["cases"]:
        report = cinc_report(
            case["labels"],
            case["scalar_outputs"],
            case["binary_outputs"],
            classes=golden["classes"],
        )
        assert set(report) == set(OFFICIAL_NAMES)
        for name, official in OFFICIAL_NAMES.items():
            assert report[name] == pytest.approx(case["expected"][official], abs=1e-9), name


def test_report_equals_the_single_metrics():
    rng = np.random.default_rng(0)
    labels = rng.random((40, 24)) < 0.15
    scores = rng.random((40, 24))
    outputs = scores > 0.7
    report = cinc_report(labels, scores, outputs)
    assert report == {
        "challenge": challenge_metric(labels, outputs),
        "macro_auroc": macro_auroc(labels, scores),
        "macro_auprc": macro_auprc(labels, scores),
        "accuracy": challenge_accuracy(labels, outputs),
        "macro_f1": macro_f_measure(labels, outputs),
        "f2": f_beta_measure(labels, outputs),
        "g2": g_beta_measure(labels, outputs),
    }
    assert all(type(value) is float for value in report.values())


def test_without_a_year_the_challenge_metric_is_left_out_and_any_class_names_do():
    rng = np.random.default_rng(1)
    labels = rng.random((40, 5)) < 0.3
    scores = rng.random((40, 5))
    outputs = scores > 0.6
    report = cinc_report(labels, scores, outputs, classes=["CD", "HYP", "MI", "NORM", "STTC"], year=None)
    assert "challenge" not in report
    assert report["macro_auroc"] == macro_auroc(labels, scores)
    assert report["macro_f1"] == macro_f_measure(labels, outputs)
    with pytest.raises(ValueError, match="not scored"):
        cinc_report(labels, scores, outputs, classes=["CD", "HYP", "MI", "NORM", "STTC"])


def test_report_checks_every_shape():
    labels = np.zeros((3, 24), dtype=int)
    with pytest.raises(ValueError, match="y_score has shape"):
        cinc_report(labels, np.zeros((3, 23)), labels)
    with pytest.raises(ValueError, match="y_pred has shape"):
        cinc_report(labels, np.zeros((3, 24)), labels[:2])


def test_per_class_report_matches_the_single_class_figures():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(40, 4))
    y_true[:, 3] = 0  # a class without positive record
    y_score = rng.random((40, 4))
    y_pred = (y_score > 0.5).astype(int)
    report = per_class_report(y_true, y_score, y_pred)
    np.testing.assert_array_equal(report["n_positive"], y_true.sum(axis=0))
    for k in range(3):
        column = slice(k, k + 1)
        assert report["auroc"][k] == pytest.approx(macro_auroc(y_true[:, column], y_score[:, column]))
        assert report["auprc"][k] == pytest.approx(macro_auprc(y_true[:, column], y_score[:, column]))
        tp = np.sum((y_pred[:, k] == 1) & (y_true[:, k] == 1))
        wrong = np.sum(y_pred[:, k] != y_true[:, k])
        assert report["f1"][k] == pytest.approx(2 * tp / (2 * tp + wrong))
    assert np.isnan(report["auroc"][3]) and report["f1"][3] == 0.0
