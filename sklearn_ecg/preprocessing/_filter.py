"""Zero-phase Butterworth filtering (band-pass, or baseline removal)."""

from numbers import Integral, Real

import numpy as np
from scipy.signal import butter, sosfiltfilt
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, fit_context
from ._base import SignalTransformer, chunk_size


class BandpassFilter(SignalTransformer):
    """Zero-phase Butterworth filter of each lead.

    The filter runs forwards and backwards (``scipy.signal.sosfiltfilt``),
    so that waves are not shifted in time, on all leads of a chunk of
    records in one call. With ``high=None`` it is a high-pass filter that
    removes baseline wander; with ``low=None`` a low-pass filter.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    low : float or None, default=0.5
        Lower cut-off in Hz, or None for no high-pass part.
    high : float or None, default=45.0
        Upper cut-off in Hz, below ``fs / 2``, or None for no low-pass part.
    order : int, default=4
        Order of the Butterworth design; the forward-backward filter has
        twice this order.

    Attributes
    ----------
    sos_ : ndarray of shape (n_sections, 6)
        Second-order sections of the filter.
    n_leads_in_ : int
        Number of leads seen in ``fit``.

    Notes
    -----
    ``sosfiltfilt`` extends each signal at both ends (odd reflection) by
    ``3 * (2 * n_sections + 1)`` samples less the sections' trailing zeros.
    Signals no longer than that are extended by ``n_times - 1`` samples
    instead, which still works but makes their ends less accurate.
    Filtering is done in float64 and the result cast back to the input's
    dtype: poles near 1 (low cut-offs) are inaccurate in float32.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import BandpassFilter
    >>> t = np.arange(1000) / 100
    >>> X = np.stack([np.sin(2 * np.pi * 0.1 * t) + np.sin(2 * np.pi * 10 * t)])[:, None, :]
    >>> Xt = BandpassFilter(fs=100, low=0.5, high=45).fit_transform(X)
    >>> bool(np.abs(Xt[0, 0, 200:800] - np.sin(2 * np.pi * 10 * t[200:800])).max() < 0.05)
    True
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "low": [Interval(Real, 0, None, closed="neither"), None],
        "high": [Interval(Real, 0, None, closed="neither"), None],
        "order": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, fs, *, low=0.5, high=45.0, order=4):
        self.fs = fs
        self.low = low
        self.high = high
        self.order = order

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Design the filter and record the number of leads.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals.
        y : None
            Ignored.

        Returns
        -------
        self : BandpassFilter
        """
        nyquist = self.fs / 2
        for name, cutoff in (("low", self.low), ("high", self.high)):
            if cutoff is not None and cutoff >= nyquist:
                raise ValueError(f"{name}={cutoff} Hz must be below the Nyquist frequency fs / 2 = {nyquist} Hz.")
        if self.low is None and self.high is None:
            raise ValueError("At least one of low and high must be set.")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low={self.low} must be below high={self.high}.")
        self._check_X(X, reset=True)
        if self.high is None:
            cutoff, kind = self.low, "highpass"
        elif self.low is None:
            cutoff, kind = self.high, "lowpass"
        else:
            cutoff, kind = [self.low, self.high], "bandpass"
        self.sos_ = butter(self.order, cutoff, btype=kind, fs=self.fs, output="sos")
        return self

    def transform(self, X):
        """Filter each lead of each record.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals with the leads seen in ``fit``.

        Returns
        -------
        Xt : ndarray of the shape and dtype of ``X``
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        n_times = X.shape[-1]
        # sosfiltfilt's default extension, shortened for short signals.
        trailing_zeros = min((self.sos_[:, 2] == 0).sum(), (self.sos_[:, 5] == 0).sum())
        padlen = min(3 * (2 * len(self.sos_) + 1 - trailing_zeros), n_times - 1)
        sos = np.array(self.sos_)  # scipy needs a writable copy (an unpickled memmap is not)
        signals = X.reshape(-1, n_times)
        out = np.empty(signals.shape, dtype=X.dtype)
        step = chunk_size(n_times)
        for start in range(0, len(signals), step):
            chunk = signals[start:start + step].astype(np.float64)
            out[start:start + step] = sosfiltfilt(sos, chunk, axis=-1, padlen=padlen)
        return out.reshape(X.shape)
