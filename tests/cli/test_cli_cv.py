import json
import subprocess
import sys

import numpy as np
import pytest
from _cli_helpers import PAPER, files_under, one_line_error, without_absent_class_warnings
from sklearn.pipeline import Pipeline

from sklearn_ecg.cli import _resume, main
from sklearn_ecg.cli._model_file import read_header

FAST = ["--n-records", "40", "--folds", "2", "--duration", "5", "--pretrain-epochs", "1",
        "--epochs", "1", "--quiet", *PAPER]
SMALL = [*FAST, "--n-records", "24"]


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
    # Once the report is written, the fitted folds kept for --resume are gone, and no temporary file is left.
    assert not (report / _resume.FOLDER).exists()
    assert not [name for name in files_under(report) if name.startswith(".")]


def test_progress_goes_to_stderr_unless_quiet(tmp_path, capsys):
    quick = [arg for arg in SMALL if arg != "--quiet"]
    assert main(["cv", *quick, "-o", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "CV on synthetic dataset (24 records)" in captured.err and "folds: 100%" in captured.err
    assert "2-fold multi-label stratified split" in captured.err
    # Quiet inside the cross-validation: no epoch tables of the folds' models.
    assert "train_loss" not in captured.err + captured.out
    assert "CV on" not in captured.out and "challenge" in captured.out


def test_quiet_shows_nothing_on_stderr(tmp_path, capsys):
    assert main(["cv", *SMALL, "-o", str(tmp_path)]) == 0
    assert without_absent_class_warnings(capsys.readouterr().err) == ""


def test_cv_with_a_cross_fitted_ensemble(tmp_path):
    report = tmp_path / "report"
    assert main(["cv", *SMALL, "--ensemble", "2", "-o", str(report)]) == 0
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
    assert "does not exist" in one_line_error(capsys)


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_folder_without_records_is_one_line_error(tmp_path, capsys, command):
    assert main([command, str(tmp_path), "--quiet", "-o", str(tmp_path / "report")]) == 2
    assert "No challenge records" in one_line_error(capsys)
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_report_path_that_is_a_file_fails_before_any_work(tmp_path, capsys, no_loading, command):
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main([command, *FAST, "-o", str(taken)]) == 2
    assert "is a file" in one_line_error(capsys)


@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_unwritable_report_folder_fails_before_any_work(tmp_path, capsys, no_loading, read_only_folder, command):
    for report in ("/proc/report", read_only_folder / "report"):
        assert main([command, *FAST, "-o", str(report)]) == 2
        assert "does not accept new files" in one_line_error(capsys)
    assert not list(read_only_folder.iterdir())


def test_a_failed_cv_leaves_no_report_folder(tmp_path, capsys):
    report = tmp_path / "deep" / "report"
    # Options that parse, but fail once the first fold is fitted.
    assert main(["cv", *SMALL, "--device", "no-such-device", "-o", str(report)]) == 2
    assert "no-such-device" in one_line_error(capsys)
    assert not report.exists()


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    "options, named",
    [
        (["--folds", "1"], "--folds"),
        (["--duration", "-1"], "--duration"),
        (["--epochs", "x"], "--epochs"),
        (["--epochs", "0"], "--epochs"),
        (["--pretrain-epochs", "0"], "--pretrain-epochs"),
        (["--n-records", "0"], "--n-records"),
        (["--ensemble", "0"], "--ensemble"),
        (["--blend", "rocket"], "--blend"),
        (["--ensemble", "1", "--blend", "minirocket"], "--blend"),  # a blend's thresholds need an ensemble
        (["--fs", "1"], "--fs"),
        (["--fs", "5000"], "--fs"),
        (["--duration", "0.05"], "--duration"),
        (["--duration", "2"], "--duration"),  # shorter than the default window
        (["--duration", "inf"], "--duration"),
        (["--window", "nan"], "--window"),
        (["--window", "30"], "--window"),  # longer than the default duration
        (["--window", "0.2", "--duration", "1"], "--window"),
        (["--n-jobs", "0"], "--n-jobs"),
        (["--seed", "-1"], "--seed"),
        (["--n-records", "10", "--folds", "10"], "--n-records"),
        (["--n-records", "24", "--folds", "2", "--ensemble", "12"], "--ensemble"),
    ],
)
@pytest.mark.parametrize("command", ["cv", "ablation"])
def test_nonsensical_option_is_a_usage_error_before_any_work(command, options, named, capsys, no_loading):
    with pytest.raises(SystemExit) as exit_info:
        main([command, *options])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:") and f"argument {named}:" in err


def test_module_entry_point_reports_bad_input_without_traceback(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "sklearn_ecg", "cv", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert process.returncode == 2
    assert process.stderr.startswith("sklearn-ecg: error:") and "Traceback" not in process.stderr


def _fits_counted(monkeypatch, *, interrupt_at=None):
    """Count the default pipelines fitted; raise KeyboardInterrupt instead of the ``interrupt_at``-th fit."""
    fits = []
    fit = Pipeline.fit

    def counted(self, X, y=None, **params):
        if self.steps[-1][0] == "classifier":  # not a branch's pipeline inside the classifier
            fits.append(len(X))
            if len(fits) == interrupt_at:
                raise KeyboardInterrupt
        return fit(self, X, y, **params)

    monkeypatch.setattr(Pipeline, "fit", counted)
    return fits


def test_interrupted_cv_keeps_its_finished_folds_and_resume_finishes_them(tmp_path, capsys, monkeypatch):
    report = tmp_path / "report"
    options = ["cv", *SMALL, "--folds", "3", "-o", str(report)]
    with monkeypatch.context() as patch:
        _fits_counted(patch, interrupt_at=3)
        assert main(options) == 130
    err = one_line_error(capsys, "sklearn-ecg: interrupted:")
    assert "2 of 3 folds kept" in err and "--resume" in err
    kept = sorted((report / _resume.FOLDER).glob("fold-*.model"))
    assert len(kept) == 2 and not (report / "summary.json").exists()
    fit_times = sorted(read_header(path, _resume.FOLD_MARKER, "fold")["fit_time"] for path in kept)

    # Without --resume, the kept folds are not overwritten.
    assert main(options) == 2
    assert "add --resume" in one_line_error(capsys)

    with monkeypatch.context() as patch:
        fits = _fits_counted(patch)
        assert main([*options, "--resume"]) == 0
    assert len(fits) == 1  # only the fold that was not finished
    resumed = json.loads((report / "summary.json").read_text())
    assert set(fit_times) <= {fold["fit_time"] for fold in resumed["folds"]}  # the kept folds' own times
    assert not (report / _resume.FOLDER).exists()

    # The same figures as a run that was never interrupted.
    assert main(["cv", *SMALL, "--folds", "3", "-o", str(tmp_path / "whole")]) == 0
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert resumed["pooled"] == pytest.approx(whole["pooled"], nan_ok=True)


def test_interrupted_before_any_fold_keeps_nothing(tmp_path, capsys, monkeypatch):
    report = tmp_path / "report"
    _fits_counted(monkeypatch, interrupt_at=1)
    assert main(["cv", *SMALL, "-o", str(report)]) == 130
    assert "nothing kept" in one_line_error(capsys, "sklearn-ecg: interrupted:")
    assert not report.exists()


def test_resume_needs_the_same_options_and_a_run_to_resume(tmp_path, capsys, monkeypatch):
    report = tmp_path / "report"
    assert main(["cv", *SMALL, "--resume", "-o", str(report)]) == 2
    assert "no interrupted run" in one_line_error(capsys)
    with monkeypatch.context() as patch:
        _fits_counted(patch, interrupt_at=2)
        assert main(["cv", *SMALL, "-o", str(report)]) == 130
    capsys.readouterr()
    assert main(["cv", *SMALL, "--seed", "1", "--resume", "-o", str(report)]) == 2
    err = one_line_error(capsys)
    assert "--resume" in err and "--seed 1 here, 0 there" in err
    # Options that do not change the results may differ.
    assert main(["cv", *SMALL, "--n-jobs", "1", "--resume", "-o", str(report)]) == 0
