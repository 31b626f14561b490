"""Low-level kernels on batches of signals: STFT magnitude, crops and windows.

Plain functions, every option explicit, no state: the estimators, the torch
modules of :mod:`sklearn_ecg.nn` and the transformers of
:mod:`sklearn_ecg.preprocessing` build on them.

- STFT: :func:`stft_magnitude` (differentiable, on any device), with its
  parts :func:`stft_hop_and_nfft`, :func:`stft_window`,
  :func:`stft_padding`, :func:`padded_stft_magnitude` and
  :func:`stft_n_frames`.
- Windows: :func:`random_crops` (training crops, torch),
  :func:`record_windows` (the overlapping windows of a batch of records,
  torch, on any device), :func:`sliding_windows` and
  :func:`aggregate_windows` (the same windows and their per-record
  combination, numpy); :func:`window_starts` says where they start.
- Inference: :func:`batched_forward`, a module applied batch by batch so
  that an item's output does not depend on the other items.
"""

from functools import lru_cache
from numbers import Integral

import numpy as np
import torch
from scipy.signal import get_window

__all__ = [
    "aggregate_windows",
    "batched_forward",
    "mean_window_embeddings",
    "padded_stft_magnitude",
    "random_crops",
    "record_windows",
    "sliding_windows",
    "stft_hop_and_nfft",
    "stft_magnitude",
    "stft_n_frames",
    "stft_padding",
    "stft_window",
    "window_starts",
]

# Up to this FFT length the transform is one strided convolution with the
# cosine and sine rows of the DFT (a few small matrix products, far faster
# than many tiny FFTs); longer segments use torch's FFT.
_MAX_DFT_CONV_NFFT = 64


def stft_magnitude(x, *, nperseg, noverlap, nfft, window, log, eps):
    """STFT magnitude of a batch of signals, in torch.

    The values of ``abs(scipy.signal.stft(x, window=window, nperseg=nperseg,
    noverlap=noverlap, nfft=nfft)[2])`` (its defaults: segments padded with
    ``nperseg // 2`` zeros at both ends, zeros appended so that the last
    segment is full, one-sided spectrum scaled by ``1 / sum(window)``),
    computed on the device of ``x`` and differentiable with respect to it.

    Every option is required: the paper's values are the defaults of
    :class:`~sklearn_ecg.preprocessing.STFTSpectrogram`, whose
    :meth:`~sklearn_ecg.preprocessing.STFTSpectrogram.to_torch` gives the
    module that applies this function with them.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_leads, n_times)
        Real signals; any leading dimensions are kept.
    nperseg : int
        Samples per segment.
    noverlap : int or None
        Samples shared by consecutive segments; the hop is
        ``nperseg - noverlap``. None means ``nperseg // 2``.
    nfft : int or None
        FFT length, at least ``nperseg`` (segments are zero-padded). None
        means ``nperseg``.
    window : str, tuple or array-like
        A window for ``scipy.signal.get_window`` (periodic, as in
        ``scipy.signal.stft``) or ``nperseg`` window values.
    log : bool
        Return ``log(magnitude + eps)``.
    eps : float
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
    >>> from sklearn_ecg.nn.functional import stft_magnitude
    >>> options = dict(nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6)
    >>> stft_magnitude(torch.zeros(8, 12, 250), **options).shape
    torch.Size([8, 12, 13, 21])
    """
    hop, nfft = stft_hop_and_nfft(nperseg, noverlap, nfft)
    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        raise TypeError(f"x must be a floating point torch.Tensor, got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}.")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"x must have at least one sample along its last axis, got shape {tuple(x.shape)}.")
    left, right = stft_padding(x.shape[-1], nperseg, hop)
    signals = torch.nn.functional.pad(x.reshape(-1, x.shape[-1]), (left, right))
    magnitude = padded_stft_magnitude(signals, stft_window(window, nperseg), nfft, hop)
    if log:
        magnitude = torch.log(magnitude + eps)
    return magnitude.reshape(x.shape[:-1] + magnitude.shape[-2:])


def stft_n_frames(n_times, nperseg, hop):
    """Number of frames of the STFT of a signal of ``n_times`` samples.

    ``ceil((n_times + 2 * (nperseg // 2) - nperseg) / hop) + 1``: the
    frames of :func:`stft_magnitude`.
    """
    before, after = stft_padding(n_times, nperseg, hop)
    return (before + n_times + after - nperseg) // hop + 1


def stft_hop_and_nfft(nperseg, noverlap, nfft):
    """The hop and FFT length of STFT options, validated.

    Returns
    -------
    hop, nfft : int
        ``nperseg - noverlap`` (``noverlap=None``: ``nperseg // 2``) and
        ``nfft`` (None: ``nperseg``).
    """
    if not isinstance(nperseg, Integral) or nperseg < 1:
        raise ValueError(f"nperseg must be a positive integer, got {nperseg!r}.")
    noverlap = nperseg // 2 if noverlap is None else noverlap
    if not isinstance(noverlap, Integral) or not 0 <= noverlap < nperseg:
        raise ValueError(f"noverlap must be an integer in [0, nperseg={nperseg}), got {noverlap!r}.")
    nfft = nperseg if nfft is None else nfft
    if not isinstance(nfft, Integral) or nfft < nperseg:
        raise ValueError(f"nfft must be an integer >= nperseg={nperseg}, got {nfft!r}.")
    return int(nperseg - noverlap), int(nfft)


def stft_window(window, nperseg):
    """The window as a float64 ndarray of ``nperseg`` values, validated.

    ``window`` is a name for ``scipy.signal.get_window`` (periodic, as
    ``scipy.signal.stft`` uses it) or ``nperseg`` values.
    """
    if isinstance(window, (str, tuple)):
        return get_window(window, nperseg)
    values = np.asarray(window.detach().cpu() if isinstance(window, torch.Tensor) else window, dtype=np.float64)
    if values.shape != (nperseg,) or not np.all(np.isfinite(values)):
        raise ValueError(f"window must be a name or {nperseg} finite values, got shape {values.shape}.")
    if values.sum() == 0:
        raise ValueError("window values must not sum to zero (the spectrum is scaled by 1 / sum(window)).")
    return values


def stft_padding(n_times, nperseg, hop):
    """Zeros before and after a signal of ``n_times`` samples, as ``(before, after)``.

    scipy's ``boundary="zeros"`` and ``padded=True``: ``nperseg // 2`` zeros
    at both ends, and enough at the end that the last segment is full.
    """
    length = n_times + 2 * (nperseg // 2)
    return nperseg // 2, nperseg // 2 + (-(length - nperseg) % hop)


def padded_stft_magnitude(signals, window, nfft, hop, out=None):
    """STFT magnitude of signals already padded by :func:`stft_padding`, into ``out`` if given.

    The engine of :func:`stft_magnitude`, for callers that pad into a buffer
    of their own (``STFTSpectrogram.transform`` reuses one across chunks).

    Parameters
    ----------
    signals : torch.Tensor of shape (n_signals, n_padded)
    window : ndarray of shape (nperseg,)
        Window values, from :func:`stft_window`.
    nfft, hop : int
        From :func:`stft_hop_and_nfft`.
    out : torch.Tensor of shape (n_signals, nfft // 2 + 1, n_frames), default=None

    Returns
    -------
    magnitude : torch.Tensor of shape (n_signals, nfft // 2 + 1, n_frames)
    """
    if nfft > _MAX_DFT_CONV_NFFT:
        values = torch.as_tensor(window, dtype=signals.dtype, device=signals.device)
        frames = signals.unfold(-1, len(window), hop) * values
        magnitude = (torch.fft.rfft(frames, n=nfft) / window.sum()).abs().transpose(-1, -2)
        return magnitude if out is None else out.copy_(magnitude)
    # One strided convolution with the cosine and sine rows of the DFT.
    n_freqs = nfft // 2 + 1
    basis = torch.tensor(_dft_basis(np.asarray(window, dtype=np.float64).tobytes(), nfft), dtype=signals.dtype,
                         device=signals.device)
    parts = torch.nn.functional.conv1d(signals[:, None, :], basis, stride=hop)
    real, imag = parts[:, :n_freqs], parts[:, n_freqs:]
    if parts.requires_grad:
        # hypot's gradient is NaN where both parts are 0 (zero-padded or
        # masked leads); the complex modulus has gradient 0 there.
        return torch.complex(real, imag).abs()
    # sqrt(re^2 + im^2) in place: cheaper than hypot, within 1 ulp of it
    # (no overflow or underflow concern at the magnitudes of signals).
    out = torch.mul(real, real, out=out)
    return out.addcmul_(imag, imag).sqrt_()


@lru_cache(maxsize=32)
def _dft_basis(window_bytes, nfft):
    """Cosine then sine rows of the one-sided DFT, windowed and scaled by 1 / sum(window): (2 n_freqs, 1, nperseg).

    Cached (keyed by the window's bytes), so that a front end applied to
    every batch does not rebuild it.
    """
    window = np.frombuffer(window_bytes, dtype=np.float64)
    angle = 2 * np.pi * np.outer(np.arange(nfft // 2 + 1), np.arange(len(window))) / nfft
    basis = np.concatenate([np.cos(angle), -np.sin(angle)]) * (window / window.sum())
    basis.flags.writeable = False
    return basis[:, None, :]


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
    >>> from sklearn_ecg.nn.functional import random_crops
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
    >>> from sklearn_ecg.nn.functional import sliding_windows
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
    starts = window_starts(n_times, window, step)
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
    >>> from sklearn_ecg.nn.functional import segment_pairs
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


def window_starts(n_times, window, step):
    """Starts of the sliding windows of a record of ``n_times`` samples.

    ``0, step, 2 * step, ...`` while a window fits, and one more aligned to
    the end of the record when the last one stops short of it; a record
    shorter than ``window`` has one window (zero-padded). The windows of
    :func:`sliding_windows` and :func:`record_windows`.

    Returns
    -------
    starts : ndarray of int

    Examples
    --------
    >>> from sklearn_ecg.nn.functional import window_starts
    >>> window_starts(10, 4, 4)
    array([0, 4, 6])
    """
    window, step = _positive_int(window, "window"), _positive_int(step, "step")
    n_times = max(int(n_times), window)
    starts = np.arange(0, n_times - window + 1, step)
    if starts[-1] != n_times - window:
        starts = np.append(starts, n_times - window)
    return starts


def record_windows(x, window, step):
    """The sliding windows of each record of a batch, in torch.

    The windows of :func:`sliding_windows` (starts from
    :func:`window_starts`, records shorter than ``window`` zero-padded at
    the end), cut on the device of ``x`` and kept grouped by record.

    Parameters
    ----------
    x : torch.Tensor of shape (n_records, n_channels, n_times)
    window, step : int

    Returns
    -------
    windows : torch.Tensor of shape (n_records, n_windows, n_channels, window)
        A view of ``x`` where the windows are regularly spaced, else a
        copy; ``windows.flatten(0, 1)`` are the windows of
        :func:`sliding_windows`, in its order.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn.functional import record_windows
    >>> x = torch.arange(20.0).reshape(2, 1, 10)
    >>> windows = record_windows(x, window=4, step=4)
    >>> windows.shape, windows[0, :, 0, 0]  # starts 0, 4, then 6 to reach the end
    (torch.Size([2, 3, 1, 4]), tensor([0., 4., 6.]))
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(f"x must be a 3-D torch.Tensor (n_records, n_channels, n_times), got "
                         f"{type(x).__name__} of shape {tuple(getattr(x, 'shape', ()))}.")
    starts = window_starts(x.shape[-1], window, step)
    if x.shape[-1] < window:
        x = torch.nn.functional.pad(x, (0, window - x.shape[-1]))
    if len(starts) == 1 or np.all(np.diff(starts) == step):
        windows = x.unfold(-1, window, step)[:, :, :len(starts)]
    else:
        index = torch.as_tensor(starts, device=x.device)[:, None] + torch.arange(window, device=x.device)
        windows = x[:, :, index]
    return windows.transpose(1, 2)


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
    >>> from sklearn_ecg.nn.functional import aggregate_windows
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


def _positive_int(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def batched_forward(module, x, batch_size):
    """``module(x)`` computed in batches of exactly ``batch_size`` items, the last one zero-padded.

    The kernels of a forward pass (matrix products, convolutions) pick their
    algorithm, and so their rounding, by the shape of the batch: the same
    item can give float32 outputs a few units in the last place apart in a
    batch of 1 and in a batch of 20. With every batch of one shape, an
    item's output does not depend on the items scored with it. Padding
    rows are computed and dropped, so ``module`` must treat items
    independently (eval mode).

    Parameters
    ----------
    module : callable
        Maps a batch ``(batch_size, ...)`` to a tensor, or a tuple of
        tensors, whose first axis is the batch.
    x : torch.Tensor of shape (n_items, ...)
    batch_size : int

    Returns
    -------
    outputs : torch.Tensor or tuple of torch.Tensor
        The outputs of the ``n_items`` items, as ``module`` returns them.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn.functional import batched_forward
    >>> linear = torch.nn.Linear(3, 2)
    >>> x = torch.randn(5, 3)
    >>> whole = batched_forward(linear, x, 4)
    >>> bool(torch.equal(batched_forward(linear, x[2:3], 4), whole[2:3]))
    True
    """
    batch_size = _positive_int(batch_size, "batch_size")
    outputs = []
    for start in range(0, max(len(x), 1), batch_size):  # no item: one padded batch, for the output's shape
        chunk = x[start:start + batch_size]
        n_items = len(chunk)
        if n_items < batch_size:
            chunk = torch.cat([chunk, chunk.new_zeros((batch_size - n_items,) + chunk.shape[1:])])
        out = module(chunk)
        outputs.append(tuple(part[:n_items] for part in out) if isinstance(out, tuple) else out[:n_items])
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outputs))
    return torch.cat(outputs)



def mean_window_embeddings(encoder, records, window, batch_size):
    """Each record's mean embedding over its sliding windows (50 % overlap), in float64.

    The windows of :func:`record_windows` (step ``window // 2``, records
    shorter than ``window`` zero-padded) are cut along the last axis, so
    the records may be signals or spectrograms, and embedded by
    :func:`batched_forward` in batches of ``batch_size``.

    Parameters
    ----------
    encoder : callable
        Maps windows ``(batch, ...)`` to embeddings ``(batch, n_features)``;
        in eval mode.
    records : torch.Tensor of shape (n_records, n_leads, n_times) or (n_records, n_leads, n_freqs, n_frames)
        On the device of ``encoder``.
    window, batch_size : int

    Returns
    -------
    embeddings : torch.Tensor of shape (n_records, n_features), float64

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn.functional import mean_window_embeddings
    >>> records = torch.randn(3, 2, 10)
    >>> mean_window_embeddings(lambda x: x.sum(dim=-1), records, window=4, batch_size=8).shape
    torch.Size([3, 2])
    """
    flat = records.flatten(1, -2)  # spectrograms: leads x frequencies as channels
    windows = record_windows(flat, window, max(1, window // 2))
    n_windows = windows.shape[1]
    windows = windows.reshape((-1,) + records.shape[1:-1] + (window,))
    # A short last batch is padded: a window's embedding does not depend on the others.
    embeddings = batched_forward(encoder, windows, batch_size).double()
    return embeddings.unflatten(0, (len(records), n_windows)).mean(dim=1)
