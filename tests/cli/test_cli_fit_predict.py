import joblib
import numpy as np
import pytest
import scipy.io

from sklearn_ecg import __version__
from sklearn_ecg.classes import scored_classes
from sklearn_ecg.cli import main
from sklearn_ecg.datasets import load_physionet, make_synthetic_ecg, read_challenge_output
from sklearn_ecg.leads import LEAD_NAMES

FS, DURATION = 100, 5
TINY = ["--duration", str(DURATION), "--pretrain-epochs", "1", "--epochs", "1", "--quiet"]


def write_records(folder, n_records, *, seed=0, codes=None):
    """Synthetic ECGs as challenge records: NAME.hea + NAME.mat, 1000 counts per mV."""
    folder.mkdir(parents=True, exist_ok=True)
    data = make_synthetic_ecg(n_records, fs=FS, duration=DURATION, random_state=seed)
    n_samples = data.X.shape[-1]
    for i, (signal, labels) in enumerate(zip(data.X, data.y)):
        name = f"S{seed}{i:04d}"
        dx = codes if codes is not None else ",".join(data.classes[labels == 1])
        lines = [f"{name} 12 {FS} {n_samples}"]
        lines += [f"{name}.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in LEAD_NAMES]
        (folder / f"{name}.hea").write_text("\n".join([*lines, f"#Dx: {dx}"]) + "\n")
        scipy.io.savemat(folder / f"{name}.mat", {"val": np.round(signal * 1000).astype(np.int16)})
    return folder


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A model file fitted on 30 synthetic records, and those records' folder."""
    root = tmp_path_factory.mktemp("fit")
    train = write_records(root / "train", 30)
    model = root / "model" / "model.joblib"  # a folder fit must create
    assert main(["fit", str(train), "-o", str(model), *TINY]) == 0
    return model, train


def test_an_ensemble_model_predicts_on_the_device_asked(tmp_path):
    train = write_records(tmp_path / "train", 24)
    model_path = tmp_path / "model.joblib"
    assert main(["fit", str(train), "-o", str(model_path), "--ensemble", "2", *TINY]) == 0
    out = tmp_path / "outputs"
    assert main(["predict", str(model_path), str(train), "-o", str(out), "--device", "cpu", "--quiet"]) == 0
    pipeline = joblib.load(model_path)["pipeline"]
    assert len(pipeline[-1].estimators_) == 2
    data = load_physionet(train, fs=FS, duration=DURATION, year=None)
    expected = pipeline.predict_proba(data.X)
    for i, record in enumerate(data.records):
        np.testing.assert_allclose(read_challenge_output(out / f"{record}.csv").scores, expected[i], rtol=1e-6)


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("sklearn-ecg: error:"), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_model_file_holds_what_predict_needs(fitted):
    model = joblib.load(fitted[0])
    table = scored_classes(2020)
    assert model["kind"] == "sklearn-ecg model" and model["version"] == __version__
    assert model["classes"] == list(table.classes) and model["class_names"] == list(table.names)
    assert (model["fs"], model["duration"], model["year"]) == (FS, DURATION, 2020)
    assert model["settings"]["n_records"] == 30
    assert model["pipeline"][-1].classes_.tolist() == model["classes"]


def test_predict_writes_challenge_outputs_of_the_fitted_pipeline(fitted, tmp_path, capsys):
    model_path, _ = fitted
    # New records, some with a code no table knows: predict does not need labels.
    test = write_records(tmp_path / "test", 6, seed=1)
    write_records(tmp_path / "test" / "unknown", 1, seed=2, codes="999999999")
    out = tmp_path / "outputs"
    assert main(["predict", str(model_path), str(test), "-o", str(out)]) == 0
    assert "wrote 7 output files" in capsys.readouterr().err

    data = load_physionet(test, fs=FS, duration=DURATION, year=None)
    model = joblib.load(model_path)
    expected_scores = model["pipeline"].predict_proba(data.X)
    expected_labels = model["pipeline"].predict(data.X)
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{r}.csv" for r in data.records)
    for i, record in enumerate(data.records):
        output = read_challenge_output(out / f"{record}.csv")
        assert output.record == record
        assert output.classes.tolist() == model["classes"]
        np.testing.assert_array_equal(output.labels, expected_labels[i])
        np.testing.assert_allclose(output.scores, expected_scores[i], rtol=1e-6)
        assert output.labels.sum() >= 1  # at least one class per record


def test_fit_reports_progress_unless_quiet(tmp_path, capsys):
    train = write_records(tmp_path / "train", 12)
    noisy = [arg for arg in TINY if arg != "--quiet"]
    assert main(["fit", str(train), "-o", str(tmp_path / "m.joblib"), *noisy]) == 0
    captured = capsys.readouterr()
    assert "fitting on" in captured.err and "fitted in" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    "make_folder, message",
    [
        (lambda tmp: tmp / "nowhere", "does not exist"),
        (lambda tmp: tmp, "No challenge records"),
        (lambda tmp: write_records(tmp / "unscored", 3, codes="164951009"), "carries a scored class"),
    ],
)
def test_fit_on_bad_folder_is_one_line_error(tmp_path, capsys, make_folder, message):
    assert main(["fit", str(make_folder(tmp_path)), "-o", str(tmp_path / "m.joblib"), *TINY]) == 2
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "m.joblib").exists()


def test_fit_into_a_folder_fails_before_training(tmp_path, capsys):
    train = write_records(tmp_path / "train", 3)
    assert main(["fit", str(train), "-o", str(tmp_path), *TINY]) == 2
    assert "is a folder" in _one_line_error(capsys)


def _rewritten(fitted, tmp_path, **changes):
    model = joblib.load(fitted[0])
    model.update(changes)
    path = tmp_path / "changed.joblib"
    joblib.dump(model, path)
    return path


@pytest.mark.parametrize(
    "make_model, message",
    [
        (lambda fitted, tmp: tmp / "absent.joblib", "does not exist"),
        (lambda fitted, tmp: _write(tmp / "garbage.joblib", b"not a pickle"), "cannot read model file"),
        (lambda fitted, tmp: _dump(tmp / "dict.joblib", {"weights": [1, 2]}), "not a model file"),
        (lambda fitted, tmp: _dump(tmp / "array.joblib", np.zeros(3)), "not a model file"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, format=99), "cannot read; upgrade"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, classes=["1", "2"]), "not distinct scored"),
        (lambda fitted, tmp: _rewritten(
            fitted, tmp, classes=list(scored_classes(2020).classes)[::-1]), "trained on other classes"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, pipeline="oops"), "trained on other classes"),
        (lambda fitted, tmp: _rewritten(fitted, tmp, fs="fast"), "damaged"),
    ],
)
def test_predict_with_bad_model_file_is_one_line_error(fitted, tmp_path, capsys, make_model, message):
    model = make_model(fitted, tmp_path)
    assert main(["predict", str(model), str(fitted[1]), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def _write(path, content):
    path.write_bytes(content)
    return path


def _dump(path, value):
    joblib.dump(value, path)
    return path


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
    assert message in _one_line_error(capsys)


def test_predict_into_a_file_is_one_line_error(fitted, tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["predict", str(fitted[0]), str(fitted[1]), "-o", str(tmp_path / "taken"), "-q"]) == 2
    assert "is a file" in _one_line_error(capsys)
