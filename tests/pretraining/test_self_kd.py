import pickle
from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.pipeline import FeatureUnion
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import EarlyStopping
from skorch.exceptions import DeviceWarning

from sklearn_ecg.nn import build_encoder, load_encoder_state
from sklearn_ecg.pretraining import SelfKDPretrainer

# Small and fast: the tiny preset, one local crop, few prototypes.
FAST = dict(size="tiny", n_local_crops=1, n_prototypes=16, batch_size=8, max_epochs=2)

_N_FEATURES_REASON = (
    "records may have any length (sliding windows), so there is no fixed number of input "
    "features; the lead count is checked instead (n_leads_in_)"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _N_FEATURES_REASON,
    "check_n_features_in_after_fitting": _N_FEATURES_REASON,
    "check_transformer_general": "transform accepts another record length than fit: " + _N_FEATURES_REASON,
}


@parametrize_with_checks(
    [
        SelfKDPretrainer(window=16, random_state=0, **dict(FAST, max_epochs=1)),
        SelfKDPretrainer(modality="spectrogram", window=8, random_state=0, **dict(FAST, max_epochs=1)),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def signals():
    rng = np.random.default_rng(0)
    t = np.arange(400) / 100
    # Two rhythms at different rates, so that windows are not all alike.
    rate = rng.choice([1.0, 2.0], size=(16, 1, 1))
    return (np.sin(2 * np.pi * rate * t) + 0.1 * rng.normal(size=(16, 3, 400))).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(signals):
    return SelfKDPretrainer(random_state=0, **FAST).fit(signals)


def test_time_embeddings_shape_dtype_and_names(fitted, signals):
    embeddings = fitted.transform(signals)
    assert embeddings.shape == (16, fitted.n_features_out_) == (16, fitted.encoder_.out_features)
    assert embeddings.dtype == np.float32
    assert np.isfinite(embeddings).all()
    names = fitted.get_feature_names_out()
    assert names[0] == "selfkdpretrainer_time0" and len(names) == fitted.n_features_out_
    assert fitted.n_leads_in_ == 3 and fitted.window_ == 250 and fitted.encoder_kind_ == "xresnet1d"


def test_spectrogram_modality_and_default_encoder():
    spectrograms = np.abs(np.random.default_rng(1).normal(size=(6, 2, 13, 30))).astype(np.float32)
    pretrainer = SelfKDPretrainer(modality="spectrogram", random_state=0, **FAST).fit(spectrograms)
    assert pretrainer.encoder_kind_ == "se_resnet" and pretrainer.window_ == 21
    embeddings = pretrainer.transform(spectrograms)
    assert embeddings.shape == (6, pretrainer.n_features_out_) and embeddings.dtype == np.float32
    assert pretrainer.get_feature_names_out()[0] == "selfkdpretrainer_spectrogram0"


def test_record_of_one_window_is_embedded_by_the_encoder(fitted, signals):
    window = signals[:2, :, :250]
    with torch.no_grad():
        expected = fitted.encoder_(torch.from_numpy(window)).numpy()
    np.testing.assert_allclose(fitted.transform(window), expected, rtol=1e-5, atol=1e-6)


def test_short_records_are_zero_padded_to_the_window_with_a_warning(fitted, signals, recwarn):
    short = signals[:3, :, :5]
    padded = np.pad(short, [(0, 0), (0, 0), (0, 245)])
    with pytest.warns(UserWarning, match=r"3 of 3 records are shorter than half a window \(fewer than 125 of 250"):
        np.testing.assert_allclose(fitted.transform(short), fitted.transform(padded), rtol=1e-6)
    recwarn.clear()
    fitted.transform(signals[:3, :, :125])
    assert not recwarn.list


def test_short_records_warn_in_fit_naming_how_many(signals):
    X = signals.copy()
    X[:5, :, 60:] = 0  # five records of 0.6 s, zero-padded to the length of the array
    with pytest.warns(UserWarning, match="5 of 16 records are shorter than half a window"):
        SelfKDPretrainer(random_state=0, **dict(FAST, max_epochs=1)).fit(X)


def test_signals_in_another_unit_warn_in_transform(fitted, signals, recwarn):
    assert fitted.amplitude_ == pytest.approx(np.median(np.quantile(np.abs(signals), 0.99, axis=-1)), rel=1e-6)
    fitted.transform(signals * 3)
    assert not recwarn.list
    with pytest.warns(UserWarning, match="SelfKDPretrainer are 1000 times larger.*µV instead of mV"):
        fitted.transform(signals * 1000)
    spectrograms = np.abs(np.random.default_rng(1).normal(size=(6, 2, 13, 30))).astype(np.float32)
    pretrainer = SelfKDPretrainer(modality="spectrogram", random_state=0, **dict(FAST, max_epochs=1))
    assert not hasattr(pretrainer.fit(spectrograms), "amplitude_")  # magnitudes or their logarithms
    pretrainer.transform(np.log(spectrograms))
    assert not [w for w in recwarn.list if "amplitude" in str(w.message)]


def test_long_records_average_half_overlapping_windows(fitted, signals):
    record = signals[:1, :, :375]  # windows at 0 and 125 (50 % overlap)
    with torch.no_grad():
        windows = torch.from_numpy(np.concatenate([record[..., :250], record[..., 125:375]]))
        expected = fitted.encoder_(windows).numpy().mean(axis=0, keepdims=True)
    np.testing.assert_allclose(fitted.transform(record), expected, rtol=1e-5, atol=1e-6)


def test_same_random_state_same_embeddings_other_state_differs(fitted, signals):
    again = SelfKDPretrainer(random_state=0, **FAST).fit(signals)
    np.testing.assert_array_equal(again.transform(signals), fitted.transform(signals))
    other = SelfKDPretrainer(random_state=1, **FAST).fit(signals)
    assert not np.allclose(other.transform(signals), fitted.transform(signals))


def test_fit_leaves_global_random_state_alone(signals):
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    SelfKDPretrainer(random_state=3, **FAST).fit(signals)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert np.array_equal(after[1], np_state[1]) and after[2] == np_state[2]


def test_pickle_round_trip_gives_same_embeddings(fitted, signals):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(signals), fitted.transform(signals))
    assert len(loaded.history_) == len(fitted.history_)


def test_model_fitted_on_gpu_unpickles_on_cpu_only_machine(signals):
    pretrainer = SelfKDPretrainer(random_state=0, **FAST).fit(signals)
    expected = pretrainer.transform(signals)
    # Without a GPU, simulate one: the net claims CUDA, and every tensor is
    # saved with a CUDA location tag, as tensors trained on a GPU are.
    pretrainer.net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data = pickle.dumps(pretrainer)
        plain = pickle.dumps(pretrainer.encoder_)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.raises(RuntimeError, match="CUDA"):
            pickle.loads(plain)  # the simulation bites: plain pickle fails
        with pytest.warns(DeviceWarning) as record:
            loaded = pickle.loads(data)
    assert len(record) == 1 and "CUDA is not available" in str(record[0].message)
    assert torch.device(loaded.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.transform(signals), expected)


def test_warm_start_continues_training(signals):
    pretrainer = SelfKDPretrainer(warm_start=True, random_state=0, **FAST).fit(signals)
    before = {k: v.clone() for k, v in pretrainer.encoder_.state_dict().items()}
    pretrainer.set_params(max_epochs=3).fit(signals)
    assert len(pretrainer.history_) == 2 + 3
    after = pretrainer.encoder_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_warm_start_takes_this_fits_verbose(signals, capsys):
    pretrainer = SelfKDPretrainer(warm_start=True, verbose=1, random_state=0, **FAST).fit(signals)
    assert "train_loss" in capsys.readouterr().out
    pretrainer.set_params(verbose=0, max_epochs=1).fit(signals)
    assert capsys.readouterr() == ("", "")  # no epoch table, no progress bar
    pretrainer.set_params(verbose=1).fit(signals)
    assert "train_loss" in capsys.readouterr().out
    assert len(pretrainer.history_) == FAST["max_epochs"] + 2


def test_refit_without_warm_start_starts_over(signals):
    pretrainer = SelfKDPretrainer(random_state=0, **FAST).fit(signals)
    first = pretrainer.transform(signals)
    pretrainer.fit(signals)
    assert len(pretrainer.history_) == FAST["max_epochs"]
    np.testing.assert_array_equal(pretrainer.transform(signals), first)


def test_history_records_loss_and_collapse_diagnostics(fitted):
    history = fitted.history_
    assert len(history) == FAST["max_epochs"]
    assert np.isfinite(history[:, "train_loss"]).all()
    k = fitted.n_prototypes
    assert all(0 <= h <= np.log(k) + 1e-6 for h in history[:, "teacher_entropy"])
    assert all(0 <= h <= np.log(k) + 1e-6 for h in history[:, "teacher_batch_entropy"])
    lrs = history[:, "batches", :, "lr"]
    assert max(max(epoch) for epoch in lrs) <= fitted.lr


def test_early_stopping_stops_on_stalled_training_loss(signals):
    # A vanishing learning rate leaves the loss to chance, so it stalls soon.
    pretrainer = SelfKDPretrainer(
        random_state=0, early_stopping=1, **dict(FAST, max_epochs=30, lr=1e-12, min_lr=0.0)
    ).fit(signals)
    assert len(pretrainer.history_) < 30
    stopper = dict(pretrainer.net_.callbacks_)["early_stopping"]
    assert isinstance(stopper, EarlyStopping) and stopper.monitor == "train_loss"


def test_quiet_by_default_verbose_prints(signals, capsys):
    SelfKDPretrainer(random_state=0, **FAST).fit(signals)
    assert capsys.readouterr().out == ""
    SelfKDPretrainer(random_state=0, verbose=1, **FAST).fit(signals)
    assert "train_loss" in capsys.readouterr().out


def test_encoder_is_cpu_eval_and_loads_strictly(fitted, signals):
    assert not fitted.encoder_.training
    assert all(p.device.type == "cpu" for p in fitted.encoder_.parameters())
    fresh = fitted.build_pretrained_encoder()
    assert fresh.training and fresh is not fitted.encoder_
    x = torch.from_numpy(signals[:2, :, :250])
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), fitted.encoder_(x))
    # A mismatched architecture raises instead of silently loading nothing.
    with pytest.raises(ValueError, match="do not fit"):
        load_encoder_state(build_encoder("xresnet1d", "small", 3), fitted.encoder_.state_dict())


def test_encoder_matches_the_nets_student(fitted):
    student = fitted.net_.module_.student_encoder.state_dict()
    for key, value in fitted.encoder_.state_dict().items():
        torch.testing.assert_close(value, student[key])


def test_two_pretrainers_in_a_feature_union_have_distinct_names(signals):
    union = FeatureUnion([
        ("a", SelfKDPretrainer(random_state=0, **dict(FAST, max_epochs=1))),
        ("b", SelfKDPretrainer(random_state=1, **dict(FAST, max_epochs=1))),
    ]).fit(signals)
    names = union.get_feature_names_out()
    assert len(set(names)) == len(names) == union.transform(signals).shape[1]


@pytest.mark.parametrize("modality, X, match", [
    ("spectrogram", np.zeros((4, 2, 50), np.float32), "expected 4-D spectrograms.*STFTSpectrogram"),
    ("time", np.zeros((4, 2, 5, 50), np.float32), "expected 3-D signals.*modality='spectrogram'"),
    ("time", np.full((4, 2, 50), np.nan, np.float32), "NaN"),
    ("time", np.zeros((4, 2, 3, 5, 50), np.float32), "must be 2-D or 3-D"),
])
def test_clear_errors_for_bad_input(modality, X, match):
    with pytest.raises(ValueError, match=match):
        SelfKDPretrainer(modality=modality, **FAST).fit(X)


def test_transform_rejects_other_lead_count(fitted, signals):
    with pytest.raises(ValueError, match="fitted on 3"):
        fitted.transform(signals[:, :2])


def test_invalid_parameters_are_rejected(signals):
    with pytest.raises(ValueError, match="modality"):
        SelfKDPretrainer(modality="ecg").fit(signals)
    with pytest.raises(ValueError, match="device='gpu'"):
        SelfKDPretrainer(device="gpu", **FAST).fit(signals)
