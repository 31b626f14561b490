"""scikit-learn API checks and input-safety contracts shared by all signal transformers."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ecg.preprocessing import (
    BandpassFilter,
    LeadMasker,
    LeadStandardizer,
    Resampler,
    STFTSpectrogram,
    WindowCropper,
)

TRANSFORMERS = [
    Resampler(fs_in=500, fs_out=100),
    Resampler(fs_in=100, fs_out=250),
    LeadMasker(leads=3),
    LeadMasker(leads=["V1", "I"], mode="drop"),
    STFTSpectrogram(),
    STFTSpectrogram(nperseg=8, noverlap=4, nfft=100, log=True),
    LeadStandardizer(),
    LeadStandardizer(common_scale=True),
    BandpassFilter(fs=100),
    BandpassFilter(fs=500, low=0.5, high=None),
    WindowCropper(window=5, position="center"),
]

_FREE_LENGTH = (
    "records of any length are accepted: the time axis (the 'features' of 2-D input) has no "
    "fixed size; the lead count is checked instead (n_leads_in_)"
)
_FREE_LENGTH_CHECKS = ("check_n_features_in", "check_n_features_in_after_fitting", "check_transformer_general")
# Every check that fits on 2-D data, which is a single lead.
_TWELVE_LEAD_CHECKS = (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_positive_only_tag_during_fit",
    "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency", "check_estimators_nan_inf",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array",
    "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_fit2d_predict1d",
)


def _expected_failed_checks(estimator):
    failures = dict.fromkeys(_FREE_LENGTH_CHECKS, _FREE_LENGTH)
    if isinstance(estimator, LeadMasker):
        failures.update(dict.fromkeys(
            _TWELVE_LEAD_CHECKS,
            "LeadMasker needs the 12 standard leads; 2-D input (one lead) is rejected by design "
            "(the same contracts are tested on 12-lead input below)",
        ))
    return failures


# One instance per class keeps the run short; the variants above are
# covered by the contract tests below.
@parametrize_with_checks(
    [Resampler(fs_in=500, fs_out=100), LeadMasker(leads=3), STFTSpectrogram(), LeadStandardizer(),
     BandpassFilter(fs=100), WindowCropper(window=5, position="center")],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def signals():
    return np.random.default_rng(0).normal(size=(5, 12, 300)).astype(np.float32)


def _fit_transform(transformer, X):
    return clone(transformer).fit(X).transform(X)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
def test_read_only_input_is_accepted_and_untouched(transformer, signals, tmp_path):
    expected = _fit_transform(transformer, signals)
    read_only = signals.copy()
    read_only.setflags(write=False)
    path = tmp_path / "signals.dat"
    memmap = np.memmap(path, dtype=signals.dtype, mode="w+", shape=signals.shape)
    memmap[:] = signals
    memmap.flush()
    del memmap
    memmap = np.memmap(path, dtype=signals.dtype, mode="r", shape=signals.shape)
    for X in (read_only, memmap):
        Xt = _fit_transform(transformer, X)
        np.testing.assert_array_equal(Xt, expected)
        np.testing.assert_array_equal(X, signals)
        assert not np.shares_memory(Xt, X)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_and_fit_transform_matches(transformer, signals, dtype):
    X = signals.astype(dtype)
    Xt = clone(transformer).fit_transform(X)
    assert Xt.dtype == dtype
    np.testing.assert_array_equal(Xt, _fit_transform(transformer, X))


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_values_are_rejected(transformer, signals, bad, message):
    X = signals.copy()
    X[1, 2, 3] = bad
    with pytest.raises(ValueError, match=message):
        clone(transformer).fit(X)
    fitted = clone(transformer).fit(signals)
    with pytest.raises(ValueError, match=message):
        fitted.transform(X)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
def test_lead_count_must_match_fit(transformer, signals):
    fitted = clone(transformer).fit(signals)
    with pytest.raises(ValueError, match="leads"):
        fitted.transform(signals[:, :6])


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
def test_clone_and_pickle_round_trip(transformer, signals):
    fitted = clone(transformer).fit(signals)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(signals), fitted.transform(signals))
    assert clone(fitted).get_params() == transformer.get_params()


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
def test_tags_declare_three_d_input(transformer):
    tags = transformer.__sklearn_tags__()
    assert tags.input_tags.three_d_array and tags.input_tags.two_d_array
    assert set(tags.transformer_tags.preserves_dtype) == {"float32", "float64"}


def test_pipeline_set_output_pandas_keeps_signal_arrays():
    from sklearn.pipeline import make_pipeline

    from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram

    X = np.random.default_rng(0).normal(size=(4, 12, 100)).astype(np.float32)
    pipe = make_pipeline(LeadStandardizer(), STFTSpectrogram()).set_output(transform="pandas")
    out = pipe.fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape[:2] == (4, 12)
