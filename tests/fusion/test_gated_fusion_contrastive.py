"""GatedFusionClassifier with a ContrastivePretrainer as its time branch."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.nn import MeanOverFrames
from sklearn_ecg.pretraining import ContrastivePretrainer

# Tiny transformer, 1 s segments of 3 s records, one pretraining epoch.
PRETRAIN = dict(size="tiny", segment_length=100, batch_size=16, max_epochs=1, codebook_entries=16, n_negatives=10)
FAST = dict(hidden_size=16, max_epochs=2, batch_size=16, crops_per_record=2, window=100,
            validation_fraction=None, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_synthetic_ecg(32, duration=3.0, random_state=0)


@pytest.fixture(scope="module")
def pretrained(data):
    return ContrastivePretrainer(random_state=0, **PRETRAIN).fit(data.X)


def _model(branch, **params):
    return GatedFusionClassifier(branches=[("time", branch)], **{**FAST, **params})


def test_fit_pretrains_the_branch_and_fine_tunes_its_transformer(data):
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    model = _model(ContrastivePretrainer(**PRETRAIN)).fit(data.X, data.y)
    assert torch.equal(torch.get_rng_state(), torch_state)  # dropout drew from a forked generator
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    pretrainer = model.named_branches_["time"]
    encoder = model.net_.module_.encoders[0]
    assert isinstance(encoder, MeanOverFrames) and pretrainer.n_pairs_ == 32
    start, tuned = pretrainer.encoder_.state_dict(), encoder.state_dict()
    assert start.keys() == tuned.keys()
    assert any(not torch.equal(start[k], tuned[k].cpu()) for k in start)  # trained end to end
    proba = model.predict_proba(data.X)
    assert proba.shape == data.y.shape and np.isfinite(proba).all()
    again = _model(ContrastivePretrainer(**PRETRAIN)).fit(data.X, data.y)
    np.testing.assert_array_equal(again.predict_proba(data.X), proba)


def test_prefit_branch_starts_from_its_pretrained_weights_and_standardisation(pretrained, data):
    # A vanishing learning rate keeps the encoder where it started.
    model = _model(pretrained, pretraining="prefit", lr=1e-10, min_lr=0.0, max_epochs=1).fit(data.X, data.y)
    assert model.named_branches_["time"] is pretrained
    tuned = model.net_.module_.encoders[0].state_dict()
    for key, value in pretrained.encoder_.state_dict().items():
        torch.testing.assert_close(tuned[key].cpu(), value, atol=1e-7, rtol=0)
    front = model.net_.module_.front_ends[0][0]
    np.testing.assert_allclose(front.mean.numpy(), pretrained.standardizer_.mean_, rtol=1e-6)


def test_frozen_branch_is_reused_by_clones(pretrained, data):
    epochs = len(pretrained.history_)
    model = clone(_model(FrozenEstimator(pretrained), max_epochs=1)).fit(data.X, data.y)
    assert model.named_branches_["time"].estimator is pretrained and len(pretrained.history_) == epochs


def test_without_pretraining_the_branch_standardises_with_the_training_records(data):
    model = _model(ContrastivePretrainer(**PRETRAIN), pretraining=None, max_epochs=1).fit(data.X, data.y)
    assert not hasattr(model, "named_branches_")
    front = model.net_.module_.front_ends[0][0]
    np.testing.assert_allclose(front.mean.numpy(), data.X.mean(axis=(0, 2)), rtol=1e-4, atol=1e-6)
    assert model.predict_proba(data.X).shape == data.y.shape


def test_without_pretraining_a_frozen_branch_keeps_its_weights_and_the_others_start_random(pretrained, data):
    other = ContrastivePretrainer(**PRETRAIN)
    model = GatedFusionClassifier(
        branches=[("time", FrozenEstimator(pretrained)), ("other", other)], pretraining=None,
        **{**FAST, "lr": 1e-10, "min_lr": 0.0, "max_epochs": 1},
    ).fit(data.X, data.y)
    frozen, fresh = model.net_.module_.encoders
    for key, value in pretrained.encoder_.state_dict().items():
        torch.testing.assert_close(frozen.state_dict()[key].cpu(), value, atol=1e-7, rtol=0)
    assert not hasattr(other, "encoder_")  # the other branch was not pretrained
    start = pretrained.encoder_.state_dict()
    assert any(not torch.equal(fresh.state_dict()[key].cpu(), start[key]) for key in start)
    assert list(model.named_branches_) == ["time", "other"]
