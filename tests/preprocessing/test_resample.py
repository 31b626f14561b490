import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ecg.preprocessing import Resampler

RATES = [(500, 100), (100, 500), (257, 100), (360, 100), (1000, 257), (100, 150), (44.1, 16), (100, 100)]


@pytest.mark.parametrize("fs_in, fs_out", RATES)
@pytest.mark.parametrize("n_times", [1, 2, 7, 61, 1000])
def test_matches_scipy_resample_poly(fs_in, fs_out, n_times):
    X = np.random.default_rng(n_times).normal(size=(3, 2, n_times))
    resampler = Resampler(fs_in, fs_out).fit(X)
    expected = resample_poly(X, resampler.up_, resampler.down_, axis=-1)
    np.testing.assert_allclose(resampler.transform(X), expected, rtol=1e-9, atol=1e-12)
    Xt32 = resampler.transform(X.astype(np.float32))
    assert Xt32.dtype == np.float32
    np.testing.assert_allclose(Xt32, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("fs_in, fs_out, up, down", [
    (500, 100, 1, 5), (100, 500, 5, 1), (257, 100, 100, 257), (44.1, 16, 160, 441), (250.0, 100.0, 2, 5),
])
def test_factors_are_the_reduced_rate_ratio(fs_in, fs_out, up, down):
    resampler = Resampler(fs_in, fs_out).fit(np.zeros((1, 1, 4)))
    assert (resampler.up_, resampler.down_) == (up, down)


@pytest.mark.parametrize("fs_in, fs_out, error", [
    (0, 100, InvalidParameterError), (500, -1, InvalidParameterError), (np.inf, 100, ValueError),
])
def test_invalid_rates_are_rejected(fs_in, fs_out, error):
    with pytest.raises(error, match="fs_"):
        Resampler(fs_in, fs_out).fit(np.zeros((1, 1, 4)))


@settings(max_examples=25, deadline=None)
@given(fs=st.sampled_from([50, 100, 257, 500.5]), n_times=st.integers(1, 300), seed=st.integers(0, 2**16))
def test_equal_rates_are_the_identity(fs, n_times, seed):
    X = np.random.default_rng(seed).normal(size=(2, 3, n_times)).astype(np.float32)
    Xt = Resampler(fs, fs).fit_transform(X)
    np.testing.assert_array_equal(Xt, X)
    assert not np.shares_memory(Xt, X)


@settings(max_examples=25, deadline=None)
@given(rates=st.sampled_from(RATES), n_times=st.integers(1, 400))
def test_output_length_is_ceil_of_scaled_length(rates, n_times):
    resampler = Resampler(*rates).fit(np.zeros((1, 1, 1)))
    Xt = resampler.transform(np.zeros((2, 1, n_times)))
    assert Xt.shape == (2, 1, int(np.ceil(n_times * resampler.up_ / resampler.down_)))


@settings(max_examples=20, deadline=None)
@given(
    rates=st.sampled_from(RATES), n_times=st.integers(1, 300), seed=st.integers(0, 2**16),
    a=st.floats(-10, 10), b=st.floats(-10, 10),
)
def test_resampling_is_linear(rates, n_times, seed, a, b):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, 2, 1, n_times))
    resampler = Resampler(*rates).fit(x)
    np.testing.assert_allclose(
        resampler.transform(a * x + b * y),
        a * resampler.transform(x) + b * resampler.transform(y),
        atol=1e-9 * (1 + abs(a) + abs(b)),
    )


@settings(max_examples=20, deadline=None)
@given(
    rates=st.sampled_from([(500, 100), (100, 500), (257, 100), (360, 128), (100, 250)]),
    relative_frequency=st.floats(0.05, 0.4),
    phase=st.floats(0, 2 * np.pi),
)
def test_sine_keeps_its_frequency(rates, relative_frequency, phase):
    fs_in, fs_out = rates
    frequency = relative_frequency * min(fs_in, fs_out)  # below both Nyquist frequencies
    t = np.arange(int(10 * fs_in)) / fs_in
    X = np.sin(2 * np.pi * frequency * t + phase)[None, None].astype(np.float32)
    Xt = Resampler(fs_in, fs_out).fit_transform(X)[0, 0]
    spectrum = np.abs(np.fft.rfft(Xt * np.hanning(len(Xt))))
    peak = np.fft.rfftfreq(len(Xt), 1 / fs_out)[np.argmax(spectrum)]
    assert abs(peak - frequency) <= 1.5 * fs_out / len(Xt)  # within ~one FFT bin


def test_long_batch_is_resampled_in_chunks_like_one_call():
    # More values than one chunk holds, so transform loops over chunks.
    X = np.random.default_rng(1).normal(size=(40, 12, 5000)).astype(np.float32)
    Xt = Resampler(500, 100).fit_transform(X)
    np.testing.assert_allclose(Xt, resample_poly(X, 1, 5, axis=-1), atol=1e-5)
