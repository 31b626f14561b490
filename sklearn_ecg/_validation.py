"""Input validation shared by every transformer, estimator and metric.

Arrays of ECG signals are ``(n_records, n_leads, n_times)``. A 2-D array
``(n_records, n_times)`` is read as single-lead signals, so that the package's
estimators accept what scikit-learn's checks give them. Labels are
``(n_records, n_classes)`` indicator matrices and scores arrays of the same
shape.
"""

import warnings

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


# The amplitude is measured on this many records at most, spread over X:
# enough for a stable median, cheap on any data set.
_AMPLITUDE_RECORDS = 256
# An amplitude this many times larger (or smaller) than in fit is another unit.
_AMPLITUDE_FACTOR = 10.0


def signal_amplitude(X):
    """Typical amplitude of signals: the median over present leads of the 99th percentile of ``|x|``.

    Percentiles per lead and record, over time; leads that are zero
    throughout a record (absent) are left out, and at most 256 records,
    evenly spread, are measured. None when every lead is absent.
    """
    step = max(1, len(X) // _AMPLITUDE_RECORDS)
    sample = np.abs(X[::step][:_AMPLITUDE_RECORDS])
    present = sample.any(axis=-1)
    if not present.any():
        return None
    return float(np.median(np.quantile(sample, 0.99, axis=-1)[present]))


def check_amplitude(estimator, X, *, reset):
    """Record the amplitude of the training signals in ``amplitude_``, or warn when ``X``'s is far from it.

    With ``reset`` (in ``fit``), ``estimator.amplitude_`` is set to
    :func:`signal_amplitude` of ``X``. Otherwise a warning names the likely
    cause when ``X``'s amplitude is more than 10 times that of fit, or less
    than a tenth of it: signals in another unit predict nonsense without
    any error.
    """
    amplitude = signal_amplitude(X)
    if reset:
        estimator.amplitude_ = amplitude
        return
    fitted = getattr(estimator, "amplitude_", None)  # None in models pickled before it existed
    if not (fitted and amplitude) or 1 / _AMPLITUDE_FACTOR <= amplitude / fitted <= _AMPLITUDE_FACTOR:
        return
    if amplitude > fitted:
        size, cause = "larger", "ADC counts instead of mV (a gain not applied), or µV instead of mV"
    else:
        size, cause = "smaller", "V instead of mV, or a gain applied twice"
    factor = max(amplitude, fitted) / min(amplitude, fitted)
    warnings.warn(
        f"The signals given to {type(estimator).__name__} are {factor:.0f} times {size} than those "
        f"given to fit (99th percentile of |x| per lead: {amplitude:.3g}, in fit {fitted:.3g}). Are "
        f"they in another unit? {cause}, give such factors. Predictions of such input are "
        "meaningless; convert the signals to the unit used in fit.",
        UserWarning,
        stacklevel=1,  # one location, so that the default filter shows a repeated message once
    )


def record_lengths(X):
    """Samples of each record up to its last nonzero value in any lead: trailing zeros are padding."""
    nonzero = np.any(X.reshape(len(X), -1, X.shape[-1]), axis=1)
    lengths = X.shape[-1] - np.argmax(nonzero[:, ::-1], axis=1)
    return np.where(nonzero.any(axis=1), lengths, 0)


def warn_short_records(X, window):
    """Warn when records are shorter than half a ``window``: windowing zero-pads them to a whole window.

    A record's length ends at its last nonzero value (:func:`record_lengths`),
    so that records padded with zeros to the length of the array count as
    the short records they are.
    """
    lengths = record_lengths(X)
    short = 2 * lengths < window
    if short.any():
        warnings.warn(
            f"{short.sum()} of {len(X)} records are shorter than half a window (fewer than "
            f"{(window + 1) // 2} of {window} time steps, trailing zeros not counted; the shortest "
            f"has {lengths.min()}): each is zero-padded to a whole window, which is then mostly "
            "padding. Check the sampling rate, the records' duration and the window.",
            UserWarning,
            stacklevel=1,  # one location, so that the default filter shows a repeated message once
        )


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
