"""Small native WFDB records (``.hea`` + ``.dat``) written with ``wfdb.wrsamp``, for the loader tests."""

import numpy as np
import wfdb

from sklearn_ecg.leads import LEAD_NAMES

# Format 212 holds 12-bit samples, and -2048 means "no sample" (NaN); format 16 the same at -32768.
_LIMIT = {"16": 30_000, "212": 2_000}


def write_wfdb_record(
    folder,
    name,
    *,
    leads=LEAD_NAMES,
    fs=500,
    n_samples=5000,
    fmt="16",
    gains=None,
    baselines=None,
    comments=(),
    seed=0,
    counts=None,
):
    """Write ``NAME.hea`` + ``NAME.dat``; return ``(counts - baseline) / gain``, shape (n_leads, n_samples).

    Gains and baselines differ per lead unless given (non-zero baselines, as
    LUDB's), so that a loader that ignores either gives other values.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_leads = len(leads)
    rng = np.random.default_rng(seed)
    if gains is None:
        gains = rng.choice([200.0, 698.0, 1000.0, 1716.0, 2317.0], size=n_leads)
    if baselines is None:
        baselines = rng.choice([-1, 1], size=n_leads) * rng.integers(1, 30, size=n_leads)
    gains = np.broadcast_to(np.asarray(gains, dtype=float), n_leads)
    baselines = np.broadcast_to(np.asarray(baselines, dtype=int), n_leads)
    if counts is None:
        limit = _LIMIT[fmt] - 40
        counts = rng.integers(-limit, limit, size=(n_leads, n_samples))
    wfdb.wrsamp(
        name,
        fs=fs,
        units=["mV"] * n_leads,
        sig_name=list(leads),
        d_signal=np.ascontiguousarray(np.asarray(counts, dtype=np.int64).T),
        fmt=[fmt] * n_leads,
        adc_gain=list(gains),
        baseline=[int(b) for b in baselines],
        comments=list(comments),
        write_dir=str(folder),
    )
    return (np.asarray(counts) - baselines[:, None]) / gains[:, None]
