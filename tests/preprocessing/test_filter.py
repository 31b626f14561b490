import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ecg.preprocessing import BandpassFilter


def _sine(frequency, fs, seconds=60):
    return np.sin(2 * np.pi * frequency * np.arange(int(seconds * fs)) / fs)


def test_matches_scipy_sosfiltfilt_per_record():
    X = np.random.default_rng(0).normal(size=(4, 3, 1000))
    Xt = BandpassFilter(fs=500, low=0.5, high=40, order=3).fit_transform(X)
    sos = butter(3, [0.5, 40], btype="bandpass", fs=500, output="sos")
    np.testing.assert_allclose(Xt, np.stack([sosfiltfilt(sos, record, axis=-1) for record in X]), atol=1e-12)


@pytest.mark.parametrize("low, high, kept, removed", [
    (0.5, 45, 10, [0.05, 49]),
    (0.5, None, 20, [0.05]),  # baseline removal
    (None, 30, 5, [45]),
])
def test_passband_is_kept_and_stopband_removed(low, high, kept, removed):
    fs = 100
    signal = _sine(kept, fs) + sum(_sine(frequency, fs) for frequency in removed)
    Xt = BandpassFilter(fs=fs, low=low, high=high).fit_transform(signal[None, None].astype(np.float32))
    middle = slice(2000, 4000)  # far from the edge transients of a 0.5 Hz high-pass
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(Xt[0, 0, middle], _sine(kept, fs)[middle], atol=0.05)


def test_zero_phase_keeps_peaks_in_place():
    fs = 500
    x = np.zeros(2000)
    x[[500, 1200]] = 1.0
    Xt = BandpassFilter(fs=fs, low=0.5, high=40).fit_transform(x[None, None])
    assert {int(i) for i in np.argsort(Xt[0, 0])[-2:]} == {500, 1200}


@pytest.mark.parametrize("n_times", [1, 2, 5, 20])
def test_short_signals_use_a_shorter_extension(n_times):
    X = np.random.default_rng(n_times).normal(size=(2, 12, n_times))
    Xt = BandpassFilter(fs=100).fit_transform(X)
    sos = butter(4, [0.5, 45], btype="bandpass", fs=100, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), n_times - 1)
    np.testing.assert_allclose(Xt, sosfiltfilt(sos, X, axis=-1, padlen=padlen), atol=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(low=0.5, high=50), ValueError, "Nyquist"),
    (dict(low=60, high=None), ValueError, "Nyquist"),
    (dict(low=20, high=10), ValueError, "below high"),
    (dict(low=None, high=None), ValueError, "At least one"),
    (dict(low=-1), InvalidParameterError, "low"),
    (dict(order=0), InvalidParameterError, "order"),
])
def test_invalid_settings_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        BandpassFilter(fs=100, **kwargs).fit(np.zeros((1, 1, 100)))
