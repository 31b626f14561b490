"""Per-lead z-scoring of signals or spectrograms with training-set statistics."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import fit_context
from ..nn import StandardizeLeads
from ._base import SignalTransformer, chunk_size


class LeadStandardizer(SignalTransformer):
    """Standardize each lead with a mean and scale learned in ``fit``.

    Statistics are taken per lead over all records and all other axes (time,
    or frequency and frame for spectrograms), so that the relative size of
    frequencies and the shape of each record are kept; only the offset and
    the overall gain of each lead are normalised.

    Parameters
    ----------
    common_scale : bool, default=False
        Divide every lead by one common standard deviation (that of all
        values once each lead's mean is removed) instead of its own. With a
        per-lead mean, this is the spectrogram normalisation of Phan et al.
        (2022); it keeps the relative amplitude of the leads.
    keep_absent_leads : bool, default=True
        Leave a lead that is zero throughout a record at zero in
        ``transform``. A real lead is never exactly zero for a whole record;
        an all-zero lead is a lead that was not recorded (or was removed by
        :class:`LeadMasker`), the layout a lead-agnostic model is trained on
        with random lead masking. Standardising it would turn it into a
        constant ``-mean / scale`` that the model has never seen as
        "absent". False standardises every lead alike (then
        ``inverse_transform`` is an exact inverse).

    Attributes
    ----------
    mean_ : ndarray of shape (n_leads,)
        Mean of each lead, float64.
    scale_ : ndarray of shape (n_leads,)
        Standard deviation each lead is divided by (all equal with
        ``common_scale=True``); 1 where it is zero, so that constant leads
        (e.g. absent leads) stay finite.
    n_leads_in_ : int
        Number of leads seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import LeadStandardizer
    >>> X = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 12, 100))
    >>> scaler = LeadStandardizer().fit(X)
    >>> scaler.mean_.shape, scaler.scale_.shape
    ((12,), (12,))
    >>> Xt = scaler.transform(X)
    >>> bool(np.allclose(Xt.mean(axis=(0, 2)), 0) and np.allclose(Xt.std(axis=(0, 2)), 1))
    True
    >>> spectrograms = np.abs(X).reshape(50, 12, 10, 10)
    >>> LeadStandardizer(common_scale=True).fit_transform(spectrograms).shape
    (50, 12, 10, 10)
    """

    _parameter_constraints = {"common_scale": ["boolean"], "keep_absent_leads": ["boolean"]}
    _input_ndim = None  # signals or spectrograms

    def __init__(self, *, common_scale=False, keep_absent_leads=True):
        self.common_scale = common_scale
        self.keep_absent_leads = keep_absent_leads

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the mean and standard deviation of each lead.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_leads, n_freqs, n_frames)
            Training signals or spectrograms; 2-D input is one lead.
        y : None
            Ignored.

        Returns
        -------
        self : LeadStandardizer
        """
        X = self._check_X(X, reset=True)
        axes = (0,) + tuple(range(2, X.ndim))
        self.mean_ = X.mean(axis=axes, dtype=np.float64)
        # The squares in chunks of records: a float64 copy of all of X at
        # once could be twice the size of the data.
        squares = np.zeros(X.shape[1])
        centre = self.mean_.reshape((1, -1) + (1,) * (X.ndim - 2))
        step = chunk_size(X[0].size)
        for start in range(0, X.shape[0], step):
            squares += np.square(X[start:start + step] - centre).sum(axis=axes)
        variance = squares / (X.size // X.shape[1])
        if self.common_scale:
            variance = np.full_like(variance, variance.mean())
        scale = np.sqrt(variance)
        # Constant leads (zero variance, up to rounding) are only centred.
        scale[scale <= 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(self.mean_))] = 1.0
        self.scale_ = scale
        return self

    def transform(self, X):
        """Subtract each lead's mean and divide by its scale.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_leads, n_freqs, n_frames)
            Signals or spectrograms with the leads seen in ``fit``.

        Returns
        -------
        Xt : ndarray of the shape and dtype of ``X``
            All-zero leads of a record stay zero with ``keep_absent_leads``.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        mean, scale = self._broadcast(X)
        Xt = X - mean
        Xt /= scale  # in place on the new array: one pass less over the data
        if self.keep_absent_leads:
            absent = ~X.reshape(X.shape[:2] + (-1,)).any(axis=-1)
            Xt[absent] = 0
        return Xt

    def inverse_transform(self, X):
        """Undo :meth:`transform`: multiply by the scale and add the mean.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, ...)
            Standardized signals or spectrograms.

        Returns
        -------
        X_original : ndarray of the shape and dtype of ``X``
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        mean, scale = self._broadcast(X)
        X_original = X * scale
        X_original += mean
        return X_original

    def to_torch(self):
        """The torch module standardising tensors with the fitted statistics, for use inside a network.

        Applied to a tensor ``(batch, leads, ...)`` it subtracts ``mean_``
        and divides by ``scale_`` per lead, on the tensor's device. Unlike
        :meth:`transform`, it standardises all-zero leads too
        (``keep_absent_leads`` does not apply): in the fused network, lead
        masking zeroes leads of the raw crop, before this step.

        Returns
        -------
        module : :class:`~sklearn_ecg.nn.StandardizeLeads`
        """
        check_is_fitted(self)
        return StandardizeLeads(self.mean_, self.scale_)

    def _broadcast(self, X):
        """Mean and scale in the dtype of ``X``, shaped to broadcast over it."""
        shape = (1, -1) + (1,) * (X.ndim - 2)
        return self.mean_.astype(X.dtype).reshape(shape), self.scale_.astype(X.dtype).reshape(shape)
