import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from _cli_helpers import (
    DURATION,
    FS,
    PAPER,
    files_under,
    one_line_error,
    without_absent_class_warnings,
    write_records,
    write_wfdb,
)
from sklearn.pipeline import Pipeline

from sklearn_ecg import __version__
from sklearn_ecg.classes import scored_classes
from sklearn_ecg.cli import _model_file, _records, main
from sklearn_ecg.cli._model_file import MODEL_MARKER, load_model, read_header
from sklearn_ecg.datasets import (
    load_folders,
    load_physionet,
    make_synthetic_ecg,
    read_challenge_output,
)
from sklearn_ecg.leads import LEAD_NAMES

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TINY = ["--duration", str(DURATION), "--pretrain-epochs", "1", "--epochs", "1", "--quiet", *PAPER]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A model file fitted on 30 synthetic records, and those records' folder."""
    root = tmp_path_factory.mktemp("fit")
    train = write_records(root / "train", 30)
    model = root / "model" / "model.joblib"  # a folder fit must create
    assert main(["fit", str(train), "-o", str(model), *TINY]) == 0
    return model, train


def test_an_ensemble_model_predicts_on_the_device_asked_and_shows_its_inner_folds(tmp_path, capsys):
    train = write_records(tmp_path / "train", 24)
    model_path = tmp_path / "model.joblib"
    noisy = [arg for arg in TINY if arg != "--quiet"]
    assert main(["fit", str(train), "-o", str(model_path), *noisy, "--ensemble", "2"]) == 0
    assert "inner folds: 100%" in capsys.readouterr().err
    out = tmp_path / "outputs"
    assert main(["predict", str(model_path), str(train), "-o", str(out), "--device", "cpu", "--quiet"]) == 0
    pipeline = load_model(model_path)["pipeline"]
    assert len(pipeline[-1].estimators_) == 2
    data = load_physionet(train, fs=FS, duration=DURATION, year=None)
    expected = pipeline.predict_proba(data.X)
    for i, record in enumerate(data.records):
        np.testing.assert_allclose(read_challenge_output(out / f"{record}.csv").scores, expected[i], rtol=1e-6)


def test_model_file_holds_what_predict_needs(fitted):
    model = load_model(fitted[0])
    table = scored_classes(2020)
    assert model["format"] == _model_file.FORMAT and model["version"] == __version__
    assert model["classes"] == list(table.classes) and model["class_names"] == list(table.names)
    assert (model["fs"], model["duration"], model["year"]) == (FS, DURATION, 2020)
    assert model["settings"]["n_records"] == 30
    assert model["pipeline"][-1].classes_.tolist() == model["classes"]
    # The header reads without unpickling anything, and holds all but the pipeline.
    assert read_header(fitted[0], MODEL_MARKER, "model") == {k: v for k, v in model.items() if k != "pipeline"}


def test_predict_writes_challenge_outputs_of_the_fitted_pipeline(fitted, tmp_path, capsys):
    model_path, _ = fitted
    # New records, some with a code no table knows: predict does not need labels.
    test = write_records(tmp_path / "test", 6, seed=1)
    write_records(tmp_path / "test" / "unknown", 1, seed=2, codes="999999999")
    out = tmp_path / "outputs"
    assert main(["predict", str(model_path), str(test), "-o", str(out)]) == 0
    assert "wrote 7 output files" in capsys.readouterr().err

    data = load_physionet(test, fs=FS, duration=DURATION, year=None)
    model = load_model(model_path)
    expected_scores = model["pipeline"].predict_proba(data.X)
    expected_labels = model["pipeline"].predict(data.X)
    assert files_under(out) == sorted(f"{r}.csv" for r in data.records)  # nothing half-written beside them
    for i, record in enumerate(data.records):
        output = read_challenge_output(out / f"{record}.csv")
        assert output.record == record
        assert output.classes.tolist() == model["classes"]
        np.testing.assert_array_equal(output.labels, expected_labels[i])
        np.testing.assert_allclose(output.scores, expected_scores[i], rtol=1e-6)
        assert output.labels.sum() >= 1  # at least one class per record


def test_predict_runs_the_model_once(fitted, tmp_path, monkeypatch):
    """The labels are the probabilities at hand thresholded, not a second forward pass of ``predict``."""
    model_path, train = fitted

    def forbidden(self, X, **params):
        raise AssertionError("predict ran a second forward pass")

    monkeypatch.setattr(Pipeline, "predict", forbidden)
    assert main(["predict", str(model_path), str(train), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert len(list((tmp_path / "out").iterdir())) == 30


def test_fit_reports_progress_unless_quiet(tmp_path, capsys):
    train = write_records(tmp_path / "train", 12)
    noisy = [arg for arg in TINY if arg != "--quiet"]
    assert main(["fit", str(train), "-o", str(tmp_path / "m.joblib"), *noisy]) == 0
    captured = capsys.readouterr()
    assert "fitting on" in captured.err and "fitted in" in captured.err and captured.out == ""
    assert "train_loss" in captured.err  # the epochs of the long silence between the two
    assert "records:" not in captured.err and "headers:" not in captured.err  # a tiny load: no bar

    assert main(["fit", str(train), "-o", str(tmp_path / "m.joblib"), *TINY]) == 0
    out, err = capsys.readouterr()
    assert out == "" and without_absent_class_warnings(err) == ""


def test_a_large_load_shows_a_progress_bar(tmp_path, capsys, monkeypatch):
    train = write_records(tmp_path / "train", 6)
    monkeypatch.setattr(_records, "PROGRESS_BAR_RECORDS", 5)
    out = tmp_path / "out"
    noisy = [arg for arg in TINY if arg != "--quiet"]
    assert main(["fit", str(train), "-o", str(out / "m.joblib"), "--epochs", "1", *noisy]) == 0
    assert "records: 100%" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make_folder, message",
    [
        (lambda tmp: tmp / "nowhere", "does not exist"),
        (lambda tmp: tmp, "No challenge records"),
        (lambda tmp: write_records(tmp / "unscored", 3, codes="164951009"),
         "carries a class of the scored classes of 2020"),
    ],
)
def test_fit_on_bad_folder_is_one_line_error(tmp_path, capsys, make_folder, message):
    assert main(["fit", str(make_folder(tmp_path)), "-o", str(tmp_path / "m.joblib"), *TINY]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "m.joblib").exists()


def test_fit_into_a_folder_fails_before_training(tmp_path, capsys, no_loading):
    assert main(["fit", str(tmp_path), "-o", str(tmp_path), *TINY]) == 2
    assert "is a folder" in one_line_error(capsys)


def test_fit_into_an_unwritable_place_fails_before_loading(tmp_path, capsys, no_loading, read_only_folder):
    for model in ("/proc/m.joblib", read_only_folder / "m.joblib", read_only_folder / "new" / "m.joblib"):
        assert main(["fit", str(tmp_path), "-o", str(model), *TINY]) == 2
        assert "does not accept new files" in one_line_error(capsys)
    assert not list(read_only_folder.iterdir())


def test_interrupted_fit_leaves_no_model_file(tmp_path, capsys, monkeypatch):
    train = write_records(tmp_path / "train", 3)

    def interrupted(self, X, y=None, **params):
        raise KeyboardInterrupt

    monkeypatch.setattr(Pipeline, "fit", interrupted)
    assert main(["fit", str(train), "-o", str(tmp_path / "out" / "m.joblib"), *TINY]) == 130
    assert "was not written" in one_line_error(capsys, "sklearn-ecg: interrupted:")
    assert not (tmp_path / "out" / "m.joblib").exists()


def test_interrupted_save_keeps_the_previous_model_file_whole(fitted, tmp_path, capsys, monkeypatch):
    train = write_records(tmp_path / "train", 12)
    model = tmp_path / "m.joblib"
    model.write_bytes(fitted[0].read_bytes())

    def dump_half(value, stream, **kwargs):
        stream.write(b"\x80\x04 half a pickle")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", dump_half)
    assert main(["fit", str(train), "-o", str(model), *TINY]) == 130
    assert "was not written" in one_line_error(capsys, "sklearn-ecg: interrupted:")
    assert model.read_bytes() == fitted[0].read_bytes()
    assert files_under(tmp_path) == ["m.joblib", "train", *(f"train/{f}" for f in files_under(train))]


def _rewritten(fitted, tmp_path, *, pipeline=None, **changes):
    """The fitted model file with header entries changed, or another pickled ``pipeline``."""
    header = read_header(fitted[0], MODEL_MARKER, "model")
    payload = load_model(fitted[0])["pipeline"] if pipeline is None else pipeline
    return _model_file.write_with_header(tmp_path / "changed.joblib", MODEL_MARKER, {**header, **changes}, payload)


class _Trap:
    """Unpickling it creates a file: a model file's pickle that must never be opened."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def _write(path, content):
    path.write_bytes(content)
    return path


def _dump(path, value):
    joblib.dump(value, path)
    return path


@pytest.mark.parametrize(
    "make_model, message",
    [
        (lambda fitted, tmp: tmp / "absent.joblib", "does not exist"),
        (lambda fitted, tmp: _write(tmp / "garbage.joblib", b"not a pickle"), "not a model file"),
        (lambda fitted, tmp: _dump(tmp / "dict.joblib", {"weights": [1, 2]}), "older versions must be refitted"),
        (lambda fitted, tmp: _dump(tmp / "array.joblib", np.zeros(3)), "not a model file"),
        (lambda fitted, tmp: _write(tmp / "header.joblib", MODEL_MARKER + b"{oops\n"), "header is not JSON"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, format=99), "cannot read; upgrade"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, classes=["1", "2"]), "not distinct scored"),
        (lambda fitted, tmp: _rewritten(
            fitted, tmp, classes=list(scored_classes(2020).classes)[::-1]), "trained on other classes"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, pipeline="oops"), "trained on other classes"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, fs="fast"), "damaged"),
        (lambda fitted, tmp: _write(tmp / "cut.joblib", fitted[0].read_bytes()[:5000]), "damaged"),
    ],
)
def test_predict_with_bad_model_file_is_one_line_error(fitted, tmp_path, capsys, make_model, message):
    model = make_model(fitted, tmp_path)
    assert main(["predict", str(model), str(fitted[1]), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("changes", [{"format": 99}, {"classes": ["1", "2"]}, {"fs": "fast"}])
def test_a_refused_header_keeps_the_pickle_closed(fitted, tmp_path, capsys, changes):
    opened = tmp_path / "unpickled"
    model = _rewritten(fitted, tmp_path, pipeline=_Trap(opened), **changes)
    assert main(["predict", str(model), str(fitted[1]), "-o", str(tmp_path / "out"), "-q"]) == 2
    one_line_error(capsys)
    assert not opened.exists()


def test_model_file_format_is_json_then_pickle(fitted):
    """The header is plain text a user can inspect; the pickle follows it."""
    with open(fitted[0], "rb") as stream:
        assert stream.readline() == MODEL_MARKER
        assert json.loads(stream.readline())["format"] == _model_file.FORMAT
        assert stream.read(1) == pickle.PROTO


def test_predict_help_says_model_files_must_be_trusted(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "runs code when it is loaded" in help_text and "trusted source" in help_text


def test_model_of_another_version_predicts_with_a_warning(fitted, tmp_path, capsys):
    model = _rewritten(fitted, tmp_path, version="0.0.1")
    assert main(["predict", str(model), str(fitted[1]), "-o", str(tmp_path / "out"), "-q"]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("sklearn-ecg: warning:") and "0.0.1" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "make_folder, message",
    [(lambda tmp: tmp / "nowhere", "does not exist"), (lambda tmp: tmp, "No challenge records")],
)
def test_predict_on_bad_folder_is_one_line_error(fitted, tmp_path, capsys, make_folder, message):
    folder = make_folder(tmp_path)
    assert main(["predict", str(fitted[0]), str(folder), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert message in one_line_error(capsys)


def test_predict_into_a_file_is_one_line_error(fitted, tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["predict", str(fitted[0]), str(fitted[1]), "-o", str(tmp_path / "taken"), "-q"]) == 2
    assert "is a file" in one_line_error(capsys)


def test_predict_into_an_unwritable_place_fails_before_loading(fitted, capsys, monkeypatch, read_only_folder):
    def no_model(path):
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr("sklearn_ecg.cli._predict.load_model", no_model)
    for out in ("/proc/out", read_only_folder / "out"):
        assert main(["predict", str(fitted[0]), str(fitted[1]), "-o", str(out), "-q"]) == 2
        assert "does not accept new files" in one_line_error(capsys)


REDUCED = {"twelve": LEAD_NAMES, "six": LEAD_NAMES[:6], "two": ("i", "ii")}  # 2021's reduced sets; lower case


@pytest.fixture
def unlabelled(tmp_path):
    """Native WFDB records without a Dx line, of 12, 6 and 2 leads (the last two named in lower case)."""
    folder = tmp_path / "unlabelled"
    signals = make_synthetic_ecg(len(REDUCED), fs=FS, duration=DURATION, random_state=5).X
    for signal, (name, leads) in zip(signals, REDUCED.items()):
        write_wfdb(folder, name, signal[: len(leads)], leads=leads)
    return folder


def test_predict_reads_unlabelled_and_reduced_lead_records(fitted, unlabelled, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["predict", str(fitted[0]), str(unlabelled), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 record (six) with the leads I, II, III, aVR, aVL, aVF only" in err
    assert "1 record (two) with the leads I, II only" in err
    data = load_folders(unlabelled, labels=None, fs=FS, duration=DURATION)
    assert not data.X[data.records == "two"][:, 2:].any()  # absent leads are zeros at their place
    expected = load_model(fitted[0])["pipeline"].predict_proba(data.X)
    for i, record in enumerate(data.records):
        np.testing.assert_allclose(read_challenge_output(out / f"{record}.csv").scores, expected[i], rtol=1e-6)


def test_bad_records_stop_predict_or_are_skipped_by_name(fitted, unlabelled, tmp_path, capsys):
    (unlabelled / "six.dat").unlink()
    assert main(["predict", str(fitted[0]), str(unlabelled), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "six" in one_line_error(capsys)
    assert main(["predict", str(fitted[0]), str(unlabelled), "-o", str(tmp_path / "out"), "-q",
                 "--on-error", "skip"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("sklearn-ecg: warning: skipped record six:"), err
    assert files_under(tmp_path / "out") == ["twelve.csv", "two.csv"]


def test_all_zero_leads_are_named_by_record_in_one_line(fitted, tmp_path, capsys):
    signal = make_synthetic_ecg(1, fs=FS, duration=DURATION, random_state=0).X[0]
    signal[4:6] = 0
    write_wfdb(tmp_path / "flat", "flat", signal)
    assert main(["predict", str(fitted[0]), str(tmp_path / "flat"), "-o", str(tmp_path / "out"), "-q"]) == 0
    err = capsys.readouterr().err.splitlines()
    expected = ("sklearn-ecg: warning: record flat: 2 of its leads are all zeros; kept as they are "
                "(a model reads them as absent leads)")
    assert err == [expected]


def test_predict_with_a_cache_folder(fitted, unlabelled, tmp_path, capsys, read_only_folder):
    cache = tmp_path / "cache"
    for out in ("first", "second"):
        assert main(["predict", str(fitted[0]), str(unlabelled), "-o", str(tmp_path / out), "-q",
                     "--cache-dir", str(cache)]) == 0
    assert list(cache.iterdir())
    for record in REDUCED:
        first, second = (read_challenge_output(tmp_path / out / f"{record}.csv") for out in ("first", "second"))
        np.testing.assert_array_equal(first.scores, second.scores)
    # A cache that cannot be written: the records are read into memory, with a warning.
    assert main(["predict", str(fitted[0]), str(unlabelled), "-o", str(tmp_path / "third"), "-q",
                 "--cache-dir", str(read_only_folder)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("sklearn-ecg: warning: Cache folder") and "cannot be written" in err[0]
    assert len(list((tmp_path / "third").iterdir())) == len(REDUCED)


@pytest.mark.skipif(not (SHARED / "ludb-dev" / "ludb.csv").is_file(),
                    reason=f"LUDB development records not found at {SHARED / 'ludb-dev'}")
def test_predict_on_the_shared_ludb_folder(fitted, tmp_path):
    assert main(["predict", str(fitted[0]), str(SHARED / "ludb-dev"), "-o", str(tmp_path), "-q"]) == 0
    assert len(list(tmp_path.glob("*.csv"))) == 160
    assert read_challenge_output(tmp_path / "1.csv").classes.tolist() == load_model(fitted[0])["classes"]


def test_default_fit_blends_gated_fusion_with_minirocket_in_five_inner_models(tmp_path):
    train = write_records(tmp_path / "train", 30)
    model_path = tmp_path / "model.joblib"
    assert main(["fit", str(train), "-o", str(model_path), "--duration", str(DURATION), "--epochs", "1",
                 "--quiet"]) == 0
    model = load_model(model_path)
    tuner = model["pipeline"][-1]
    assert len(tuner.estimators_) == 5
    assert list(tuner.estimators_[0].named_estimators_) == ["fusion", "minirocket"]
    fusion = tuner.estimators_[0].named_estimators_["fusion"]
    assert list(fusion.modality_names_) == ["time", "spectrogram"] and fusion.pretraining is None
    settings = model["settings"]
    assert (settings["ensemble"], settings["blend"], settings["pretrained"]) == (5, "minirocket", None)


def test_pretraining_epochs_without_pretraining_are_refused(tmp_path, capsys):
    train = write_records(tmp_path / "train", 8)
    argv = ["fit", str(train), "-o", str(tmp_path / "m.joblib"), "--duration", str(DURATION), "--pretrain-epochs", "2"]
    assert main(argv) == 2
    assert "with --pretrained none nothing is pretrained" in one_line_error(capsys)
