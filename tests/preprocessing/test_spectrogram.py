import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.preprocessing import STFTSpectrogram, stft_magnitude


def test_defaults_reproduce_the_paper_spectrograms():
    # METHODS.md: scipy.signal.stft(x, fs=100, window="hann", nperseg=25),
    # magnitude, 12 leads x 13 frequencies (0-48 Hz) x 21 frames per 2.5 s.
    X = np.random.default_rng(0).normal(size=(3, 12, 250)).astype(np.float32)
    frequencies, _, Z = scipy.signal.stft(X, fs=100, window="hann", nperseg=25)
    spectrogram = STFTSpectrogram().fit(X)
    Xt = spectrogram.transform(X)
    assert Xt.shape == (3, 12, 13, 21) and Xt.dtype == np.float32
    np.testing.assert_allclose(Xt, np.abs(Z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(spectrogram.frequencies_, frequencies)
    assert spectrogram.frequencies_[-1] == 48


@pytest.mark.parametrize("nperseg, noverlap, nfft, window", [
    (25, 12, None, "hann"),
    (25, None, 40, "hann"),  # zero-padded segments, DFT-convolution path
    (64, 48, 128, "hamming"),  # FFT path
    (20, 0, None, ("tukey", 0.3)),
    (7, 6, None, "boxcar"),
    (30, 10, None, np.linspace(0.5, 1.5, 30)),  # explicit window values
])
@pytest.mark.parametrize("n_times", [64, 333])
def test_matches_scipy_stft(nperseg, noverlap, nfft, window, n_times):
    X = np.random.default_rng(n_times).normal(size=(2, 3, n_times))
    _, _, Z = scipy.signal.stft(X, fs=250, window=window, nperseg=nperseg, noverlap=noverlap, nfft=nfft)
    Xt = STFTSpectrogram(fs=250, nperseg=nperseg, noverlap=noverlap, nfft=nfft, window=window).fit_transform(X)
    np.testing.assert_allclose(Xt, np.abs(Z), rtol=1e-9, atol=1e-12)


def test_log_scaling():
    X = np.random.default_rng(1).normal(size=(2, 1, 100))
    magnitude = STFTSpectrogram().fit_transform(X)
    logged = STFTSpectrogram(log=True, eps=1e-3).fit_transform(X)
    np.testing.assert_allclose(logged, np.log(magnitude + 1e-3))


def test_short_records_keep_the_segment_length():
    # scipy would shorten nperseg to the record; the frequency grid stays.
    Xt = STFTSpectrogram().fit_transform(np.ones((2, 12, 3)))
    assert Xt.shape == (2, 12, 13, 2)  # 3 + 2 * 12 padded samples: 2 frames of hop 13


@settings(max_examples=30, deadline=None)
@given(
    n_times=st.integers(1, 400), nperseg=st.integers(1, 48), overlap=st.floats(0, 0.95),
    extra_fft=st.sampled_from([0, 3, 40]),
)
def test_shape_follows_the_frame_formula(n_times, nperseg, overlap, extra_fft):
    noverlap = min(int(overlap * nperseg), nperseg - 1)
    nfft = nperseg + extra_fft
    x = torch.zeros(2, 3, n_times)
    hop = nperseg - noverlap
    n_frames = int(np.ceil((n_times + 2 * (nperseg // 2) - nperseg) / hop)) + 1
    assert stft_magnitude(x, nperseg=nperseg, noverlap=noverlap, nfft=nfft).shape == (2, 3, nfft // 2 + 1, n_frames)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), a=st.floats(-100, 100), n_times=st.integers(1, 300))
def test_magnitude_is_non_negative_and_absolutely_homogeneous(seed, a, n_times):
    x = torch.as_tensor(np.random.default_rng(seed).normal(size=(2, 2, n_times)))
    magnitude = stft_magnitude(x)
    assert (magnitude >= 0).all()
    torch.testing.assert_close(stft_magnitude(a * x), abs(a) * magnitude, rtol=1e-9, atol=1e-12)


def test_function_matches_transformer():
    X = np.random.default_rng(2).normal(size=(4, 12, 250)).astype(np.float32)
    options = dict(nperseg=16, noverlap=8, nfft=32, window="hamming", log=True, eps=1e-4)
    np.testing.assert_array_equal(
        STFTSpectrogram(**options).fit_transform(X), stft_magnitude(torch.from_numpy(X), **options).numpy()
    )


@pytest.mark.parametrize("nfft", [None, 128])
def test_gradient_is_finite_through_zero_spectra(nfft):
    # A zeroed lead (random lead masking) has magnitude 0 everywhere.
    x = torch.randn(2, 3, 60, dtype=torch.float64)
    x[:, 1] = 0
    x.requires_grad_(True)
    stft_magnitude(x, nfft=nfft).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.autograd.gradcheck(lambda v: stft_magnitude(v, nfft=nfft), (torch.randn(1, 1, 30, dtype=torch.float64,
                                                                                        requires_grad=True),))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(noverlap=25), ValueError, "noverlap"),
    (dict(nperseg=0), ValueError, "nperseg"),
    (dict(nfft=10), ValueError, "nfft"),
    (dict(window=np.ones(3)), ValueError, "window"),
    (dict(window=np.zeros(25)), ValueError, "sum"),
])
def test_invalid_settings_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        stft_magnitude(torch.zeros(1, 1, 50), **kwargs)
    with pytest.raises(error, match=match):
        STFTSpectrogram(**kwargs).fit(np.zeros((1, 1, 50)))


def test_non_float_tensors_are_rejected():
    with pytest.raises(TypeError, match="floating point"):
        stft_magnitude(torch.zeros(1, 1, 50, dtype=torch.int64))
    with pytest.raises(TypeError, match="floating point"):
        stft_magnitude(np.zeros((1, 1, 50)))
