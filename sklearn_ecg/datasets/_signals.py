"""Read one record's samples in mV, each lead at its standard position.

Two kinds of signal files are read: the challenge's ``NAME.mat`` (MATLAB
variable ``val``, ADC counts) and native WFDB files (``NAME.dat`` in any
format ``wfdb.rdrecord`` reads, 16 and 212 among them), which wfdb converts
with each lead's gain and baseline. Either way the header's lead names are
matched case-insensitively to :data:`~sklearn_ecg.leads.LEAD_NAMES`, and a
record may hold any subset of the 12 leads.
"""

import math
import warnings
from pathlib import Path

import numpy as np
import scipy.io

from ..leads import LEAD_NAMES
from ._header import read_header

__all__ = ["check_header", "lead_layout", "read_record", "read_signal"]

# Physical units a header may use, in mV.
_UNIT_IN_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}
_STANDARD = {name.lower(): index for index, name in enumerate(LEAD_NAMES)}
# Bytes per sample of the WFDB formats whose file size follows from the header.
_BYTES_PER_SAMPLE = {
    "8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2,
    "212": 1.5, "310": 4 / 3, "311": 4 / 3,
}


def read_record(path):
    """Read one record in mV, leads at their standard positions.

    Parameters
    ----------
    path : str or path-like
        The record's ``.hea`` file, its signal file (``.mat`` or ``.dat``),
        or its path without extension.

    Returns
    -------
    signal : ndarray of shape (12, n_samples), dtype float32
        ``(val - baseline) / gain`` per lead in mV at the record's own rate,
        rows in :data:`~sklearn_ecg.leads.LEAD_NAMES` order; the rows of the
        standard leads the record lacks are zeros. For a ``.mat`` file the
        baseline is the header's (0 in every challenge file), so this is
        ``val / gain``, what the challenge's example code computes; for a
        WFDB ``.dat`` file these are the values of ``wfdb.rdsamp``.
    header : RecordHeader
        Everything the header says (rate, gains, age, sex, codes...), leads
        in file order.

    Raises
    ------
    ValueError
        If a file is missing, short or unreadable, the header is malformed,
        the signal's shape disagrees with the header, a sample is NaN or
        infinite, or a lead name is unknown or repeated.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, scipy.io
    >>> from sklearn_ecg.datasets import read_record
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> lines = ["R1 12 500 1000"] + [f"R1.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in leads]
    >>> _ = (folder / "R1.hea").write_text("\\n".join(lines + ["#Dx: 426783006"]))
    >>> scipy.io.savemat(folder / "R1.mat", {"val": np.full((12, 1000), 500, np.int16)})
    >>> signal, header = read_record(folder / "R1.hea")
    >>> signal.shape, float(signal[0, 0]), header.fs
    ((12, 1000), 0.5, 500.0)
    >>> tmp.cleanup()
    """
    header_path = _header_path(path)
    header = read_header(header_path)
    check_header(header_path, header)
    present, signal = read_signal(header_path, header)
    full = np.zeros((len(LEAD_NAMES), header.n_samples), dtype=np.float32)
    full[present] = signal
    return full, header


def lead_layout(header, source):
    """Return the standard index of each lead the record has, and its header position.

    Names match case-insensitively. A name that is not one of the 12 is an
    error, unless the record has all 12 (then it is an extra channel, such
    as a Frank lead, and is ignored): in a reduced-lead record it may be a
    misspelt standard lead, which would otherwise be lost without a word.

    Returns
    -------
    present : ndarray of int
        Sorted standard indices of the record's leads.
    positions : ndarray of int
        Header position of each of them.
    """
    positions, unknown = {}, []
    for position, name in enumerate(header.lead_names):
        index = _STANDARD.get(name.lower())
        if index is None:
            unknown.append(name)
        elif index in positions:
            raise ValueError(f"Record {source} has lead {LEAD_NAMES[index]!r} twice.")
        else:
            positions[index] = position
    if unknown and len(positions) < len(LEAD_NAMES):
        missing = [lead for i, lead in enumerate(LEAD_NAMES) if i not in positions]
        raise ValueError(
            f"Record {source} has leads {unknown} that are not standard lead names "
            f"{list(LEAD_NAMES)} (case-insensitive), and lacks the standard leads {missing}; "
            "rename the leads in its header."
        )
    if not positions:
        raise ValueError(f"Record {source} has none of the 12 standard leads.")
    present = np.array(sorted(positions))
    return present, np.array([positions[i] for i in present])


def check_header(header_path, header):
    """Return the standard indices of the record's leads; raise ValueError for unreadable signals."""
    present, _ = lead_layout(header, header_path)
    for unit in header.units:
        if unit.lower() not in _UNIT_IN_MV:
            raise ValueError(f"Record {header_path} has signals in {unit!r}, not a voltage unit.")
    return present


def read_signal(header_path, header):
    """Return the standard indices of the record's leads and their signals in mV.

    Returns
    -------
    present : ndarray of int
        Sorted standard indices, from :func:`lead_layout`.
    signal : ndarray of shape (len(present), n_samples), float64
    """
    present, positions = lead_layout(header, header_path)
    signal_path = header_path.parent / header.signal_file
    if not signal_path.is_file():
        raise ValueError(f"Missing signal file {signal_path} of header {header_path}.")
    if signal_path.suffix.lower() == ".mat":
        signal = _read_mat(signal_path, header, positions)
    else:
        signal = _read_wfdb(header_path, signal_path, header, positions)
    bad = ~np.isfinite(signal).all(axis=1)
    if bad.any():
        raise ValueError(
            f"Signal file {signal_path} has NaN or infinite samples in leads "
            f"{[LEAD_NAMES[i] for i in present[bad]]}."
        )
    in_mv = np.array([_UNIT_IN_MV[header.units[i].lower()] for i in positions])
    if (in_mv != 1.0).any():
        signal *= in_mv[:, None]
    return present, signal


def _read_mat(mat_path, header, positions):
    """``(val - baseline) / gain`` of the challenge's MATLAB file, float64."""
    try:
        val = scipy.io.loadmat(mat_path, variable_names=["val"]).get("val")
    except Exception as exc:  # scipy raises half a dozen types for damaged files
        raise ValueError(f"Cannot read signal file {mat_path}: {exc}") from exc
    if val is None:
        raise ValueError(f"Signal file {mat_path} has no variable 'val'.")
    if not (np.issubdtype(val.dtype, np.integer) or np.issubdtype(val.dtype, np.floating)):
        raise ValueError(f"Signal file {mat_path} holds {val.dtype} values, not numbers.")
    if val.shape != (header.n_leads, header.n_samples):
        raise ValueError(
            f"Signal file {mat_path} holds an array of shape {val.shape}, but its header "
            f"declares {header.n_leads} leads x {header.n_samples} samples."
        )
    signal = val[positions].astype(np.float64)
    baselines = np.array([header.baselines[i] for i in positions])
    if baselines.any():
        signal -= baselines[:, None]
    # Divide rather than multiply by 1 / gain, so that values equal val / gain exactly.
    signal /= np.array([header.gains[i] for i in positions])[:, None]
    return signal


def _read_wfdb(header_path, signal_path, header, positions):
    """The physical values ``wfdb.rdrecord`` gives (gain and baseline applied), float64."""
    _check_size(signal_path, header)
    try:
        record = _wfdb().rdrecord(str(header_path.with_suffix("")), physical=True)
    except Exception as exc:  # wfdb raises many types for bad files
        raise ValueError(f"Cannot read signal file {signal_path}: {exc}") from exc
    signal = record.p_signal
    if signal is None or signal.shape != (header.n_samples, header.n_leads):
        shape = None if signal is None else signal.shape
        raise ValueError(
            f"Signal file {signal_path} gives samples of shape {shape}, but its header "
            f"declares {header.n_samples} samples x {header.n_leads} leads."
        )
    return np.ascontiguousarray(signal.T[positions], dtype=np.float64)


def _wfdb():
    """The wfdb package, imported on first use (it imports pandas)."""
    with warnings.catch_warnings():
        # Its import uses pandas features that newer pandas deprecates; not the user's concern.
        warnings.filterwarnings("ignore", module="wfdb")
        import wfdb
    return wfdb


def _check_size(signal_path, header):
    """Raise when a WFDB signal file is shorter than its header declares.

    wfdb itself fails on a short file with a reshape or broadcast error that
    names neither the file nor the problem.
    """
    formats = set(header.formats)
    if len(formats) != 1:
        return
    fmt, _, offset = formats.pop().partition("+")
    if fmt not in _BYTES_PER_SAMPLE or (offset and not offset.isdigit()):
        return  # samples per frame, skew, or a format of unknown size: wfdb decides
    expected = int(offset or 0) + math.ceil(
        header.n_leads * header.n_samples * _BYTES_PER_SAMPLE[fmt]
    )
    actual = signal_path.stat().st_size
    if actual < expected:
        raise ValueError(
            f"Signal file {signal_path} is shorter than its header says: {actual} bytes, "
            f"but {header.n_leads} leads x {header.n_samples} samples in format {fmt} "
            f"need {expected}."
        )


def _header_path(path):
    """The ``.hea`` file of a record given by its header, signal file or base path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".hea":
        return path
    return path.with_suffix(".hea") if suffix in (".mat", ".dat") else Path(f"{path}.hea")
