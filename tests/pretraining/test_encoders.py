import dataclasses
import json

import joblib
import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline

from sklearn_ecg import __version__
from sklearn_ecg.leads import LEAD_NAMES
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import (
    ContrastivePretrainer,
    PretrainedEncoders,
    SelfKDPretrainer,
    load_encoders,
    read_encoders_header,
    save_encoders,
)
from sklearn_ecg.pretraining._encoders import ENCODERS_MARKER, FORMAT

TINY = dict(size="tiny", n_local_crops=1, n_prototypes=16, batch_size=8, max_epochs=1)
META = dict(method="selfkd", size="tiny", fs=100, window=0.5, leads=LEAD_NAMES)


def _branches():
    return [
        ("time", SelfKDPretrainer(window=50, **TINY)),
        ("spectrogram", make_pipeline(STFTSpectrogram(), LeadStandardizer(common_scale=True),
                                      SelfKDPretrainer(modality="spectrogram", window=4, **TINY))),
    ]


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    return (3.0 + 2.0 * rng.normal(size=(12, 12, 200))).astype(np.float32)


@pytest.fixture(scope="module")
def encoders(pool):
    return PretrainedEncoders.pretrain(_branches(), pool, sources=["pool-a"], random_state=0, **META)


def test_pretrain_fits_every_branch_and_records_what_it_saw(encoders, pool):
    assert encoders.modalities == ("time", "spectrogram")
    assert encoders.n_records == 12 and encoders.sources == ["pool-a"]
    assert encoders.epochs == {"time": 1, "spectrogram": 1}
    time_branch = dict(encoders.branches)["time"]
    assert time_branch.n_leads_in_ == 12 and time_branch.random_state is not None  # seeded from random_state
    header = encoders.header
    assert (header["method"], header["size"], header["fs"], header["window"]) == ("selfkd", "tiny", 100, 0.5)
    assert header["leads"] == list(LEAD_NAMES) and header["version"] == __version__
    assert json.loads(json.dumps(header)) == header  # JSON values only


def test_pretraining_sees_standardised_signals(encoders, pool):
    # The spectrogram branch's standardiser was fitted on the STFT of the pool standardised per lead.
    spectrogram = dict(encoders.branches)["spectrogram"]
    standardised = LeadStandardizer().fit_transform(pool)
    expected = LeadStandardizer(common_scale=True).fit(STFTSpectrogram().fit_transform(standardised))
    np.testing.assert_allclose(spectrogram[1].scale_, expected.scale_, rtol=1e-5)
    np.testing.assert_allclose(spectrogram[1].mean_, expected.mean_, rtol=1e-5, atol=1e-6)


def test_same_seed_same_encoders(encoders, pool):
    again = PretrainedEncoders.pretrain(_branches(), pool, random_state=0, **META)
    for (_, first), (_, second) in zip(encoders.branches, again.branches):
        np.testing.assert_array_equal(first.transform(pool), second.transform(pool))


def test_continue_pretraining_warm_starts_a_copy(encoders, pool):
    before = dict(encoders.branches)["time"].encoder_.state_dict()
    snapshot = {key: value.clone() for key, value in before.items()}
    more = encoders.continue_pretraining(pool[:8], epochs=2, sources=["pool-b"])
    assert more.epochs == {"time": 3, "spectrogram": 3}
    assert [run["epochs"] for run in more.runs] == [{"time": 1, "spectrogram": 1}, {"time": 2, "spectrogram": 2}]
    assert (more.n_records, more.sources) == (8, ["pool-b"])
    after = dict(more.branches)["time"].encoder_.state_dict()
    assert any(not torch.equal(snapshot[key], after[key]) for key in snapshot)
    # The original is left as it was.
    assert encoders.epochs == {"time": 1, "spectrogram": 1} and len(encoders.runs) == 1
    assert all(torch.equal(snapshot[key], before[key]) for key in snapshot)


def test_continue_pretraining_defaults_to_the_first_runs_epochs(encoders, pool):
    assert encoders.continue_pretraining(pool).runs[-1]["epochs"] == {"time": 1, "spectrogram": 1}


def test_continue_pretraining_takes_this_runs_verbose(pool, capsys):
    loud = PretrainedEncoders.pretrain([("time", SelfKDPretrainer(window=50, verbose=1, **TINY))], pool,
                                       random_state=0, **META)
    capsys.readouterr()
    loud.continue_pretraining(pool, epochs=1, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_encoders_without_warm_start_cannot_be_continued(pool):
    contrastive = PretrainedEncoders.pretrain(
        [("time", ContrastivePretrainer(objective="cmsc", encoder="xresnet1d", size="tiny", segment_length=50,
                                        max_epochs=1, batch_size=8))],
        pool, random_state=0, **dict(META, method="contrastive"),
    )
    with pytest.raises(ValueError, match="'contrastive' encoders cannot be pretrained further: ContrastivePretrainer"):
        contrastive.continue_pretraining(pool)


def test_wrong_lead_count_is_refused(encoders, pool):
    with pytest.raises(ValueError, match=r"X has 6 leads .* the encoders take 12"):
        encoders.continue_pretraining(pool[:, :6])
    with pytest.raises(ValueError, match="X has 12 leads .* take 2 \\(I, II\\)"):
        PretrainedEncoders.pretrain(_branches(), pool, **dict(META, leads=("I", "II")))


def test_frozen_branches_in_the_order_asked(encoders):
    frozen = encoders.frozen_branches(["spectrogram", "time"])
    assert [name for name, _ in frozen] == ["spectrogram", "time"]
    assert all(isinstance(branch, FrozenEstimator) for _, branch in frozen)
    assert frozen[1][1].estimator is dict(encoders.branches)["time"]
    assert [name for name, _ in encoders.frozen_branches()] == ["time", "spectrogram"]
    with pytest.raises(ValueError, match="modalities must be distinct"):
        encoders.frozen_branches(["time", "time"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (dict(fs=500), "they were pretrained on signals at 100 Hz, not 500 Hz"),
        (dict(window=2.5), "their window is 0.5 s, not 2.5 s"),
        (dict(n_leads=6), "they take 12 leads .*, not 6"),
        (dict(modalities=["time", "frequency"]), "they have no 'frequency' branch .*pretrains 'time', 'spectrogram'"),
    ],
)
def test_check_compatible_names_what_differs(encoders, data, message):
    encoders.check_compatible(fs=100, window=0.5, n_leads=12, modalities=["spectrogram"])
    with pytest.raises(ValueError, match=f"do not fit: {message}"):
        encoders.check_compatible(**data)


def test_check_compatible_names_every_problem(encoders):
    with pytest.raises(ValueError, match="500 Hz.*not 6"):
        encoders.check_compatible(fs=500, n_leads=6)


def test_file_round_trip_keeps_header_and_weights(encoders, pool, tmp_path):
    path = save_encoders(encoders, tmp_path / "sub" / "encoders.joblib")
    assert path.read_bytes().startswith(ENCODERS_MARKER)
    assert read_encoders_header(path) == {"format": FORMAT, **encoders.header}
    loaded = load_encoders(path)
    assert loaded.header == encoders.header
    for (_, saved), (_, read) in zip(encoders.branches, loaded.branches):
        np.testing.assert_array_equal(saved.transform(pool), read.transform(pool))
    assert [p.name for p in path.parent.iterdir()] == ["encoders.joblib"]  # nothing half-written beside it


def _rewrite(path, header, payload):
    with open(path, "wb") as stream:
        stream.write(ENCODERS_MARKER + json.dumps(header).encode() + b"\n")
        joblib.dump(payload, stream)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp, enc: tmp / "missing.joblib", "does not exist"),
        (lambda tmp, enc: _dump(tmp / "bare.joblib", enc), "is not an encoders file"),
        (lambda tmp, enc: _rewrite(tmp / "new.joblib", {**_header(enc), "format": FORMAT + 1}, enc),
         f"encoders format {FORMAT + 1}.*upgrade"),
        (lambda tmp, enc: _rewrite(tmp / "lacks.joblib", {k: v for k, v in _header(enc).items() if k != "fs"}, enc),
         "damaged: its header lacks fs"),
        (lambda tmp, enc: _rewrite(tmp / "bad.joblib", {**_header(enc), "fs": -1}, enc), "damaged: fs=-1"),
        (lambda tmp, enc: _rewrite(tmp / "other.joblib", {**_header(enc), "size": "paper"}, enc),
         "contents do not match its header"),
        (lambda tmp, enc: _rewrite(tmp / "dict.joblib", _header(enc), {"weights": [1]}),
         "contents do not match its header"),
    ],
    ids=["missing", "bare-pickle", "newer-format", "lacks-key", "bad-value", "other-header", "foreign-payload"],
)
def test_bad_files_are_refused_with_the_reason(encoders, tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        load_encoders(make(tmp_path, encoders))


def test_header_is_checked_before_unpickling(encoders, tmp_path, monkeypatch):
    path = _rewrite(tmp_path / "new.joblib", {**_header(encoders), "format": FORMAT + 1}, encoders)
    monkeypatch.setattr(joblib, "load", _fail)
    with pytest.raises(ValueError, match="upgrade"):
        load_encoders(path)


def test_another_version_loads_with_a_warning(encoders, tmp_path):
    older = dataclasses.replace(encoders, version="0.0.1")
    path = save_encoders(older, tmp_path / "old.joblib")
    with pytest.warns(UserWarning, match="made by sklearn-ecg 0.0.1"):
        assert load_encoders(path).version == "0.0.1"


def test_save_refuses_other_objects(tmp_path):
    with pytest.raises(TypeError, match="must be PretrainedEncoders"):
        save_encoders({"time": None}, tmp_path / "x.joblib")


def _header(encoders):
    return {"format": FORMAT, **encoders.header}


def _dump(path, payload):
    joblib.dump(payload, path)
    return path


def _fail(*args, **kwargs):
    raise AssertionError("the pickle was opened before the header was checked")
