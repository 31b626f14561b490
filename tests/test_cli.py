import json

import pytest

from sklearn_ecg.cli import main

FAST = ["--n-records", "48", "--folds", "2", "--duration", "5", "--pretrain-epochs", "1",
        "--epochs", "2", "--quiet"]


def test_cv_on_synthetic_data_writes_the_report(tmp_path, capsys):
    assert main(["cv", *FAST, "-o", str(tmp_path / "report")]) == 0
    table = capsys.readouterr().out
    for metric in ("challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2"):
        assert metric in table
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert len(summary["folds"]) == 2
    assert set(summary["pooled"]) >= {"challenge", "macro_auroc"}
    per_class = (tmp_path / "report" / "per_class.csv").read_text().splitlines()
    assert len(per_class) == 1 + 12  # header + one row per synthetic class
    assert (tmp_path / "report" / "predictions.npz").is_file()


def test_missing_folder_is_one_line_error(tmp_path, capsys):
    assert main(["cv", str(tmp_path / "nowhere"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sklearn-ecg: error:") and "does not exist" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_folder_without_records_is_one_line_error(tmp_path, capsys):
    assert main(["cv", str(tmp_path), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("sklearn-ecg: error:")


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2
