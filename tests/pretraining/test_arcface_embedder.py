import copy
import pickle
from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.exceptions import DeviceWarning

from sklearn_ecg.metrics import identification_accuracy
from sklearn_ecg.pretraining import ArcFaceEmbedder, ContrastivePretrainer, SelfKDPretrainer

FAST = dict(size="tiny", window=100, batch_size=16, max_epochs=2, crops_per_record=2)

_N_FEATURES_REASON = (
    "records may have any length (sliding windows), so there is no fixed number of input features; the "
    "lead count is checked instead (n_leads_in_)"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _N_FEATURES_REASON,
    "check_n_features_in_after_fitting": _N_FEATURES_REASON,
    "check_transformer_general": "transform accepts another record length than fit: " + _N_FEATURES_REASON,
}


@parametrize_with_checks(
    [ArcFaceEmbedder(random_state=0, **dict(FAST, window=4, max_epochs=1))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def patients():
    """Three noisy records of each of 8 patients: a patient's own rate and lead gains, any phase."""
    rng = np.random.default_rng(0)
    t = np.arange(600) / 100
    rate, gain = rng.uniform(0.5, 3.0, size=(8, 1, 1)), rng.uniform(0.2, 2.0, size=(8, 3, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(24, 1, 1))
    identity = np.repeat(np.arange(8), 3)
    X = gain[identity] * np.sin(2 * np.pi * rate[identity] * t + phase) + rng.normal(size=(24, 3, 600))
    return X.astype(np.float32), identity


VISIT = np.tile(np.arange(3), 8)  # each patient's first, second and third record
SEEN = VISIT != 2


@pytest.fixture(scope="module")
def fitted(patients):
    X, identity = patients
    # A softer scale and margin and no lead masking learn these 16 records in a few hundred steps.
    learn = dict(window=200, crops_per_record=4, max_epochs=30, lr=3e-3, scale=10.0, margin=0.2, lead_mask_proba=0.0)
    return ArcFaceEmbedder(random_state=0, **dict(FAST, **learn)).fit(X[SEEN], identity[SEEN])


def test_embeddings_are_unit_float32_with_names(fitted, patients):
    X, _ = patients
    Z = fitted.transform(X)
    assert Z.shape == (24, fitted.n_features_out_) and Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    assert fitted.get_feature_names_out()[0] == "arcfaceembedder0"
    np.testing.assert_array_equal(fitted.identities_, np.arange(8))


def test_training_identifies_records_it_never_saw(fitted, patients):
    X, identity = patients
    gallery, probe = np.flatnonzero(VISIT == 0), np.flatnonzero(~SEEN)  # probes: records fit never saw
    trained = identification_accuracy(fitted.transform(X), identity, gallery=gallery, probe=probe)
    untrained = ArcFaceEmbedder(random_state=0, **dict(FAST, window=200, max_epochs=1, lr=1e-9)).fit(X[SEEN],
                                                                                                    identity[SEEN])
    before = identification_accuracy(untrained.transform(X), identity, gallery=gallery, probe=probe)
    assert trained >= 0.875 and trained > before
    losses = fitted.history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_same_random_state_same_embeddings_and_global_state_untouched(patients):
    X, identity = patients
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = ArcFaceEmbedder(random_state=3, **FAST).fit(X, identity).transform(X)
    second = ArcFaceEmbedder(random_state=3, **FAST).fit(X, identity).transform(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    other = ArcFaceEmbedder(random_state=4, **FAST).fit(X, identity).transform(X)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("pretrainer", [
    ContrastivePretrainer(objective="cmsc", encoder="xresnet1d", size="tiny", segment_length=200, batch_size=8,
                          max_epochs=1, random_state=0),
    SelfKDPretrainer(size="tiny", window=100, n_local_crops=1, n_prototypes=16, batch_size=8, max_epochs=1,
                     random_state=0),
])
def test_starts_from_a_pretrained_encoder_and_its_standardisation(pretrainer, patients):
    X, identity = patients
    pretrainer = FrozenEstimator(pretrainer.fit(X))
    embedder = ArcFaceEmbedder(pretrained=pretrainer, random_state=0, **dict(FAST, lr=1e-12)).fit(X, identity)
    start = pretrainer.estimator.build_pretrained_encoder()
    for trained, initial in zip(embedder.encoder_.parameters(), start.parameters()):
        torch.testing.assert_close(trained, initial, atol=1e-6, rtol=1e-5)
    if getattr(pretrainer.estimator, "standardizer_", None) is not None:
        assert embedder.standardizer_ is pretrainer.estimator.standardizer_


def test_pickle_round_trip_gives_same_embeddings(fitted, patients):
    X, _ = patients
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_model_fitted_on_gpu_unpickles_on_cpu_only_machine(fitted, patients):
    X, _ = patients
    expected = fitted.transform(X)
    gpu_fitted = copy.deepcopy(fitted)
    # Simulate a GPU fit: the net claims CUDA and every tensor is saved with a CUDA location tag.
    gpu_fitted.net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data = pickle.dumps(gpu_fitted)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.warns(DeviceWarning):
            loaded = pickle.loads(data)
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.transform(X), expected)


def test_quiet_by_default_verbose_prints(patients, capsys):
    X, identity = patients
    ArcFaceEmbedder(random_state=0, **dict(FAST, max_epochs=1)).fit(X, identity)
    assert capsys.readouterr().out == ""
    ArcFaceEmbedder(random_state=0, verbose=1, **dict(FAST, max_epochs=1)).fit(X, identity)
    assert "train_loss" in capsys.readouterr().out


@pytest.mark.parametrize("y, match", [
    (None, "requires y to be passed"),
    (np.zeros(24), "at least two identities to tell apart; y has one class"),
    (np.arange(12), r"one identity per record, shape \(24,\)"),
])
def test_clear_errors_for_bad_identities(patients, y, match):
    X, _ = patients
    with pytest.raises(ValueError, match=match):
        ArcFaceEmbedder(**FAST).fit(X, y)


def test_clear_errors_for_a_bad_start_and_other_lead_counts(fitted, patients):
    X, identity = patients
    with pytest.raises(ValueError, match="fitted on 3-lead time input; X has 2 leads"):
        ArcFaceEmbedder(pretrained=FrozenEstimator(fitted_pretrainer(X)), **FAST).fit(X[:, :2], identity)
    with pytest.raises(ValueError, match="fitted on 3"):
        fitted.transform(X[:, :2])


def fitted_pretrainer(X):
    return ContrastivePretrainer(objective="cmsc", encoder="xresnet1d", size="tiny", segment_length=200,
                                 batch_size=8, max_epochs=1, random_state=0).fit(X)
