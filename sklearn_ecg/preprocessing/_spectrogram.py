"""Short-time Fourier transform magnitudes of batches of signals."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, fit_context
from ..nn import STFTMagnitude
from ..nn.functional import padded_stft_magnitude, stft_hop_and_nfft, stft_n_frames, stft_padding, stft_window
from ._base import SignalTransformer, as_tensor, chunk_size


class STFTSpectrogram(SignalTransformer):
    """Short-time Fourier transform magnitude of each lead.

    The defaults give the spectrograms of Phan et al. (2022):
    ``abs(scipy.signal.stft(x, fs=100, window="hann", nperseg=25)[2])``,
    12 leads x 13 frequencies (0-48 Hz) x 21 frames for a 2.5 s window at
    100 Hz. The values are those of ``scipy.signal.stft`` (zero padding of
    ``nperseg // 2`` at both ends, last segment completed with zeros,
    spectrum scaled by ``1 / sum(window)``) but computed for the whole batch
    in torch (see :func:`~sklearn_ecg.nn.functional.stft_magnitude`). Its
    torch counterpart, :meth:`to_torch`, computes the same on random crops
    inside the fused network during training.

    The defaults of this class are the one definition of the paper's STFT
    settings in sklearn-ecg; the torch module and function take every option
    explicitly.

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
    sklearn_ecg.nn.functional.stft_magnitude : The same transform of a torch tensor.
    LeadStandardizer : Per-lead normalisation of the spectrograms.

    Notes
    -----
    A record of ``n_times`` samples gives ``ceil((n_times + 2 * (nperseg //
    2) - nperseg) / hop) + 1`` frames (:meth:`n_frames`), hop being
    ``nperseg - noverlap``.

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
    >>> spec.n_frames(250)
    21
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

    def __init__(self, *, fs=100, nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6):
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
        _, nfft = stft_hop_and_nfft(self.nperseg, self.noverlap, self.nfft)
        stft_window(self.window, self.nperseg)
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
        hop, nfft = stft_hop_and_nfft(self.nperseg, self.noverlap, self.nfft)
        window = stft_window(self.window, self.nperseg)
        n_records, n_leads, n_times = X.shape
        left, right = stft_padding(n_times, self.nperseg, hop)
        n_frames = stft_n_frames(n_times, self.nperseg, hop)
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
                magnitude = padded_stft_magnitude(padded[:len(signals)], window, nfft, hop, out=flat_out[rows])
                if self.log:
                    magnitude.add_(self.eps).log_()
        return out

    def n_frames(self, n_times):
        """Number of frames of the spectrogram of a record of ``n_times`` samples.

        Depends on the parameters only, so it may be called before ``fit``,
        e.g. to give a spectrogram encoder the window of a signal window.

        Parameters
        ----------
        n_times : int
            Samples of the record.

        Returns
        -------
        n_frames : int
        """
        hop, _ = stft_hop_and_nfft(self.nperseg, self.noverlap, self.nfft)
        return stft_n_frames(n_times, self.nperseg, hop)

    def to_torch(self):
        """The torch module computing this transform, for use inside a network.

        It depends on the parameters only, so it may be built before
        ``fit``. Applied to a tensor of signals ``(batch, leads, times)`` it
        gives what :meth:`transform` gives for the same records, on the
        tensor's device and differentiably.

        Returns
        -------
        module : :class:`~sklearn_ecg.nn.STFTMagnitude`
        """
        return STFTMagnitude(
            nperseg=self.nperseg, noverlap=self.noverlap, nfft=self.nfft, window=self.window, log=self.log,
            eps=self.eps,
        )
