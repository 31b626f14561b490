import numpy as np
import pytest
import scipy.signal
import torch

from sklearn_ecg.preprocessing import STFTSpectrogram


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



@pytest.mark.parametrize("kwargs, error, match", [
    (dict(noverlap=25), ValueError, "noverlap"),
    (dict(nperseg=0), ValueError, "nperseg"),
    (dict(nfft=10), ValueError, "nfft"),
    (dict(window=np.ones(3)), ValueError, "window"),
    (dict(window=np.zeros(25)), ValueError, "sum"),
])
def test_invalid_settings_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        STFTSpectrogram(**kwargs).fit(np.zeros((1, 1, 50)))
    with pytest.raises(error, match=match):
        STFTSpectrogram(**kwargs).to_torch()



def test_n_frames_and_torch_module_follow_the_parameters():
    X = np.random.default_rng(3).normal(size=(2, 3, 333)).astype(np.float32)
    spectrogram = STFTSpectrogram(nperseg=30, noverlap=10, log=True)
    module = spectrogram.to_torch()  # stateless: no fit needed
    expected = spectrogram.fit_transform(X)
    assert spectrogram.n_frames(333) == expected.shape[-1] == 18  # ceil((333 + 30 - 30) / 20) + 1
    np.testing.assert_allclose(module(torch.from_numpy(X)).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert STFTSpectrogram().n_frames(250) == 21  # the paper's 2.5 s window at 100 Hz
