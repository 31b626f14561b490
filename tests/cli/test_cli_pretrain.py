import csv
import functools
import hashlib
import json
import re

import numpy as np
import pytest
import wfdb
from _cli_helpers import DURATION, FS, files_under, one_line_error, write_records
from sklearn.frozen import FrozenEstimator

from sklearn_ecg.cli import _pretrain, main
from sklearn_ecg.cli._model_file import load_model
from sklearn_ecg.pretraining import SelfKDPretrainer, load_encoders, read_encoders_header

PRETRAIN = ["--duration", str(DURATION), "--epochs", "1", "--quiet"]
# One fused model from the encoders (the default pipeline's blend and ensemble have tests of their own).
FINE_TUNE = ["--duration", str(DURATION), "--epochs", "1", "--quiet", "--ensemble", "1", "--blend", "none"]


def _write_native_records(folder, n_records, *, fs, leads):
    """WFDB records (.hea + .dat) at another rate and with fewer leads than the challenge's."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n_records):
        counts = rng.integers(-500, 500, size=(DURATION * fs, len(leads)))
        wfdb.wrsamp(f"N{i}", fs=fs, units=["mV"] * len(leads), sig_name=list(leads), d_signal=counts,
                    fmt=["16"] * len(leads), adc_gain=[200.0] * len(leads), baseline=[0] * len(leads),
                    write_dir=str(folder))
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """An unlabelled pool in two layouts and rates, and labelled challenge records for fine-tuning."""
    root = tmp_path_factory.mktemp("pretrain")
    challenge = write_records(root / "challenge", 12, seed=3)
    native = _write_native_records(root / "native", 6, fs=500, leads=["I", "II", "V2"])
    labelled = write_records(root / "labelled", 24, seed=4)
    return challenge, native, labelled


@pytest.fixture(scope="module")
def encoders_file(folders, tmp_path_factory):
    path = tmp_path_factory.mktemp("encoders") / "encoders.joblib"
    assert main(["pretrain", str(folders[0]), str(folders[1]), "-o", str(path), *PRETRAIN]) == 0
    return path


@pytest.fixture(scope="module")
def contrastive_file(folders, tmp_path_factory):
    path = tmp_path_factory.mktemp("contrastive") / "contrastive.joblib"
    assert main(["pretrain", str(folders[0]), "-o", str(path), "--method", "contrastive", *PRETRAIN]) == 0
    return path


@pytest.fixture
def no_pool_loading(monkeypatch):
    @functools.wraps(_pretrain.load_folders)  # its signature gives the --duration default
    def load(*args, **kwargs):
        raise AssertionError("records were loaded before the bad option or output was reported")

    monkeypatch.setattr(_pretrain, "load_folders", load)


def test_pretrain_pools_folders_of_any_layout_and_rate(encoders_file, folders):
    header = read_encoders_header(encoders_file)
    assert (header["method"], header["size"], header["fs"], header["window"]) == ("selfkd", "tiny", FS, 2.5)
    assert header["modalities"] == ["time", "spectrogram"] and len(header["leads"]) == 12
    assert header["n_records"] == 18 and header["sources"] == [str(folder) for folder in folders[:2]]
    assert header["epochs"] == {"time": 1, "spectrogram": 1}
    encoders = load_encoders(encoders_file)
    assert encoders.header == {key: value for key, value in header.items() if key != "format"}
    assert files_under(encoders_file.parent) == ["encoders.joblib"]  # nothing half-written beside it


def test_pretrain_shows_progress_unless_quiet(folders, tmp_path, capsys):
    quiet = [arg for arg in PRETRAIN if arg != "--quiet"]
    assert main(["pretrain", str(folders[0]), "-o", str(tmp_path / "e.joblib"), *quiet]) == 0
    captured = capsys.readouterr()
    assert "pretraining selfkd encoders (tiny) on 12 records" in captured.err and "train_loss" in captured.err
    assert captured.out == ""  # epoch tables go to stderr: stdout is for results


def test_resume_continues_the_training_kept_in_the_file(encoders_file, folders, tmp_path):
    path = tmp_path / "continued.joblib"
    path.write_bytes(encoders_file.read_bytes())
    assert main(["pretrain", str(folders[0]), "-o", str(path), "--resume", "--epochs", "2", "--quiet",
                 "--duration", str(DURATION)]) == 0
    header = read_encoders_header(path)
    assert header["epochs"] == {"time": 3, "spectrogram": 3}
    assert [run["n_records"] for run in header["runs"]] == [18, 12]
    assert header["sources"] == [str(folders[0])]


@pytest.mark.parametrize(("options", "message"), [
    (["--size", "small"], "--resume: the options differ .*--size small here, tiny in the file"),
    (["--fs", "200"], "--fs 200 here, 100 in the file"),
])
def test_resume_refuses_other_settings_before_loading(encoders_file, folders, no_pool_loading, capsys, options,
                                                     message):
    argv = ["pretrain", str(folders[0]), "-o", str(encoders_file), "--resume", *options, *PRETRAIN]
    assert main(argv) == 2
    err = one_line_error(capsys)
    assert re.search(message, err), err


def test_resume_needs_a_file_and_a_method_that_continues(contrastive_file, folders, no_pool_loading, tmp_path,
                                                        capsys):
    assert main(["pretrain", str(folders[0]), "-o", str(tmp_path / "none.joblib"), "--resume", *PRETRAIN]) == 2
    assert "does not exist; run without --resume first" in one_line_error(capsys)
    assert main(["pretrain", str(folders[0]), "-o", str(contrastive_file), "--resume", *PRETRAIN]) == 2
    assert "cannot be pretrained further: ContrastivePretrainer has no warm start" in one_line_error(capsys)


def test_bad_output_or_folder_fails_before_loading(folders, read_only_folder, no_pool_loading, tmp_path, capsys):
    assert main(["pretrain", str(folders[0]), "-o", str(read_only_folder / "e.joblib"), *PRETRAIN]) == 2
    assert "cannot write encoders file" in one_line_error(capsys)
    assert main(["pretrain", str(tmp_path / "missing"), "-o", str(tmp_path / "e.joblib"), *PRETRAIN]) == 2
    assert "does not exist or is not a folder" in one_line_error(capsys)


def test_window_longer_than_the_records_is_a_usage_error(folders, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", str(folders[0]), "-o", str(tmp_path / "e.joblib"), "--window", "8", *PRETRAIN])
    assert exit_info.value.code == 2
    assert "argument --window: 8 s is longer than the records" in capsys.readouterr().err


def test_contrastive_method_pretrains_the_time_branch(contrastive_file):
    header = read_encoders_header(contrastive_file)
    assert (header["method"], header["modalities"]) == ("contrastive", ["time"])
    assert header["epochs"] == {"time": 1}


def test_fit_starts_from_the_encoders_and_records_them(encoders_file, folders, tmp_path, monkeypatch):
    monkeypatch.setattr(SelfKDPretrainer, "fit", _no_pretraining)
    model_path = tmp_path / "model.joblib"
    assert main(["fit", str(folders[2]), "-o", str(model_path), "--pretrained", str(encoders_file), *FINE_TUNE]) == 0
    model = load_model(model_path)
    record = model["settings"]["pretrained"]
    assert record["path"] == str(encoders_file.resolve())
    assert record["sha256"] == hashlib.sha256(encoders_file.read_bytes()).hexdigest()
    assert record["header"] == read_encoders_header(encoders_file)
    classifier = model["pipeline"][-1]
    assert classifier.pretraining == "prefit"
    assert all(isinstance(branch, FrozenEstimator) for _, branch in classifier.branches)
    assert model["pipeline"].predict_proba(np.zeros((2, 12, FS * DURATION), np.float32)).shape[0] == 2


def test_cv_fine_tunes_from_the_encoders_in_every_fold(encoders_file, folders, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(SelfKDPretrainer, "fit", _no_pretraining)
    report = tmp_path / "report"
    argv = ["cv", str(folders[2]), "--folds", "2", "--pretrained", str(encoders_file), "-o", str(report), *FINE_TUNE]
    assert main(argv) == 0
    assert "macro_auroc" in capsys.readouterr().out
    settings = json.loads((report / "summary.json").read_text())["settings"]
    assert settings["pretrained"]["sha256"] == hashlib.sha256(encoders_file.read_bytes()).hexdigest()


def test_ablation_with_time_only_encoders_keeps_the_rows_it_can_fill(contrastive_file, folders, tmp_path):
    report = tmp_path / "ablation"
    argv = ["ablation", str(folders[2]), "--folds", "2", "--pretrained", str(contrastive_file), "-o", str(report),
            *FINE_TUNE]
    assert main(argv) == 0
    with open(report / "ablation.csv", newline="") as stream:
        rows = [(row["model"], row["pretraining"]) for row in csv.DictReader(stream)]
    assert rows == [("time only", "pretrained"), ("time only", "none")]
    settings = json.loads((report / "ablation.json").read_text())["settings"]
    assert settings["pretrained"]["header"]["method"] == "contrastive"


@pytest.mark.parametrize(("options", "message"), [
    (["--fs", "200"], "pretrained on signals at 100 Hz, not 200 Hz"),
    (["--window", "3"], "their window is 2.5 s, not 3 s"),
    (["--size", "small"], "--size small, but the --pretrained encoders are tiny"),
    (["--pretrain-epochs", "2"], "--pretrain-epochs: with --pretrained the encoders are not pretrained again"),
])
def test_pretrained_encoders_that_do_not_fit_fail_before_loading(encoders_file, folders, tmp_path, no_loading,
                                                                 capsys, options, message):
    argv = ["fit", str(folders[2]), "-o", str(tmp_path / "m.joblib"), "--pretrained", str(encoders_file),
            *FINE_TUNE, *options]
    assert main(argv) == 2
    assert message in one_line_error(capsys)


def test_a_file_that_is_not_an_encoders_file_is_refused(folders, tmp_path, no_loading, capsys):
    foreign = tmp_path / "model.joblib"
    foreign.write_bytes(b"sklearn-ecg model\n{}\n")
    argv = ["cv", str(folders[2]), "--pretrained", str(foreign), "-o", str(tmp_path / "r"), *FINE_TUNE]
    assert main(argv) == 2
    assert "is not an encoders file" in one_line_error(capsys)


def _no_pretraining(self, X, y=None):
    raise AssertionError("a branch was pretrained again")
