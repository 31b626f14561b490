import json
import subprocess
import sys

import numpy as np
import pytest

from sklearn_ecg.cli import main

FAST = ["--n-records", "40", "--folds", "2", "--duration", "5", "--pretrain-epochs", "1",
        "--epochs", "1", "--quiet"]


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("sklearn-ecg: error:"), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_cv_on_synthetic_data_writes_the_report(tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["cv", *FAST, "-o", str(report)]) == 0
    table = capsys.readouterr().out
    for metric in ("challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2"):
        assert metric in table
    summary = json.loads((report / "summary.json").read_text())
    assert len(summary["folds"]) == 2 and summary["notes"] == []
    assert set(summary["pooled"]) >= {"challenge", "macro_auroc"}
    assert summary["settings"]["folds"] == 2
    folds = (report / "folds.csv").read_text().splitlines()
    assert folds[0].startswith("fold,challenge") and len(folds) == 1 + 2
    per_class = (report / "per_class.csv").read_text().splitlines()
    assert len(per_class) == 1 + 12  # header + one row per synthetic class
    predictions = np.load(report / "predictions.npz")
    gates = np.load(report / "gate_weights.npz", allow_pickle=False)
    assert gates["gate_weights"].shape == (40, 2)
    np.testing.assert_allclose(gates["gate_weights"].sum(axis=1), 1, rtol=1e-5)
    assert gates["modality_names"].tolist() == ["time", "spectrogram"]
    np.testing.assert_array_equal(gates["y_true"], predictions["y_true"])
    rows = (report / "gate_weights.csv").read_text().splitlines()
    assert rows[0] == "code,name,n_positive,time_q25,time_median,time_q75" and len(rows) == 1 + 12
    for plot in ("roc_pr_curves.png", "f1_per_class.png", "gate_weights.png"):
        assert (report / plot).stat().st_size > 1000


def test_progress_goes_to_stderr_unless_quiet(tmp_path, capsys):
    quick = [arg for arg in FAST if arg != "--quiet"]
    assert main(["cv", *quick, "--n-records", "24", "-o", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "2-fold CV on synthetic dataset (24 records)" in captured.err
    assert "2-fold CV" not in captured.out and "challenge" in captured.out


def test_cv_with_a_cross_fitted_ensemble(tmp_path):
    report = tmp_path / "report"
    assert main(["cv", *FAST, "--n-records", "24", "--ensemble", "2", "-o", str(report)]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["settings"]["ensemble"] == 2
    assert np.isfinite(summary["pooled"]["macro_auroc"])
    # Gate weights are the mean of the inner models' gates: still one weight per modality, summing to 1.
    gates = np.load(report / "gate_weights.npz", allow_pickle=False)
    assert gates["gate_weights"].shape == (24, 2)
    np.testing.assert_allclose(gates["gate_weights"].sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_missing_folder_is_one_line_error(tmp_path, capsys, command):
    assert main([command, str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert "does not exist" in _one_line_error(capsys)


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_folder_without_records_is_one_line_error(tmp_path, capsys, command):
    assert main([command, str(tmp_path), "--quiet"]) == 2
    assert "No challenge records" in _one_line_error(capsys)


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_report_path_that_is_a_file_fails_before_any_fit(tmp_path, capsys, command):
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main([command, *FAST, "-o", str(taken)]) == 2
    assert "File exists" in _one_line_error(capsys)


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    "option",
    [["--folds", "1"], ["--duration", "-1"], ["--epochs", "x"], ["--n-records", "0"], ["--ensemble", "1"]],
)
def test_bad_option_value_exits_with_usage(option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["cv", *option])
    assert exit_info.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_module_entry_point_reports_bad_input_without_traceback(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "sklearn_ecg", "cv", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=120,
    )
    assert process.returncode == 2
    assert process.stderr.startswith("sklearn-ecg: error:") and "Traceback" not in process.stderr
