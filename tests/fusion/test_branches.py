import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_ecg.fusion._branches import branch_modules, branch_parts, check_pretrained, fit_branches
from sklearn_ecg.nn import MeanOverFrames, StandardizeLeads, STFTMagnitude
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import ContrastivePretrainer, SelfKDPretrainer

FAST = dict(size="tiny", n_local_crops=1, n_prototypes=16, batch_size=8, max_epochs=1)


@pytest.fixture(scope="module")
def signals():
    return np.random.default_rng(0).normal(size=(8, 3, 300)).astype(np.float32)


def _spectrogram_branch(**params):
    return make_pipeline(STFTSpectrogram(), LeadStandardizer(common_scale=True),
                         SelfKDPretrainer(modality="spectrogram", **dict(FAST, **params)))


def test_parts_of_time_and_spectrogram_branches():
    time = branch_parts("time", SelfKDPretrainer(**FAST))
    assert time.preprocessing == () and time.pretrainer.modality == "time"
    spectrogram = branch_parts("spectrogram", _spectrogram_branch())
    assert [type(s) for s in spectrogram.preprocessing] == [STFTSpectrogram, LeadStandardizer]


@pytest.mark.parametrize("branch, error, match", [
    (SelfKDPretrainer(modality="spectrogram"), ValueError, "feeds signals"),
    (make_pipeline(STFTSpectrogram(), SelfKDPretrainer()), ValueError, "feeds spectrograms"),
    (make_pipeline(FunctionTransformer(), SelfKDPretrainer()), TypeError, "outer pipeline"),
    (make_pipeline(STFTSpectrogram(), STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram")),
     TypeError, "at most one"),
    (LeadStandardizer(), TypeError, "must be"),
])
def test_unsupported_branches_are_refused(branch, error, match):
    with pytest.raises(error, match=match):
        branch_parts("b", branch)


def test_fit_branches_clones_and_seeds_only_unset_random_states(signals):
    given = [("time", SelfKDPretrainer(**FAST)), ("spectrogram", _spectrogram_branch(random_state=5))]
    fitted = fit_branches(given, signals, np.random.RandomState(0), pretrain=True)
    assert given[0][1].random_state is None and not hasattr(given[0][1], "encoder_")
    time, spectrogram = dict(fitted)["time"], dict(fitted)["spectrogram"]
    assert isinstance(time.random_state, int) and hasattr(time, "encoder_")
    assert spectrogram[-1].random_state == 5 and hasattr(spectrogram[-1], "encoder_")
    again = dict(fit_branches(given, signals, np.random.RandomState(0), pretrain=True))["time"]
    torch.testing.assert_close(again.encoder_.state_dict(), time.encoder_.state_dict())


def test_without_pretraining_only_the_preprocessing_is_fitted(signals):
    fitted = dict(fit_branches([("s", _spectrogram_branch())], signals, np.random.RandomState(0),
                               pretrain=False))["s"]
    assert hasattr(fitted[1], "mean_") and not hasattr(fitted[-1], "encoder_")


def test_pretrained_encoder_is_loaded_with_every_weight(signals):
    parts = branch_parts("time", SelfKDPretrainer(random_state=0, **FAST).fit(signals))
    front, encoder = branch_modules(parts, 3, pretrained=True)
    assert isinstance(front, torch.nn.Identity)
    torch.testing.assert_close(encoder.state_dict(), parts.pretrainer.encoder_.state_dict())
    _, fresh = branch_modules(parts, 3, pretrained=False)
    assert fresh.state_dict().keys() == encoder.state_dict().keys()
    assert not torch.equal(fresh.stem[0][0].weight, encoder.stem[0][0].weight)


def test_spectrogram_front_end_repeats_the_fitted_steps(signals):
    branch = _spectrogram_branch(random_state=0).fit(signals)
    front, encoder = branch_modules(branch_parts("s", branch), 3, pretrained=True)
    assert isinstance(front[0], STFTMagnitude) and isinstance(front[1], StandardizeLeads)
    expected = branch[:-1].transform(signals)
    np.testing.assert_allclose(front(torch.from_numpy(signals)).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_prefit_branches_must_be_fitted_on_the_same_leads(signals):
    with pytest.raises(NotFittedError):
        check_pretrained(branch_parts("t", SelfKDPretrainer(**FAST)), 3)
    parts = branch_parts("t", SelfKDPretrainer(random_state=0, **FAST).fit(signals))
    check_pretrained(parts, 3)
    with pytest.raises(ValueError, match="pretrained on 3 leads, but X has 12"):
        check_pretrained(parts, 12)


# ContrastivePretrainer branches: tiny transformer, segments of 1 s of the 3 s records.
CONTRASTIVE = dict(size="tiny", segment_length=100, batch_size=8, max_epochs=1, codebook_entries=16,
                   n_negatives=10)


def test_contrastive_branch_parts_add_its_fitted_standardisation(signals):
    unfitted = branch_parts("time", ContrastivePretrainer(**CONTRASTIVE))
    assert unfitted.preprocessing == ()
    pretrainer = ContrastivePretrainer(random_state=0, **CONTRASTIVE).fit(signals)
    assert branch_parts("time", pretrainer).preprocessing == (pretrainer.standardizer_,)
    raw = ContrastivePretrainer(standardize=False, random_state=0, **CONTRASTIVE).fit(signals)
    assert branch_parts("time", raw).preprocessing == ()
    with pytest.raises(ValueError, match="feeds spectrograms to a ContrastivePretrainer that takes time"):
        branch_parts("s", make_pipeline(STFTSpectrogram(), ContrastivePretrainer()))


def test_contrastive_branch_modules_repeat_transform_and_load_every_weight(signals):
    pretrainer = ContrastivePretrainer(random_state=0, **CONTRASTIVE).fit(signals)
    front, encoder = branch_modules(branch_parts("time", pretrainer), 3, pretrained=True)
    assert isinstance(front[0], StandardizeLeads) and isinstance(encoder, MeanOverFrames)
    torch.testing.assert_close(encoder.state_dict(), pretrainer.encoder_.state_dict())
    x = signals[:, :, :100]  # one segment: transform embeds it as the branch does
    with torch.no_grad():
        branch = encoder.eval()(front(torch.from_numpy(x))).numpy()
    np.testing.assert_allclose(branch, pretrainer.transform(x), rtol=1e-4, atol=1e-5)
    _, fresh = branch_modules(branch_parts("time", pretrainer), 3, pretrained=False)
    assert fresh.state_dict().keys() == encoder.state_dict().keys()


@pytest.mark.parametrize("standardize", [True, False])
def test_without_pretraining_a_contrastive_branch_standardises_with_the_training_data(signals, standardize):
    branch = ContrastivePretrainer(standardize=standardize, **CONTRASTIVE)
    fitted = dict(fit_branches([("t", branch)], signals, np.random.RandomState(0), pretrain=False))["t"]
    parts = branch_parts("t", fitted)
    assert not hasattr(parts.pretrainer, "encoder_")
    if standardize:
        (scaler,) = parts.preprocessing
        np.testing.assert_allclose(scaler.mean_, signals.mean(axis=(0, 2)), rtol=1e-5, atol=1e-7)
    else:
        assert parts.preprocessing == ()
