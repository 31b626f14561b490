"""Short-time Fourier transform magnitudes of batches of signals."""

from numbers import Integral, Real

import numpy as np
import torch
from scipy.signal import get_window
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, fit_context
from ._base import SignalTransformer, as_tensor, chunk_size

# Up to this FFT length the transform is one strided convolution with the
# cosine and sine rows of the DFT (a few small matrix products, far faster
# than many tiny FFTs); longer segments use torch's FFT.
_MAX_DFT_CONV_NFFT = 64


def stft_magnitude(x, *, nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6):
    """STFT magnitude of a batch of signals, in torch.

    The values of ``abs(scipy.signal.stft(x, window=window, nperseg=nperseg,
    noverlap=noverlap, nfft=nfft)[2])`` (its defaults: segments padded with
    ``nperseg // 2`` zeros at both ends, zeros appended so that the last
    segment is full, one-sided spectrum scaled by ``1 / sum(window)``),
    computed on the device of ``x`` and differentiable with respect to it.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_leads, n_times)
        Real signals; any leading dimensions are kept.
    nperseg : int, default=25
        Samples per segment.
    noverlap : int or None, default=12
        Samples shared by consecutive segments; the hop is
        ``nperseg - noverlap``. None means ``nperseg // 2``.
    nfft : int or None, default=None
        FFT length, at least ``nperseg`` (segments are zero-padded). None
        means ``nperseg``.
    window : str, tuple or array-like, default="hann"
        A window for ``scipy.signal.get_window`` (periodic, as in
        ``scipy.signal.stft``) or ``nperseg`` window values.
    log : bool, default=False
        Return ``log(magnitude + eps)``.
    eps : float, default=1e-6
        Offset of the logarithm.

    Returns
    -------
    magnitude : torch.Tensor of shape (batch, n_leads, n_freqs, n_frames)
        ``n_freqs = nfft // 2 + 1`` and ``n_frames = ceil((n_times +
        2 * (nperseg // 2) - nperseg) / hop) + 1``; the dtype of ``x``.

    Notes
    -----
    For signals shorter than ``nperseg``, ``scipy.signal.stft`` shortens
    the segment to the signal; this function keeps ``nperseg`` and pads
    with zeros, so that all outputs share one frequency grid.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.preprocessing import stft_magnitude
    >>> stft_magnitude(torch.zeros(8, 12, 250)).shape
    torch.Size([8, 12, 13, 21])
    """
    hop, nfft = _segment_params(nperseg, noverlap, nfft)
    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        raise TypeError(f"x must be a floating point torch.Tensor, got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}.")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"x must have at least one sample along its last axis, got shape {tuple(x.shape)}.")
    left, right = _padding(x.shape[-1], nperseg, hop)
    signals = torch.nn.functional.pad(x.reshape(-1, x.shape[-1]), (left, right))
    magnitude = _padded_magnitude(signals, _window_values(window, nperseg), nfft, hop)
    if log:
        magnitude = torch.log(magnitude + eps)
    return magnitude.reshape(x.shape[:-1] + magnitude.shape[-2:])


def _padding(n_times, nperseg, hop):
    """Zeros before and after a signal: scipy's boundary="zeros" and padded=True."""
    length = n_times + 2 * (nperseg // 2)
    return nperseg // 2, nperseg // 2 + (-(length - nperseg) % hop)


def _padded_magnitude(signals, win, nfft, hop, out=None):
    """|STFT| of padded signals (n, n_padded) as (n, n_freqs, n_frames), into ``out`` if given."""
    if nfft > _MAX_DFT_CONV_NFFT:
        frames = signals.unfold(-1, len(win), hop) * torch.as_tensor(win, dtype=signals.dtype, device=signals.device)
        magnitude = (torch.fft.rfft(frames, n=nfft) / win.sum()).abs().transpose(-1, -2)
        return magnitude if out is None else out.copy_(magnitude)
    # One strided convolution with the cosine and sine rows of the DFT.
    n_freqs = nfft // 2 + 1
    angle = 2 * np.pi * np.outer(np.arange(n_freqs), np.arange(len(win))) / nfft
    basis = np.concatenate([np.cos(angle), -np.sin(angle)]) * (win / win.sum())
    basis = torch.as_tensor(basis[:, None, :], dtype=signals.dtype, device=signals.device)
    parts = torch.nn.functional.conv1d(signals[:, None, :], basis, stride=hop)
    real, imag = parts[:, :n_freqs], parts[:, n_freqs:]
    if parts.requires_grad:
        # hypot's gradient is NaN where both parts are 0 (zero-padded or
        # masked leads); the complex modulus has gradient 0 there.
        return torch.complex(real, imag).abs()
    return torch.hypot(real, imag, out=out)


def _segment_params(nperseg, noverlap, nfft):
    """Validated hop and FFT length."""
    if not isinstance(nperseg, Integral) or nperseg < 1:
        raise ValueError(f"nperseg must be a positive integer, got {nperseg!r}.")
    noverlap = nperseg // 2 if noverlap is None else noverlap
    if not isinstance(noverlap, Integral) or not 0 <= noverlap < nperseg:
        raise ValueError(f"noverlap must be an integer in [0, nperseg={nperseg}), got {noverlap!r}.")
    nfft = nperseg if nfft is None else nfft
    if not isinstance(nfft, Integral) or nfft < nperseg:
        raise ValueError(f"nfft must be an integer >= nperseg={nperseg}, got {nfft!r}.")
    return int(nperseg - noverlap), int(nfft)


def _window_values(window, nperseg):
    """The window as a float64 ndarray of ``nperseg`` values."""
    if isinstance(window, (str, tuple)):
        return get_window(window, nperseg)
    values = np.asarray(window.detach().cpu() if isinstance(window, torch.Tensor) else window, dtype=np.float64)
    if values.shape != (nperseg,) or not np.all(np.isfinite(values)):
        raise ValueError(f"window must be a name or {nperseg} finite values, got shape {values.shape}.")
    if values.sum() == 0:
        raise ValueError("window values must not sum to zero (the spectrum is scaled by 1 / sum(window)).")
    return values


class STFTSpectrogram(SignalTransformer):
    """Short-time Fourier transform magnitude of each lead.

    The defaults give the spectrograms of Phan et al. (2022):
    ``abs(scipy.signal.stft(x, fs=100, window="hann", nperseg=25)[2])``,
    12 leads x 13 frequencies (0-48 Hz) x 21 frames for a 2.5 s window at
    100 Hz. The values are those of ``scipy.signal.stft`` (zero padding of
    ``nperseg // 2`` at both ends, last segment completed with zeros,
    spectrum scaled by ``1 / sum(window)``) but computed for the whole batch
    in torch (see :func:`stft_magnitude`, which the estimators also use on
    random crops during training).

    Parameters
    ----------
    fs : float, default=100
        Sampling rate in Hz; sets ``frequencies_``.
    nperseg : int, default=25
        Samples per segment.
    noverlap : int or None, default=12
        Samples shared by consecutive segments (None: ``nperseg // 2``).
    nfft : int or None, default=None
        FFT length, at least ``nperseg`` (None: ``nperseg``).
    window : str, tuple or array-like, default="hann"
        Window name for ``scipy.signal.get_window`` or ``nperseg`` values.
    log : bool, default=False
        Return ``log(magnitude + eps)``.
    eps : float, default=1e-6
        Offset of the logarithm.

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_freqs,)
        Frequency of each row, in Hz.
    n_leads_in_ : int
        Number of leads seen in ``fit``.

    See Also
    --------
    stft_magnitude : The same transform of a torch tensor.
    LeadStandardizer : Per-lead normalisation of the spectrograms.

    Notes
    -----
    A record of ``n_times`` samples gives ``ceil((n_times + 2 * (nperseg //
    2) - nperseg) / hop) + 1`` frames, hop being ``nperseg - noverlap``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import STFTSpectrogram
    >>> X = np.random.default_rng(0).normal(size=(4, 12, 250)).astype(np.float32)
    >>> spec = STFTSpectrogram().fit(X)
    >>> spec.transform(X).shape
    (4, 12, 13, 21)
    >>> spec.frequencies_[[0, 1, -1]]
    array([ 0.,  4., 48.])
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "nperseg": [Interval(Integral, 1, None, closed="left")],
        "noverlap": [Interval(Integral, 0, None, closed="left"), None],
        "nfft": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str, tuple, "array-like"],
        "log": ["boolean"],
        "eps": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, fs=100, nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6):
        self.fs = fs
        self.nperseg = nperseg
        self.noverlap = noverlap
        self.nfft = nfft
        self.window = window
        self.log = log
        self.eps = eps

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and record the number of leads.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals.
        y : None
            Ignored.

        Returns
        -------
        self : STFTSpectrogram
        """
        _, nfft = _segment_params(self.nperseg, self.noverlap, self.nfft)
        _window_values(self.window, self.nperseg)
        self._check_X(X, reset=True)
        self.frequencies_ = np.fft.rfftfreq(nfft, d=1.0 / self.fs)
        return self

    def transform(self, X):
        """STFT magnitude of each lead of each record.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals with the leads seen in ``fit``, of any length.

        Returns
        -------
        Xt : ndarray of shape (n_records, n_leads, n_freqs, n_frames)
            Magnitudes (or their logarithm), of the dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        hop, nfft = _segment_params(self.nperseg, self.noverlap, self.nfft)
        win = _window_values(self.window, self.nperseg)
        n_records, n_leads, n_times = X.shape
        left, right = _padding(n_times, self.nperseg, hop)
        n_frames = (left + n_times + right - self.nperseg) // hop + 1
        out = np.empty((n_records, n_leads, nfft // 2 + 1, n_frames), dtype=X.dtype)
        # Results go straight into `out` and the zero-padded signals into one
        # reused buffer: fewer passes over memory, no fresh pages per chunk.
        flat_out = torch.from_numpy(out).view(n_records * n_leads, nfft // 2 + 1, n_frames)
        step = chunk_size(n_leads * n_times)
        padded = torch.zeros((min(step, n_records) * n_leads, left + n_times + right), dtype=flat_out.dtype)
        with torch.inference_mode():
            for start in range(0, n_records, step):
                signals = as_tensor(X[start:start + step]).reshape(-1, n_times)
                rows = slice(start * n_leads, start * n_leads + len(signals))
                padded[:len(signals), left:left + n_times] = signals
                magnitude = _padded_magnitude(padded[:len(signals)], win, nfft, hop, out=flat_out[rows])
                if self.log:
                    magnitude.add_(self.eps).log_()
        return out
