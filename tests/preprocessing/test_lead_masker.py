import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ecg.leads import LEAD_NAMES, LEAD_SETS
from sklearn_ecg.preprocessing import LeadMasker

lead_subsets = st.lists(st.sampled_from(LEAD_NAMES), min_size=1, max_size=12, unique=True)


def _signals(seed=0, n_records=3, n_times=20):
    # Strictly positive, so that a zero can only come from the masker.
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=(n_records, 12, n_times)).astype(np.float32)


@settings(max_examples=30, deadline=None)
@given(leads=lead_subsets, seed=st.integers(0, 2**16))
def test_zero_mode_keeps_exactly_the_chosen_leads(leads, seed):
    X = _signals(seed)
    masker = LeadMasker(leads=leads).fit(X)
    Xt = masker.transform(X)
    kept = np.isin(LEAD_NAMES, leads)
    assert Xt.shape == X.shape
    np.testing.assert_array_equal(Xt[:, kept], X[:, kept])
    assert not Xt[:, ~kept].any()
    assert masker.lead_names_ == tuple(name for name in LEAD_NAMES if name in leads)
    np.testing.assert_array_equal(masker.transform(Xt), Xt)  # idempotent


@settings(max_examples=30, deadline=None)
@given(leads=lead_subsets, seed=st.integers(0, 2**16))
def test_drop_mode_returns_the_chosen_leads_in_standard_order(leads, seed):
    X = _signals(seed)
    Xt = LeadMasker(leads=leads, mode="drop").fit_transform(X)
    order = [i for i, name in enumerate(LEAD_NAMES) if name in leads]
    np.testing.assert_array_equal(Xt, X[:, order])


@pytest.mark.parametrize("size", sorted(LEAD_SETS))
def test_presets_are_the_challenge_lead_sets(size):
    masker = LeadMasker(leads=size).fit(_signals())
    assert masker.lead_names_ == LEAD_SETS[size]
    assert LeadMasker(leads=size, mode="drop").fit_transform(_signals()).shape[1] == size


def test_lead_names_are_case_insensitive():
    masker = LeadMasker(leads=["avr", "v6"]).fit(_signals())
    assert masker.lead_names_ == ("aVR", "V6")


@pytest.mark.parametrize("X", [np.ones((2, 50)), np.ones((2, 6, 50))], ids=["2-D", "6 leads"])
def test_input_must_have_twelve_leads(X):
    with pytest.raises(ValueError, match="12 are required"):
        LeadMasker().fit(X)


@pytest.mark.parametrize("leads, error, match", [
    (5, ValueError, "Unknown lead set"),
    (["I", "X"], ValueError, "Unknown lead name"),
    (["I", "i"], ValueError, "unique"),
    (2.5, InvalidParameterError, "leads"),
])
def test_invalid_lead_sets_are_rejected(leads, error, match):
    with pytest.raises(error, match=match):
        LeadMasker(leads=leads).fit(_signals())


def test_invalid_mode_is_rejected():
    with pytest.raises(InvalidParameterError, match="mode"):
        LeadMasker(mode="mask").fit(_signals())
