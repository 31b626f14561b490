"""Fixed-length windows of records: crops, sliding windows and their aggregation."""

from numbers import Integral

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

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

    def __init__(self, window, position="start"):
        self.window = window
        self.position = position

    @_fit_context(prefer_skip_nested_validation=True)
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


def sliding_windows(X, window, step):
    """Cut every record into windows of ``window`` samples, ``step`` apart.

    Windows start at ``0, step, 2 * step, ...`` while they fit in the
    record; if the last one ends before the record does, one more window is
    aligned to the end of the record, so that every sample is covered (that
    window overlaps its neighbour by more than the others). A record
    shorter than ``window`` is zero-padded at the end to one window.

    Parameters
    ----------
    X : array-like of shape (n_records, n_channels, n_times)
        Records of equal length (spectrograms: flatten leads and
        frequencies into channels, windows run over frames).
    window : int
        Samples per window.
    step : int
        Samples between the starts of consecutive windows.

    Returns
    -------
    windows : ndarray of shape (n_windows_total, n_channels, window)
        The windows of record 0, then those of record 1, ...; a new array of
        the dtype of ``X``.
    record_index : ndarray of shape (n_windows_total,)
        The record each window comes from.

    See Also
    --------
    aggregate_windows : Combine per-window results into per-record ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import sliding_windows
    >>> X = np.arange(20.0).reshape(2, 1, 10)
    >>> windows, record_index = sliding_windows(X, window=4, step=4)
    >>> windows[:3, 0, 0], record_index  # starts 0, 4, then 6 to reach the end
    (array([0., 4., 6.]), array([0, 0, 0, 1, 1, 1]))
    >>> sliding_windows(X, window=12, step=6)[0].shape
    (2, 1, 12)
    """
    X = np.asarray(X)
    window, step = _positive_int(window, "window"), _positive_int(step, "step")
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_records, n_channels, n_times), got shape {X.shape}.")
    n_records, _, n_times = X.shape
    if n_times < window:
        X = np.concatenate([X, np.zeros(X.shape[:2] + (window - n_times,), dtype=X.dtype)], axis=-1)
        n_times = window
    starts = np.arange(0, n_times - window + 1, step)
    if starts[-1] != n_times - window:
        starts = np.append(starts, n_times - window)
    # Filled in (records, starts, channels, window) order, so that the
    # reshape to (windows, channels, window) is free; one copy per start, each
    # over all records at once.
    windows = np.empty((n_records, len(starts), X.shape[1], window), dtype=X.dtype)
    for k, start in enumerate(starts):
        windows[:, k] = X[:, :, start:start + window]
    return windows.reshape(-1, X.shape[1], window), np.repeat(np.arange(n_records), len(starts))


def segment_pairs(X, segment_length, *, lengths=None):
    """Cut records into non-overlapping segments and pair consecutive ones.

    Record ``i`` holds ``n_i = lengths[i] // segment_length`` whole segments,
    starting at samples ``0, segment_length, 2 * segment_length, ...``; they
    form the pairs (0, 1), (2, 3), ..., so that each segment is in one pair
    (an odd last segment is left out), as the CMSC manifests of
    fairseq-signals do. A record with fewer than two segments gives no pair:
    it is listed in ``skipped``, for the caller to report.

    Parameters
    ----------
    X : array-like of shape (n_records, n_leads, n_times)
        Records.
    segment_length : int
        Samples per segment (5 s in the lead-agnostic paper: 500 at 100 Hz).
    lengths : array-like of int of shape (n_records,), default=None
        Samples of each record that are signal, the rest of its row being
        padding. None: all ``n_times``.

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2, n_leads, segment_length)
        The pairs of record 0, then those of record 1, ...; a new array of
        the dtype of ``X``.
    record_index : ndarray of shape (n_pairs,)
        The record each pair comes from.
    skipped : ndarray of shape (n_skipped,)
        Indices of the records too short for a pair.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import segment_pairs
    >>> X = np.arange(24.0).reshape(2, 1, 12)
    >>> pairs, record_index, skipped = segment_pairs(X, 3, lengths=[12, 5])
    >>> pairs[:, :, 0, 0], record_index, skipped
    (array([[0., 3.],
           [6., 9.]]), array([0, 0]), array([1]))
    """
    X = np.asarray(X)
    segment_length = _positive_int(segment_length, "segment_length")
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_records, n_leads, n_times), got shape {X.shape}.")
    n_records, n_leads, n_times = X.shape
    if lengths is None:
        lengths = np.full(n_records, n_times)
    lengths = np.asarray(lengths)
    if lengths.shape != (n_records,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be integers of shape ({n_records},), got {lengths.dtype} of shape "
                         f"{lengths.shape}.")
    if np.any((lengths < 0) | (lengths > n_times)):
        raise ValueError(f"lengths must lie in [0, {n_times}] (the samples of a row).")
    n_pairs = lengths // (2 * segment_length)
    record_index = np.repeat(np.arange(n_records), n_pairs)
    # Pair k of a record starts at 2 k segment_length; its two segments are
    # the first and second halves of that stretch.
    first_pair = np.concatenate([[0], np.cumsum(n_pairs)[:-1]])
    offsets = (np.arange(len(record_index)) - first_pair[record_index]) * 2 * segment_length
    pairs = np.empty((len(record_index), 2, n_leads, segment_length), dtype=X.dtype)
    for k, (record, offset) in enumerate(zip(record_index, offsets)):
        stretch = X[record, :, offset:offset + 2 * segment_length]
        pairs[k] = stretch.reshape(n_leads, 2, segment_length).transpose(1, 0, 2)
    return pairs, record_index, np.flatnonzero(n_pairs == 0)


def aggregate_windows(values, record_index, n_records, how="mean"):
    """Combine per-window values into one value per record.

    Parameters
    ----------
    values : array-like of shape (n_windows, ...)
        One result per window (probabilities, embeddings, ...).
    record_index : array-like of int of shape (n_windows,)
        The record of each window, in ``[0, n_records)``.
    n_records : int
        Number of records; each must have at least one window.
    how : {"mean", "max"}, default="mean"
        Average or maximum over the windows of a record.

    Returns
    -------
    aggregated : ndarray of shape (n_records, ...)
        Floating point values (float32 input stays float32).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.preprocessing import aggregate_windows
    >>> aggregate_windows(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 1]), 2)
    array([[2.],
           [5.]])
    """
    values = np.asarray(values)
    record_index = np.asarray(record_index)
    n_records = _positive_int(n_records, "n_records")
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}.")
    if record_index.shape != values.shape[:1] or not np.issubdtype(record_index.dtype, np.integer):
        raise ValueError(f"record_index must be integers of shape ({len(values)},), got "
                         f"{record_index.dtype} of shape {record_index.shape}.")
    if record_index.size and not 0 <= record_index.min() <= record_index.max() < n_records:
        raise ValueError(f"record_index must lie in [0, {n_records}).")
    counts = np.bincount(record_index, minlength=n_records)
    if not counts.all():
        raise ValueError(f"Records {np.flatnonzero(counts == 0)[:10].tolist()} have no window.")
    # Group the windows of each record together (already so for the output
    # of sliding_windows), then reduce each group in one call.
    if np.any(np.diff(record_index) < 0):
        order = np.argsort(record_index, kind="stable")
        values, record_index = values[order], record_index[order]
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    dtype = np.result_type(values.dtype, np.float32)
    if how == "max":
        return np.maximum.reduceat(values, firsts, axis=0).astype(dtype, copy=False)
    sums = np.add.reduceat(values, firsts, axis=0, dtype=np.float64)
    return (sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))).astype(dtype, copy=False)


def random_crops(x, window, generator):
    """One random window of ``window`` samples from each item of a batch.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_channels, n_times)
        A batch on any device.
    window : int
        Samples per crop.
    generator : torch.Generator
        Source of the crop starts (uniform over all full windows); on any
        device, e.g. the CPU for a CUDA batch.

    Returns
    -------
    crops : torch.Tensor of shape (batch, n_channels, window)
        New tensor on the device of ``x``. Items shorter than ``window`` are
        zero-padded at the end instead.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.preprocessing import random_crops
    >>> x = torch.arange(10.0).repeat(3, 2, 1)
    >>> crops = random_crops(x, 4, torch.Generator().manual_seed(0))
    >>> crops.shape
    torch.Size([3, 2, 4])
    >>> bool(((crops[:, :, 1:] - crops[:, :, :-1]) == 1).all())
    True
    """
    window = _positive_int(window, "window")
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(f"x must be a 3-D torch.Tensor (batch, n_channels, n_times), got {type(x).__name__} "
                         f"of shape {tuple(getattr(x, 'shape', ()))}.")
    n_times = x.shape[-1]
    if n_times <= window:
        return torch.nn.functional.pad(x, (0, window - n_times))
    starts = torch.randint(0, n_times - window + 1, (x.shape[0],), generator=generator, device=generator.device)
    index = starts.to(x.device)[:, None] + torch.arange(window, device=x.device)
    return torch.gather(x, -1, index[:, None, :].expand(-1, x.shape[1], -1))


def _positive_int(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
