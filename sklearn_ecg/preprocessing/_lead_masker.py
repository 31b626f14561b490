"""Deterministic selection of a reduced lead set."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import StrOptions, fit_context
from ..leads import LEAD_NAMES, lead_indices
from ._base import SignalTransformer


class LeadMasker(SignalTransformer):
    """Keep a subset of the 12 standard leads.

    With ``mode="zero"`` the output keeps all 12 channels in the standard
    order and the leads not kept are zeros at their fixed index: the layout
    a lead-agnostic model (trained with random lead masking) expects for a
    reduced lead set. With ``mode="drop"`` only the kept leads are returned,
    in the standard order.

    Parameters
    ----------
    leads : int or sequence of str, default=12
        A lead set of the 2021 challenge by size (12, 6, 4, 3, 2, or 1 for
        lead I alone; see :data:`sklearn_ecg.leads.LEAD_SETS`) or lead names
        (case-insensitive, e.g. ``["I", "II", "V2"]``).
    mode : {"zero", "drop"}, default="zero"
        Zero the other leads, or remove them.

    Attributes
    ----------
    lead_indices_ : ndarray of shape (n_kept,)
        Standard-order indices of the kept leads.
    lead_names_ : tuple of str
        Names of the kept leads, in the standard order.
    n_leads_in_ : int
        Number of leads seen in ``fit``: always 12.

    Notes
    -----
    The input must have the 12 standard leads in the order of
    :data:`sklearn_ecg.leads.LEAD_NAMES`; anything else is rejected, since
    lead indices would silently mean different leads.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import LeadMasker
    >>> X = np.ones((2, 12, 250), dtype=np.float32)
    >>> masker = LeadMasker(leads=3).fit(X)
    >>> masker.lead_names_
    ('I', 'II', 'V2')
    >>> masker.transform(X)[0, :, 0]
    array([1., 1., 0., 0., 0., 0., 0., 1., 0., 0., 0., 0.], dtype=float32)
    >>> LeadMasker(leads=["II", "I"], mode="drop").fit_transform(X).shape
    (2, 2, 250)
    """

    _parameter_constraints = {
        "leads": [Integral, str, "array-like"],
        "mode": [StrOptions({"zero", "drop"})],
    }
    _required_leads = len(LEAD_NAMES)

    def __init__(self, *, leads=12, mode="zero"):
        self.leads = leads
        self.mode = mode

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Resolve the lead set and check that ``X`` has the 12 standard leads.

        Parameters
        ----------
        X : array-like of shape (n_records, 12, n_times)
            Signals.
        y : None
            Ignored.

        Returns
        -------
        self : LeadMasker
        """
        self.lead_indices_ = np.asarray(lead_indices(self.leads), dtype=np.intp)
        self.lead_names_ = tuple(LEAD_NAMES[i] for i in self.lead_indices_)
        self._check_X(X, reset=True)
        return self

    def transform(self, X):
        """Zero or drop the leads not kept.

        Parameters
        ----------
        X : array-like of shape (n_records, 12, n_times)
            Signals.

        Returns
        -------
        Xt : ndarray of shape (n_records, 12, n_times) or (n_records, n_kept, n_times)
            12 channels with zeros for the other leads (``mode="zero"``), or
            the kept leads only (``mode="drop"``); a new array of the dtype
            of ``X``.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        if self.mode == "drop":
            return X[:, self.lead_indices_]
        Xt = np.zeros(X.shape, dtype=X.dtype)
        Xt[:, self.lead_indices_] = X[:, self.lead_indices_]
        return Xt
