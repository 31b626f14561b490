import pickle
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.exceptions import DeviceWarning

from sklearn_ecg.nn import ECGTransformer, MeanOverFrames, XResNet1d, load_encoder_state
from sklearn_ecg.pretraining import ContrastivePretrainer
from sklearn_ecg.pretraining._contrastive import record_segments, signal_lengths

# Small and fast: tiny encoders, 2 s segments at 100 Hz, a small codebook.
FAST = dict(size="tiny", segment_length=200, batch_size=8, max_epochs=2, codebook_entries=16, n_negatives=10)
CMSC = dict(FAST, objective="cmsc")

_N_FEATURES_REASON = (
    "records may have any length (segments), so there is no fixed number of input features; the "
    "lead count is checked instead (n_leads_in_)"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _N_FEATURES_REASON,
    "check_n_features_in_after_fitting": _N_FEATURES_REASON,
    "check_transformer_general": "transform accepts another record length than fit: " + _N_FEATURES_REASON,
    "check_fit2d_1feature": (
        "records of one sample cannot give two segments: fit raises a ValueError naming the segment "
        "length rather than the feature count the check looks for"
    ),
}


# The checks' 2-D data are one-lead records of a few samples: segments of one sample (XResNet1d
# embeds them) give every record of two samples or more a pair.
@parametrize_with_checks(
    [ContrastivePretrainer(random_state=0, **dict(CMSC, encoder="xresnet1d", segment_length=1, max_epochs=1))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def signals():
    # Each record its own rate and lead gains, so that its segments can be told from the others'.
    rng = np.random.default_rng(0)
    t = np.arange(800) / 100
    rate, gain = rng.uniform(0.5, 3.0, size=(16, 1, 1)), rng.uniform(0.2, 2.0, size=(16, 3, 1))
    return (gain * np.sin(2 * np.pi * rate * t) + 0.1 * rng.normal(size=(16, 3, 800))).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(signals):
    return ContrastivePretrainer(random_state=0, **FAST).fit(signals)


def test_embeddings_shape_dtype_and_names(fitted, signals):
    embeddings = fitted.transform(signals)
    assert embeddings.shape == (16, fitted.n_features_out_) == (16, 64)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    names = fitted.get_feature_names_out()
    assert names[0] == "contrastivepretrainer0" and len(names) == fitted.n_features_out_
    assert fitted.n_leads_in_ == 3 and fitted.n_pairs_ == 32 and fitted.skipped_records_.size == 0
    assert isinstance(fitted.encoder_, MeanOverFrames) and isinstance(fitted.encoder_.encoder, ECGTransformer)


def test_record_embedding_is_the_mean_of_its_segments(fitted, signals):
    record = signals[:1]  # 800 samples: segments at 0, 200, 400, 600
    segments = fitted.standardizer_.transform(record).reshape(3, 4, 200).transpose(1, 0, 2)
    with torch.no_grad():
        expected = fitted.encoder_(torch.from_numpy(np.ascontiguousarray(segments))).numpy().mean(axis=0)
    np.testing.assert_allclose(fitted.transform(record)[0], expected, rtol=1e-5, atol=1e-6)


def test_segment_embedding_is_the_mean_over_frames_of_the_transformer(fitted, signals):
    x = torch.from_numpy(fitted.standardizer_.transform(signals[:2, :, :200]))
    with torch.no_grad():
        expected = fitted.encoder_.encoder(x).mean(dim=1).numpy()
    np.testing.assert_allclose(fitted.transform(signals[:2, :, :200]), expected, rtol=1e-5, atol=1e-6)


def test_trailing_zero_padding_is_neither_paired_nor_embedded(fitted, signals):
    padded = np.concatenate([signals[:3], np.zeros_like(signals[:3])], axis=-1)
    np.testing.assert_allclose(fitted.transform(padded), fitted.transform(signals[:3]), rtol=1e-5, atol=1e-6)
    X = signals.copy()
    X[2, :, 300:] = 0  # one segment of signal: no pair
    with pytest.warns(UserWarning, match="1 of 16 records are shorter than two segments"):
        pretrainer = ContrastivePretrainer(random_state=0, **dict(CMSC, max_epochs=1)).fit(X)
    assert pretrainer.skipped_records_.tolist() == [2] and pretrainer.n_pairs_ == 30


def test_records_shorter_than_a_segment_are_embedded_zero_padded(fitted, signals):
    short = signals[:2, :, :50]
    padded = np.pad(fitted.standardizer_.transform(short), [(0, 0), (0, 0), (0, 150)])
    with torch.no_grad():
        expected = fitted.encoder_(torch.from_numpy(padded)).numpy()
    np.testing.assert_allclose(fitted.transform(short), expected, rtol=1e-5, atol=1e-6)


def test_no_record_long_enough_is_a_clear_error(signals):
    with pytest.raises(ValueError, match="None of the 16 records holds two segments of segment_length=500"):
        ContrastivePretrainer(**dict(CMSC, segment_length=500)).fit(signals)
    with pytest.raises(ValueError, match="only 1 pair"):
        ContrastivePretrainer(**CMSC).fit(signals[:1, :, :400])


@pytest.mark.parametrize("params", [CMSC, FAST, dict(FAST, objective="w2v"), dict(CMSC, encoder="xresnet1d")])
def test_same_random_state_same_embeddings_and_global_state_untouched(params, signals):
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    first = ContrastivePretrainer(random_state=3, **params).fit(signals)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert np.array_equal(after[1], np_state[1]) and after[2] == np_state[2]
    again = ContrastivePretrainer(random_state=3, **params).fit(signals)
    np.testing.assert_array_equal(again.transform(signals), first.transform(signals))
    other = ContrastivePretrainer(random_state=4, **params).fit(signals)
    assert not np.allclose(other.transform(signals), first.transform(signals))


def test_history_records_each_term_of_the_objective(fitted):
    history = fitted.history_
    assert len(history) == FAST["max_epochs"]
    for name in ("train_loss", "w2v", "diversity", "feature_penalty", "cmsc", "w2v_accuracy"):
        assert np.isfinite(history[:, name]).all(), name
    expected = [w + 0.1 * d + 10 * p + c for w, d, p, c in zip(*(history[:, k] for k in (
        "w2v", "diversity", "feature_penalty", "cmsc")))]
    np.testing.assert_allclose(history[:, "train_loss"], expected, rtol=1e-5)
    assert fitted.net_.optimizer_.param_groups[0]["lr"] == fitted.lr  # constant, as the paper


def test_optimiser_is_the_papers_adam(fitted):
    group = fitted.net_.optimizer_.param_groups[0]
    assert isinstance(fitted.net_.optimizer_, torch.optim.AdamW)
    assert group["betas"] == (0.9, 0.98) and group["eps"] == 1e-6 and group["weight_decay"] == 0.01


def test_training_lowers_the_cmsc_loss(signals):
    # Without lead masking: with 3 leads, masking blanks one segment in 8 entirely.
    pretrainer = ContrastivePretrainer(random_state=0, lead_mask_proba=0.0, **dict(CMSC, max_epochs=6)).fit(signals)
    losses = pretrainer.history_[:, "cmsc"]
    assert losses[-1] < 0.5 * losses[0]


def test_the_network_gets_the_estimators_settings(signals):
    pretrainer = ContrastivePretrainer(
        random_state=0, lead_mask_proba=0.0, projection_dim=None, cmsc_temperature=0.5,
        mask_prob=0.5, mask_length=4, **dict(FAST, max_epochs=1)).fit(signals)
    network = pretrainer.net_.module_
    assert network.lead_masking is None and network.projection is None and network.cmsc_temperature == 0.5
    assert network.wav2vec2.mask_prob == 0.5 and network.wav2vec2.mask_length == 4
    assert network.wav2vec2.quantizer.n_entries == 16 and network.encoder.conv_strides == (2, 2, 1, 1)
    default = ContrastivePretrainer(random_state=0, **dict(CMSC, max_epochs=1)).fit(signals)
    assert default.net_.module_.lead_masking.p == 0.5 and default.net_.module_.projection[-1].out_features == 128


def test_xresnet1d_encoder_with_cmsc(signals):
    pretrainer = ContrastivePretrainer(encoder="xresnet1d", random_state=0, **CMSC).fit(signals)
    assert isinstance(pretrainer.encoder_, XResNet1d)
    assert pretrainer.transform(signals).shape == (16, pretrainer.encoder_.out_features)


def test_bfloat16_autocast_trains_and_embeds_in_float32(signals):
    pretrainer = ContrastivePretrainer(encoder="xresnet1d", precision="bf16", random_state=0, **CMSC).fit(signals)
    assert pretrainer.net_.precision == "bf16"
    embeddings = pretrainer.transform(signals)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    exact = ContrastivePretrainer(encoder="xresnet1d", random_state=0, **CMSC).fit(signals).transform(signals)
    assert not np.array_equal(embeddings, exact)  # the autocast changed the arithmetic


def test_wav2vec2_needs_the_transformer(signals):
    with pytest.raises(ValueError, match="encoder='transformer', or objective='cmsc'"):
        ContrastivePretrainer(encoder="xresnet1d", **FAST).fit(signals)


def test_without_standardisation_the_encoder_sees_raw_signals(signals):
    pretrainer = ContrastivePretrainer(standardize=False, random_state=0, **CMSC).fit(signals)
    assert pretrainer.standardizer_ is None
    with torch.no_grad():
        expected = pretrainer.encoder_(torch.from_numpy(signals[:2, :, :200])).numpy()
    np.testing.assert_allclose(pretrainer.transform(signals[:2, :, :200]), expected, rtol=1e-5, atol=1e-6)


def test_standardisation_uses_the_pool_statistics(fitted, signals):
    np.testing.assert_allclose(fitted.standardizer_.mean_, signals.mean(axis=(0, 2)), rtol=1e-4, atol=1e-6)


def test_pickle_round_trip_gives_same_embeddings(fitted, signals):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(signals), fitted.transform(signals))
    assert len(loaded.history_) == len(fitted.history_)


def test_model_fitted_on_gpu_unpickles_on_cpu_only_machine(signals):
    pretrainer = ContrastivePretrainer(random_state=0, **dict(CMSC, max_epochs=1)).fit(signals)
    expected = pretrainer.transform(signals)
    # Simulate a GPU fit: the net claims CUDA and every tensor is saved with a CUDA location tag.
    pretrainer.net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data = pickle.dumps(pretrainer)
        plain = pickle.dumps(pretrainer.encoder_)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.raises(RuntimeError, match="CUDA"):
            pickle.loads(plain)  # the simulation bites: plain pickle fails
        with pytest.warns(DeviceWarning):
            loaded = pickle.loads(data)
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.transform(signals), expected)


def test_quiet_by_default_verbose_prints(signals, capsys):
    ContrastivePretrainer(random_state=0, **dict(CMSC, max_epochs=1)).fit(signals)
    assert capsys.readouterr().out == ""
    ContrastivePretrainer(random_state=0, verbose=1, **dict(CMSC, max_epochs=1)).fit(signals)
    assert "train_loss" in capsys.readouterr().out


def test_encoder_is_cpu_eval_and_loads_strictly(fitted, signals):
    assert not fitted.encoder_.training
    state = torch.get_rng_state()
    fresh = fitted.build_pretrained_encoder()
    assert torch.equal(torch.get_rng_state(), state)
    assert fresh.training and fresh is not fitted.encoder_
    x = torch.from_numpy(signals[:2, :, :200])
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), fitted.encoder_(x))
    untrained = fitted.build_untrained_encoder(3)
    assert untrained.state_dict().keys() == fresh.state_dict().keys()
    with pytest.raises(ValueError, match="do not fit"):
        load_encoder_state(fitted.build_untrained_encoder(12), fitted.encoder_.state_dict())


def test_encoder_is_the_networks(fitted):
    pretrained = fitted.net_.module_.encoder.state_dict()
    for key, value in fitted.encoder_.encoder.state_dict().items():
        torch.testing.assert_close(value, pretrained[key])


def test_alone_with_a_linear_head(fitted, signals):
    y = (np.arange(16) % 2).astype(int)
    Y = np.stack([y, 1 - y, np.arange(16) // 8], axis=1)
    for head, target in ((LogisticRegression(max_iter=500), y), (MultiOutputClassifier(LogisticRegression()), Y)):
        model = make_pipeline(ContrastivePretrainer(random_state=0, **dict(CMSC, max_epochs=1)), head)
        assert model.fit(signals, target).predict(signals).shape == target.shape


@pytest.mark.parametrize("X, match", [
    (np.zeros((4, 2, 5, 50), np.float32), "takes signals"),
    (np.full((4, 2, 400), np.nan, np.float32), "NaN"),
])
def test_clear_errors_for_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        ContrastivePretrainer(**CMSC).fit(X)


def test_transform_rejects_other_lead_count(fitted, signals):
    with pytest.raises(ValueError, match="3 leads .* fitted on 3|fitted on 3"):
        fitted.transform(signals[:, :2])


@pytest.mark.parametrize("params, match", [
    (dict(objective="simclr"), "objective"),
    (dict(conv_strides=(2, 2)), "conv_strides must be a tuple of 4"),
    (dict(conv_strides=(2, 2, 1.5, 1)), "conv_strides must be a tuple of 4 positive integers"),
    (dict(betas=(0.9, -1.0)), "betas must be a tuple of 2 positive"),
    (dict(device="gpu"), "device='gpu'"),
    (dict(precision="64"), "precision"),
    (dict(accelerator="horovod"), "accelerator"),
])
def test_invalid_parameters_are_rejected(params, match, signals):
    with pytest.raises(ValueError, match=match):
        ContrastivePretrainer(**dict(CMSC, **params)).fit(signals)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 60), min_size=1, max_size=5), segment_length=st.integers(1, 25),
       seed=st.integers(0, 2**16))
def test_segments_cover_each_records_signal_and_nothing_after_it(lengths, segment_length, seed):
    rng = np.random.default_rng(seed)
    X = np.zeros((len(lengths), 2, 60), np.float32)
    for i, length in enumerate(lengths):
        X[i, :, :length] = rng.uniform(0.5, 1.0, size=(2, length))  # never zero
    np.testing.assert_array_equal(signal_lengths(X), lengths)
    segments, record_index = record_segments(X, np.asarray(lengths), segment_length)
    assert segments.shape[1:] == (2, segment_length) and len(segments) == len(record_index)
    for i, length in enumerate(lengths):
        own = segments[record_index == i]
        expected = max(1, -(-length // segment_length))  # ceil, at least one
        assert len(own) == expected
        covered = np.concatenate(list(own), axis=-1)
        # The record's signal is all there, and each segment holds only its samples or padding zeros.
        assert np.count_nonzero(covered) >= 2 * length
        assert set(np.round(covered[covered != 0], 6)) <= set(np.round(X[i, :, :length].ravel(), 6))


@settings(max_examples=10, deadline=None)
@given(padding=st.integers(1, 500), n_records=st.integers(1, 4))
def test_embeddings_ignore_trailing_zero_padding(fitted, signals, padding, n_records):
    X = signals[:n_records]
    padded = np.concatenate([X, np.zeros(X.shape[:2] + (padding,), np.float32)], axis=-1)
    np.testing.assert_allclose(fitted.transform(padded), fitted.transform(X), rtol=1e-5, atol=1e-6)
