"""Crop or pad records to a fixed number of samples."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, StrOptions, fit_context
from ._base import SignalTransformer


class WindowCropper(SignalTransformer):
    """Crop or zero-pad every record to a fixed number of samples.

    Parameters
    ----------
    window : int
        Samples per output record.
    position : {"start", "center"}, default="start"
        Where the kept stretch lies in a longer record: its first ``window``
        samples, or the middle ones (the extra sample of an odd difference
        goes to the end). A shorter record is padded with zeros at the end,
        or equally at both ends.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import WindowCropper
    >>> X = np.arange(6, dtype=np.float32).reshape(1, 1, 6)
    >>> WindowCropper(4, position="center").fit_transform(X)
    array([[[1., 2., 3., 4.]]], dtype=float32)
    >>> WindowCropper(8).fit_transform(X)
    array([[[0., 1., 2., 3., 4., 5., 0., 0.]]], dtype=float32)
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "position": [StrOptions({"start", "center"})],
    }

    def __init__(self, window, *, position="start"):
        self.window = window
        self.position = position

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of leads.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals.
        y : None
            Ignored.

        Returns
        -------
        self : WindowCropper
        """
        self._check_X(X, reset=True)
        return self

    def transform(self, X):
        """Crop or pad each record to ``window`` samples.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
            Signals with the leads seen in ``fit``, of any length.

        Returns
        -------
        Xt : ndarray of shape (n_records, n_leads, window)
            A new array of the dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        extra = X.shape[-1] - self.window
        offset = abs(extra) // 2 if self.position == "center" else 0
        if extra >= 0:
            return X[..., offset:offset + self.window].copy()
        Xt = np.zeros(X.shape[:-1] + (self.window,), dtype=X.dtype)
        Xt[..., offset:offset + X.shape[-1]] = X
        return Xt
