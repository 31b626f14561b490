"""Input validation shared by every transformer, estimator and metric.

Arrays of ECG signals are ``(n_records, n_leads, n_times)``. A 2-D array
``(n_records, n_times)`` is read as single-lead signals, so that the package's
estimators accept what scikit-learn's checks give them. Labels are
``(n_records, n_classes)`` indicator matrices and scores arrays of the same
shape.
"""

import numpy as np
import scipy.sparse as sp
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


def check_indicator(y, name):
    """Return ``y`` as a boolean ``(n_records, n_classes)`` indicator matrix.

    Accepts booleans, or numbers that are all 0 or 1; the input is never
    written to.
    """
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    _check_2d(y, name)
    if y.dtype == bool:
        return y
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold 0/1 labels; got dtype {y.dtype}.")
    binary = (y == 0) | (y == 1)
    if not binary.all():
        bad = y[~binary][0]
        raise ValueError(
            f"{name} must be a binary indicator matrix (0/1 only); found the value {bad.item()}."
        )
    return y.astype(bool)


def check_scores(y_score, name="y_score"):
    """Return scores as a finite float64 ``(n_records, n_classes)`` array.

    A list of ``(n_records, 2)`` arrays, as ``predict_proba`` of
    scikit-learn's multi-output classifiers returns, becomes one column per
    array: the probability of the second (positive) class.
    """
    if isinstance(y_score, list) and y_score and np.ndim(y_score[0]) == 2:
        y_score = _stack_positive_columns(y_score, name)
    y_score = np.asarray(y_score, dtype=np.float64)
    _check_2d(y_score, name)
    if not np.isfinite(y_score).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return y_score


def check_same_shape(y_true, y_other, names=("y_true", "y_pred")):
    if y_true.shape != y_other.shape:
        raise ValueError(
            f"{names[0]} has shape {y_true.shape} but {names[1]} has shape "
            f"{y_other.shape}; both must be (n_records, n_classes)."
        )


def _check_2d(y, name):
    if y.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_records, n_classes); got shape {y.shape}.")
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {y.shape}).")


def _stack_positive_columns(arrays, name):
    columns = []
    for k, proba in enumerate(arrays):
        proba = np.asarray(proba)
        if proba.ndim != 2 or proba.shape[1] != 2:
            raise ValueError(
                f"{name} is a list, so each entry must be an (n_records, 2) array of "
                f"class probabilities; entry {k} has shape {proba.shape}."
            )
        columns.append(proba[:, 1])
    if len({column.shape for column in columns}) > 1:
        raise ValueError(f"The arrays of {name} differ in their number of records.")
    return np.stack(columns, axis=1)
