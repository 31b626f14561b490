"""Input validation shared by every transformer and estimator.

Arrays of ECG signals are ``(n_records, n_leads, n_times)``. A 2-D array
``(n_records, n_times)`` is read as single-lead signals, so that the package's
estimators accept what scikit-learn's checks give them.
"""

import numpy as np
from sklearn.utils.validation import check_array


def check_signals(
    X,
    *,
    n_leads=None,
    min_times=1,
    ndim=3,
    dtype=(np.float32, np.float64),
    copy=False,
    name="X",
):
    """Validate ECG signals and return them as a 3-D (or ``ndim``-D) array.

    Parameters
    ----------
    X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_times)
        Signals; 2-D input is one lead per record. With ``ndim=4`` the
        expected shape is ``(n_records, n_leads, n_freqs, n_frames)``
        (spectrograms) and 2-D input becomes ``(n_records, 1, 1, n_frames)``.
    n_leads : int, default=None
        Required number of leads, or None for any.
    min_times : int, default=1
        Fewest samples (or frames) along the last axis.
    ndim : {3, 4}, default=3
        Dimensionality of the returned array.
    dtype : dtype or tuple of dtypes
        Accepted dtypes; other input is converted to the first one.
    copy : bool, default=False
        Force a copy. Without one, the input may be returned as is: callers
        must never write into the result.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    X : ndarray of ``ndim`` dimensions
    """
    X = check_array(
        X,
        allow_nd=True,
        dtype=list(dtype) if isinstance(dtype, tuple) else dtype,
        copy=copy,
        ensure_all_finite=True,
        ensure_min_features=1,
        input_name=name,
    )
    if X.ndim == 2:
        X = X.reshape((X.shape[0],) + (1,) * (ndim - 2) + (X.shape[1],))
    if X.ndim != ndim:
        layout = "(n_records, n_leads, n_times)" if ndim == 3 else "(n_records, n_leads, n_freqs, n_frames)"
        raise ValueError(
            f"{name} must be 2-D or {ndim}-D {layout}, got an array of shape {X.shape}."
        )
    if n_leads is not None and X.shape[1] != n_leads:
        raise ValueError(
            f"{name} has {X.shape[1]} leads (shape {X.shape}), but {n_leads} are required."
        )
    if X.shape[-1] < min_times:
        raise ValueError(
            f"{name} has {X.shape[-1]} samples along time (shape {X.shape}); "
            f"at least {min_times} are required."
        )
    return X
