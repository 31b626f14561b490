"""The data folders of the commands: PTB-XL and LUDB layouts, 2021 classes, and how loading is reported."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from _cli_helpers import (
    DURATION,
    FS,
    LUDB_RHYTHMS,
    PAPER,
    files_under,
    one_line_error,
    write_ludb,
    write_ptbxl,
    write_records,
)

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.cli import _model_file, main
from sklearn_ecg.cli._model_file import MODEL_MARKER, load_model, read_header
from sklearn_ecg.datasets import load_folders, read_challenge_output

TINY = ["--duration", str(DURATION), "--pretrain-epochs", "1", "--epochs", "1", *PAPER]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def ptbxl(tmp_path_factory):
    """A PTB-XL folder of 18 records in 3 folds; record 18 has no superdiagnostic statement."""
    root = tmp_path_factory.mktemp("ptbxl") / "ptbxl"
    folds = write_ptbxl(root, 18, n_folds=3, rhythm_only=(18,))
    return root, folds


def test_cv_on_ptbxl_uses_its_folds_and_no_challenge_metric(ptbxl, tmp_path, capsys):
    root, folds = ptbxl
    report = tmp_path / "report"
    assert main(["cv", str(root), *TINY, "-o", str(report)]) == 0
    captured = capsys.readouterr()
    assert "left out 1 record (00018_lr) without a class of PTB-XL's superdiagnostic classes" in captured.err
    assert "strat_fold 1 | 2 | 3" in captured.err and "PredefinedSplit" in captured.out
    table = captured.out.split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in table[1:]] == [
        "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2"]
    assert "are not SNOMED-CT codes" in captured.out and "tuned on macro_f1" in captured.out

    summary = json.loads((report / "summary.json").read_text())
    assert "challenge" not in summary["pooled"] and all("challenge" not in fold for fold in summary["folds"])
    assert any("not SNOMED-CT codes" in note and "Strodthoff" in note for note in summary["notes"])
    data = summary["settings"]["data"]
    assert (data["layout"], data["labels"], data["year"], data["threshold_metric"], data["n_records"]) == (
        "ptbxl", "superdiagnostic", None, "macro_f1", 17)
    predictions = np.load(report / "predictions.npz")
    assert predictions["classes"].tolist() == ["MI", "NORM", "STTC"]
    # Each record is tested in its own strat_fold (record 18, without a class, is left out).
    np.testing.assert_array_equal(predictions["fold_of"], [folds[ecg_id] - 1 for ecg_id in range(1, 18)])
    assert (report / "per_class.csv").read_text().splitlines()[1].startswith("MI,MI,")


def test_ablation_on_ptbxl_reports_the_defined_metrics(ptbxl, tmp_path, capsys):
    root, _ = ptbxl
    assert main(["ablation", str(root), *TINY, "--folds", "2", "--tables", "leads", "-q",
                 "-o", str(tmp_path)]) == 0
    assert "not SNOMED-CT codes" in capsys.readouterr().out
    with open(tmp_path / "lead_sets.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["lead masking", "leads", "macro_auroc", "macro_auprc", "accuracy", "macro_f1",
                             "f2", "g2", "macro_auroc_fold_std"]
    report = json.loads((tmp_path / "ablation.json").read_text())
    assert "1-2 | 3" in report["settings"]["data"]["split"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--year", "2021"], "--year 2021: "),
        (["--folds", "4"], "--folds 4: the data has 3 folds of its own"),
        (["--labels", "nonsense"], "PTB-XL labels must be one of"),
        (["--layout", "ludb"], "ludb.csv"),
        (["--layout", "physionet"], "has no Dx line"),
    ],
)
def test_options_that_do_not_fit_the_folder_are_one_line_errors(ptbxl, tmp_path, capsys, options, message):
    assert main(["cv", str(ptbxl[0]), *TINY, *options, "-q", "-o", str(tmp_path / "report")]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "report").exists()


def test_labels_of_a_challenge_folder_are_chosen_by_year(tmp_path, capsys, no_loading):
    records = write_records(tmp_path / "records", 2)
    assert main(["fit", str(records), "--labels", "rhythm", "-o", str(tmp_path / "m.joblib")]) == 2
    err = one_line_error(capsys)
    assert "--labels rhythm" in err and "choose them with --year" in err


@pytest.mark.parametrize(
    "options, named",
    [(["--cache-dir", "cache"], "--cache-dir"), (["--layout", "ptbxl"], "--layout"),
     (["--on-error", "skip"], "--on-error")],
)
def test_loading_options_without_a_data_folder_are_usage_errors(options, named, capsys, no_loading):
    with pytest.raises(SystemExit) as exit_info:
        main(["cv", *options])
    assert exit_info.value.code == 2 and f"argument {named}:" in capsys.readouterr().err


def test_synthetic_size_with_a_data_folder_is_a_usage_error(tmp_path, capsys, no_loading):
    with pytest.raises(SystemExit):
        main(["cv", str(tmp_path), "--n-records", "10"])
    assert "argument --n-records:" in capsys.readouterr().err


def test_a_ludb_model_records_its_task_and_predicts_a_table(tmp_path, capsys):
    root = write_ludb(tmp_path / "ludb", 12)
    model_path = tmp_path / "ludb.joblib"
    assert main(["fit", str(root), *TINY, "-q", "-o", str(model_path)]) == 0
    model = load_model(model_path)
    assert (model["layout"], model["labels"], model["year"]) == ("ludb", "rhythm", None)
    assert model["classes"] == sorted(LUDB_RHYTHMS)

    out = tmp_path / "out"
    assert main(["predict", str(model_path), str(root), "-o", str(out), "-q"]) == 0
    assert files_under(out) == ["predictions.csv"]
    with open(out / "predictions.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    classes = model["classes"]
    assert rows[0] == ["record", *classes, *(f"{name} score" for name in classes)]
    data = load_folders(root, labels=None, fs=FS, duration=DURATION)
    scores = model["pipeline"].predict_proba(data.X)
    assert [row[0] for row in rows[1:]] == data.records.tolist()
    written = np.array([[float(value) for value in row[1 + len(classes):]] for row in rows[1:]])
    np.testing.assert_allclose(written, scores, rtol=1e-6)
    labels = np.array([[int(value) for value in row[1:1 + len(classes)]] for row in rows[1:]])
    assert set(np.unique(labels)) <= {0, 1} and labels.sum(axis=1).min() >= 1


def test_a_model_of_2021_classes_predicts_2021_outputs(tmp_path):
    records = write_records(tmp_path / "records", 16)
    model_path = tmp_path / "m.joblib"
    assert main(["fit", str(records), "--year", "2021", *TINY, "-q", "-o", str(model_path)]) == 0
    header = read_header(model_path, MODEL_MARKER, "model")
    table = scored_classes(2021)
    assert (header["year"], header["labels"], header["layout"]) == (2021, 2021, "physionet")
    assert header["classes"] == list(table.classes) and header["class_names"] == list(table.names)
    out = tmp_path / "out"
    assert main(["predict", str(model_path), str(records), "-o", str(out), "-q"]) == 0
    output = read_challenge_output(out / "S00000.csv")
    assert output.classes.tolist() == list(table.classes)


def test_a_model_file_of_format_2_reads_as_challenge_records(tmp_path):
    records = write_records(tmp_path / "records", 8)
    model_path = tmp_path / "m.joblib"
    assert main(["fit", str(records), *TINY, "-q", "-o", str(model_path)]) == 0
    header = read_header(model_path, MODEL_MARKER, "model")
    old = {key: value for key, value in header.items() if key not in ("layout", "labels")}
    pipeline = load_model(model_path)["pipeline"]
    path = _model_file.write_with_header(tmp_path / "old.joblib", MODEL_MARKER, {**old, "format": 2}, pipeline)
    model = load_model(path)
    assert (model["layout"], model["labels"], model["year"]) == ("physionet", 2020, 2020)
    bad = _model_file.write_with_header(
        tmp_path / "bad.joblib", MODEL_MARKER, {**header, "year": None, "classes": ["a", "a"]}, pipeline)
    with pytest.raises(ValueError, match="not distinct class names"):
        load_model(bad)


@pytest.mark.skipif(not (SHARED / "ptbxl-dev" / "ptbxl_database.csv").is_file(),
                    reason=f"PTB-XL development records not found at {SHARED / 'ptbxl-dev'}")
def test_cv_on_the_shared_ptbxl_folder(tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["cv", str(SHARED / "ptbxl-dev"), "--folds", "3", "--pretrain-epochs", "1", "--epochs", "1", *PAPER,
                 "-q", "-o", str(report)]) == 0
    assert "strat_fold 1-3 | 4-6 | 7-9" in capsys.readouterr().out
    summary = json.loads((report / "summary.json").read_text())
    assert summary["settings"]["data"]["n_records"] == 415  # 425 less the 10 without a superdiagnostic class
    assert 0.5 < summary["pooled"]["macro_auroc"] <= 1 and "challenge" not in summary["pooled"]
