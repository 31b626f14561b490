import csv
import json

import numpy as np
import pytest
from sklearn.utils import Bunch

from sklearn_ecg.cli._report_files import gate_weight_rows, write_report
from sklearn_ecg.metrics import cinc_report

CODES = np.array(["164889003", "426783006", "713427006"])
NAMES = ["AF", "NSR", "CRBBB"]


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    y_true = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    y_score = np.clip(y_true * 0.6 + rng.uniform(0, 0.4, y_true.shape), 0, 1)
    y_pred = (y_score > 0.5).astype(int)
    fold_of = np.array([0, 0, 0, 1, 1, 1])
    folds = [
        {**cinc_report(y_true[fold_of == k], y_score[fold_of == k], y_pred[fold_of == k], classes=CODES),
         "score_time": 0.1, "fit_time": 1.0}
        for k in (0, 1)
    ]
    return Bunch(
        folds=folds, pooled=cinc_report(y_true, y_score, y_pred, classes=CODES),
        per_class={"f1": np.array([1.0, 1.0, np.nan]), "n_positive": y_true.sum(axis=0)},
        y_true=y_true, y_score=y_score, y_pred=y_pred, fold_of=fold_of, classes=CODES,
    )


def test_report_without_gate_weights_says_why_and_writes_no_gate_files(result, tmp_path):
    paths = write_report(result, tmp_path, class_names=NAMES, settings={"folds": 2})
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["notes"]) == 1 and "no gate" in summary["notes"][0]
    assert not any("gate" in path.name for path in paths)
    assert not list(tmp_path.glob("gate_weights*"))
    with open(tmp_path / "per_class.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["name"] for row in rows] == NAMES and rows[2]["f1"] == ""  # NaN as an empty cell


def test_gate_weight_quartiles_are_over_the_positive_records(result, tmp_path):
    result.gate_weights = np.column_stack([np.linspace(0.1, 0.6, 6), 1 - np.linspace(0.1, 0.6, 6)])
    result.modality_names = np.array(["time", "spectrogram"])
    rows = gate_weight_rows(result, NAMES)
    time_weight = result.gate_weights[:, 0]
    for j, row in enumerate(rows):
        positives = time_weight[result.y_true[:, j] == 1]
        assert row[:3] == [CODES[j], NAMES[j], len(positives)]
        np.testing.assert_allclose(row[3:], np.percentile(positives, [25, 50, 75]))
    paths = write_report(result, tmp_path, class_names=NAMES, settings={})
    assert {"gate_weights.npz", "gate_weights.csv", "gate_weights.png"} <= {path.name for path in paths}
    assert json.loads((tmp_path / "summary.json").read_text())["notes"] == []
