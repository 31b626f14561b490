"""How one record becomes rows of ``X``: its plan, and the reading that follows it.

A plan is made in the loading process, from the header alone, and
:func:`read_rows` carries it out in a worker: read the signal, resample only
the part the rows need, cut the rows.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.signal import resample_poly

from ._header import RecordHeader
from ._signals import read_signal

__all__ = ["RecordPlan", "RowsRead", "make_plan", "read_rows", "resample_span"]

# The rate ratio is the nearest fraction with a denominator at most this: it
# bounds the filter length for odd rates, and is exact for every rate of the
# challenge data (257, 500, 1000 Hz).
_MAX_DENOMINATOR = 1000


class RecordPlan(NamedTuple):
    """The rows one record gives, on the output grid of ``fs``."""

    header_path: Path
    header: RecordHeader
    up: int
    """Upsampling factor of the rate ratio ``fs / header.fs``."""
    down: int
    """Downsampling factor."""
    taps: np.ndarray | None
    """Anti-aliasing filter of the ratio; None when the rate is kept."""
    starts: tuple
    """First output sample of each row."""
    n_times: int
    """Samples per row."""


class RowsRead(NamedTuple):
    """What a worker sends back for one record."""

    present: np.ndarray | None
    """Standard indices of the record's leads."""
    rows: np.ndarray | None
    """(n_rows, len(present), n_times) float32."""
    n_zero_leads: int
    """Leads of the record that are all zeros."""
    error: str | None
    """Why the record could not be read; then the other fields are None or -1."""


def make_plan(header_path, header, fs, duration, crop):
    """Plan the rows of a record for rate ``fs`` (Hz), ``duration`` (s) and ``crop``."""
    # Imported here: the resampling design lives beside the torch transformers,
    # and ``import sklearn_ecg.datasets`` must not import torch.
    from ..preprocessing import resampling_factors, resampling_filter

    up, down = resampling_factors(header.fs, fs, max_denominator=_MAX_DENOMINATOR)
    taps = None if up == down else resampling_filter(up, down)
    n_out = -(-header.n_samples * up // down)  # resample_poly's output length
    n_times = n_out if duration is None else round(duration * fs)
    if crop == "center":
        starts = (max(0, (n_out - n_times) // 2),)
    elif crop == "windows":
        starts = tuple(range(0, max(n_out // n_times, 1) * n_times, n_times))
    else:
        starts = (0,)
    return RecordPlan(header_path, header, up, down, taps, starts, n_times)


def read_rows(plan):
    """Carry out a plan; a bad record gives its error message, not an exception."""
    try:
        present, signal = read_signal(plan.header_path, plan.header)
    except ValueError as exc:
        return RowsRead(None, None, -1, str(exc))
    n_zero_leads = int((~signal.any(axis=1)).sum())
    first, last = plan.starts[0], plan.starts[-1] + plan.n_times
    span = resample_span(signal, plan.up, plan.down, plan.taps, first, last)
    rows = np.stack([span[:, s - first : s - first + plan.n_times] for s in plan.starts])
    return RowsRead(present, rows.astype(np.float32), n_zero_leads, None)


def resample_span(x, up, down, taps, start, stop):
    """Samples [start, stop) of ``resample_poly(x, up, down, window=taps)``, zero-padded past the end.

    Only the input under the anti-aliasing filter of those samples is resampled,
    which saves most of the work on long records cropped to a few seconds. The
    slice starts on a multiple of ``down``, so its output grid is the record's.
    The ends repeat the end values (``padtype="edge"``), so that no edge
    transient appears.
    """
    if up == down:
        span = x[:, start:stop]
    else:
        # The filter spans (len(taps) - 1) / 2 up-sampled samples each side.
        margin = (len(taps) - 1) // 2 // up + 2
        first = max(0, start * down // up - margin)
        first -= first % down
        last = min(x.shape[1], -(-stop * down // up) + margin)
        resampled = resample_poly(x[:, first:last], up, down, axis=-1, window=taps, padtype="edge")
        offset = first * up // down
        span = resampled[:, start - offset : stop - offset]
    return np.pad(span, ((0, 0), (0, stop - start - span.shape[1])))
