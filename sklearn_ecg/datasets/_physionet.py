"""Load PhysioNet/CinC challenge records (``NAME.hea`` + ``NAME.mat``) into arrays."""

import math
import warnings
from fractions import Fraction
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import scipy.io
from joblib import Parallel, delayed
from scipy.signal import firwin, resample_poly
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..classes import code_names, scored_classes
from ..leads import LEAD_NAMES
from ._cache import cache_key, create_array, list_files, load_cache, save_cache
from ._header import read_header

__all__ = ["load_physionet", "read_record"]

# Source database of a record, from the letters that start its name.
_DATABASES = {
    "A": "CPSC2018",
    "Q": "CPSC-Extra",
    "E": "Georgia",
    "HR": "PTB-XL",
    "S": "PTB",
    "I": "StPetersburg/INCART",
    "JS": "Chapman-Shaoxing/Ningbo",
}
# Physical units a header may use, in mV.
_UNIT_IN_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}
_CROPS = ("start", "center", "windows")
# Bump when the loader's output changes, so that old cache entries are not reused.
_CACHE_VERSION = 1
_N_SHOWN = 3  # problems quoted in a warning or error before "see bunch.skipped"
_CHUNK_ROWS = 1024  # rows copied at a time when dropping failed records


def read_record(path):
    """Read one challenge record in mV, leads in standard order.

    Parameters
    ----------
    path : str or path-like
        The record's ``.hea`` file, its ``.mat`` file, or its path without
        extension.

    Returns
    -------
    signal : ndarray of shape (12, n_samples), dtype float32
        ``(val - baseline) / gain`` per lead in mV at the record's own rate,
        rows in :data:`~sklearn_ecg.leads.LEAD_NAMES` order. The baseline is
        the header's (0 in every challenge file), so this is ``val / gain``,
        what the challenge's example code computes.
    header : RecordHeader
        Everything the header says (rate, gains, age, sex, codes...), leads
        in file order.

    Raises
    ------
    ValueError
        If a file is missing or unreadable, the header is malformed, the
        signal's shape disagrees with the header, a sample is NaN or
        infinite, or one of the 12 standard leads is absent.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, scipy.io
    >>> from sklearn_ecg.datasets._physionet import read_record
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
    return _read_signal(header_path, header).astype(np.float32), header


def load_physionet(
    path,
    *,
    fs=100,
    duration=10.0,
    crop="start",
    year=2020,
    on_error="raise",
    n_jobs=None,
    cache_dir=None,
    verbose=0,
):
    """Load a folder of PhysioNet/CinC challenge records.

    Every ``NAME.hea`` under ``path`` (searched recursively) with its
    ``NAME.mat`` becomes one row of ``X`` (several with ``crop="windows"``),
    rows sorted by the header's path relative to ``path``. Headers in every
    dialect of the 2020 and 2021 challenge data are read (``#Dx:`` and
    ``# Dx:``, a record line naming the ``.mat`` file, gains such as
    ``1000/mV`` or ``1000.0(0)/mv``). ``.mat`` files without a header are
    not records and are ignored.

    Parameters
    ----------
    path : str or path-like
        Folder of the records.
    fs : float or None, default=100
        Sampling rate of ``X`` in Hz. Records are resampled with
        :func:`scipy.signal.resample_poly` (its default Kaiser filter) by the
        rational ratio ``fs / fs_record`` (denominator at most 1000; exact
        for the challenge's 257, 500 and 1000 Hz), repeating the end values
        beyond the signal's ends (``padtype="edge"``) so that no edge
        transient appears. Only the part of a record a row needs is
        resampled, plus the filter's reach. None keeps the records' own
        rate, which must then be the same for all.
    duration : float or None, default=10.0
        Seconds per row; ``n_times = round(duration * fs)``. None keeps
        whole records, which must then all have the same length
        (not allowed with ``crop="windows"``).
    crop : {"start", "center", "windows"}, default="start"
        Which part of a record becomes a row. ``"start"``: the first
        ``duration`` seconds. ``"center"``: the middle ``duration``
        seconds. ``"windows"``: every full non-overlapping window of
        ``duration`` seconds, several rows per record; a last partial window
        is dropped, except that a record shorter than one window gives one
        row. A record shorter than a row is zero-padded at the end, in every
        mode.
    year : {2020, 2021, None, "all"}, default=2020
        Classes of ``y``. 2020: the 24 scored classes (equivalent codes
        merged); 2021: the 26 scored classes; None or ``"all"``: every code
        present in the loaded records, sorted as strings, unmerged. With
        2020 or 2021, a code missing from the challenge tables
        (:func:`~sklearn_ecg.classes.code_names`) is an error.
    on_error : {"raise", "skip"}, default="raise"
        What a bad record does: ``"raise"`` a ValueError naming the file and
        the problem, or ``"skip"`` it, with one warning that summarises the
        skipped records and each listed in ``skipped``.
    n_jobs : int or None, default=None
        Records read in parallel by joblib; None means 1 unless in a
        :func:`joblib.parallel_config` context, -1 means all processors.
    cache_dir : str or path-like or None, default=None
        Folder of an on-disk cache. The result is stored there under a key
        made of the loading parameters, the folder's absolute path and the
        relative path, size and modification time of every ``.hea`` and
        ``.mat`` file, so that a changed folder is read again; loading the
        same folder again only opens the entry. With a cache, ``X`` is a
        read-only memory-mapped array, also on the first load, whose rows
        are written straight to the cache file: a dataset larger than
        memory can be loaded. Entries are written to temporary files and
        renamed, so an interrupted load leaves no partial entry; stale
        entries are not deleted.
    verbose : int, default=0
        Show progress bars when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        X : ndarray of shape (n_rows, 12, n_times), dtype float32
            Signals in mV, ``(val - baseline) / gain`` per lead as in
            :func:`read_record` (the baseline is 0 in the challenge files),
            leads reordered by name to
            :data:`~sklearn_ecg.leads.LEAD_NAMES`.
        y : ndarray of shape (n_rows, n_classes), dtype uint8
            Multi-hot labels; a record with no code among the classes
            has a row of zeros (it is kept).
        classes : ndarray of str
            SNOMED-CT code of each column of ``y``.
        class_names : ndarray of str
            Abbreviation of each class (the code when it has none).
        records : ndarray of str
            Record name of each row (the ``.hea`` file name without suffix).
        leads : ndarray of str
            Lead names of axis 1 of ``X``.
        fs : float
            Sampling rate of ``X``.
        metadata : dict of str to ndarray
            One value per row: ``record``, ``start`` (seconds into the
            record where the row begins), ``database`` (from the name's
            prefix, ``"unknown"`` otherwise), ``fs_original``,
            ``n_samples_original``, ``duration_original`` (seconds),
            ``age`` (NaN when unknown), ``sex`` (``""`` when unknown),
            ``codes`` (tuple of every code of the ``Dx`` line, scored or
            not), ``n_zero_leads`` (all-zero leads of the whole record) and
            ``path`` (of the header). Group cross-validation folds by
            ``record`` when rows are windows.
        skipped : list of (str, str)
            Record name and reason of each skipped record.
        DESCR : str
            Description of the loaded data.

    Raises
    ------
    ValueError
        If ``path`` holds no record, a record is bad and
        ``on_error="raise"`` (or no record is left after skipping), or the
        records do not share a rate or length that ``fs=None`` or
        ``duration=None`` needs.

    Warns
    -----
    UserWarning
        Once when records were skipped, and once when some records have an
        all-zero lead (they are kept).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, scipy.io
    >>> from sklearn_ecg.datasets import load_physionet
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> for name, dx in [("A0001", "164889003"), ("A0002", "426783006,59118001")]:
    ...     lines = [f"{name} 12 500 6000"]
    ...     lines += [f"{name}.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in leads]
    ...     _ = (folder / f"{name}.hea").write_text("\\n".join(lines + [f"#Dx: {dx}"]))
    ...     val = np.random.default_rng(0).integers(-500, 500, (12, 6000), dtype=np.int16)
    ...     scipy.io.savemat(folder / f"{name}.mat", {"val": val})
    >>> data = load_physionet(folder, fs=100, duration=10.0)
    >>> data.X.shape, data.y.shape
    ((2, 12, 1000), (2, 24))
    >>> [data.class_names[row == 1].tolist() for row in data.y]
    [['AF'], ['CRBBB', 'NSR']]
    >>> windows = load_physionet(folder, duration=5.0, crop="windows")
    >>> windows.X.shape, windows.metadata["start"].tolist()
    ((4, 12, 500), [0.0, 5.0, 0.0, 5.0])
    >>> tmp.cleanup()
    """
    _check_params(fs, duration, crop, year, on_error, verbose)
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"path must be a folder of challenge records; {root} is not a folder.")
    year = None if year == "all" else year
    if cache_dir is None:
        data = _load(root, fs, duration, crop, year, on_error, n_jobs, verbose, _in_memory)
    else:
        data = _load_cached(root, fs, duration, crop, year, on_error, n_jobs, verbose, cache_dir)
    _warn(data)
    return data


def _in_memory(shape):
    return np.empty(shape, dtype=np.float32)


def _cache_params(fs, duration, crop, year, on_error):
    """What, besides the files, decides the content of a cache entry."""
    return dict(
        fs=fs, duration=duration, crop=crop, year=year, on_error=on_error, version=_CACHE_VERSION
    )


def _load_cached(root, fs, duration, crop, year, on_error, n_jobs, verbose, cache_dir):
    """Return the cache entry of the load, reading the records only when it is missing."""
    key = cache_key(root, _cache_params(fs, duration, crop, year, on_error))
    cached = load_cache(cache_dir, key)
    if cached is not None:
        return _from_arrays(*cached)
    temp_files = []

    def allocate(shape):
        # Rows go straight to a file, so that data larger than memory can be loaded.
        X = create_array(cache_dir, shape)
        temp_files.append(X.filename)
        return X

    try:
        data = _load(root, fs, duration, crop, year, on_error, n_jobs, verbose, allocate)
        filled = data.pop("X")
        filled.flush()
        path = filled.filename
        del filled  # the last reference: the map closes before the file moves
        data.X = save_cache(cache_dir, key, path, _to_arrays(data))
    finally:
        for temp in temp_files:  # only those not moved into the entry remain
            Path(temp).unlink(missing_ok=True)
    return data


def _check_params(fs, duration, crop, year, on_error, verbose):
    if fs is not None and not (isinstance(fs, Real) and math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive number or None, got {fs!r}.")
    if duration is not None and not (
        isinstance(duration, Real) and math.isfinite(duration) and duration > 0
    ):
        raise ValueError(
            f"duration must be a positive number of seconds or None, got {duration!r}."
        )
    if crop not in _CROPS:
        raise ValueError(f"crop must be one of {_CROPS}, got {crop!r}.")
    if crop == "windows" and duration is None:
        raise ValueError('crop="windows" needs a window duration; got duration=None.')
    if fs is not None and duration is not None and round(duration * fs) < 1:
        raise ValueError(f"duration={duration} s at fs={fs} Hz is shorter than one sample.")
    if year not in (2020, 2021, None, "all"):
        raise ValueError(f'year must be 2020, 2021, None or "all", got {year!r}.')
    if on_error not in ("raise", "skip"):
        raise ValueError(f'on_error must be "raise" or "skip", got {on_error!r}.')
    if not isinstance(verbose, Integral):
        raise ValueError(f"verbose must be an integer, got {verbose!r}.")


def _load(root, fs, duration, crop, year, on_error, n_jobs, verbose, allocate):
    """Read the records under ``root`` into ``allocate(shape)``; see :func:`load_physionet`."""
    header_paths = list_files(root, (".hea",))
    if not header_paths:
        raise ValueError(f"No challenge records (.hea files) found under {root}.")
    problems = {}  # header path -> reason, for on_error="skip"

    def fail(header_path, message):
        if on_error == "raise":
            raise ValueError(message)
        problems[header_path] = message

    def skipped():
        return [(path.stem, problems[path]) for path in header_paths if path in problems]

    records = _read_headers(header_paths, year, fail, verbose)
    _require_some(records, skipped(), root)
    if fs is None:
        fs = _common([header.fs for _, header in records], "sampling rate", "fs")
    plans = [_plan(header, fs, duration, crop) for _, header in records]
    n_times = _common([plan[3] for plan in plans], "length", "duration")

    n_rows = [len(plan[2]) for plan in plans]
    X = allocate((sum(n_rows), len(LEAD_NAMES), n_times))
    n_zero_leads = _read_signals(X, records, plans, n_jobs, fail, verbose)
    ok = n_zero_leads >= 0
    if not ok.all():
        kept_rows = np.flatnonzero(np.repeat(ok, n_rows))
        X, full = allocate((len(kept_rows),) + X.shape[1:]), X
        for start in range(0, len(kept_rows), _CHUNK_ROWS):  # bounded memory for a memmap
            X[start : start + _CHUNK_ROWS] = full[kept_rows[start : start + _CHUNK_ROWS]]
        del full
        records = [record for record, keep in zip(records, ok) if keep]
        plans = [plan for plan, keep in zip(plans, ok) if keep]
        n_zero_leads = n_zero_leads[ok]
        _require_some(records, skipped(), root)
    return _assemble(root, X, records, plans, n_zero_leads, fs, year, skipped(), crop)


def _read_headers(header_paths, year, fail, verbose):
    """Return (path, header) of each header that parses and passes the checks."""
    records = []
    for header_path in tqdm(header_paths, desc="headers", disable=verbose <= 0):
        try:
            header = read_header(header_path)
            _check_header(header_path, header, year)
        except ValueError as exc:
            fail(header_path, str(exc))
        else:
            records.append((header_path, header))
    return records


def _read_signals(X, records, plans, n_jobs, fail, verbose):
    """Fill ``X`` with the records' rows; return all-zero lead counts, -1 for failures."""
    n_zero_leads = np.full(len(records), -1, dtype=np.int64)
    tasks = (
        delayed(_read_rows)(header_path, header, *plan)
        for (header_path, header), plan in zip(records, plans)
    )
    # The generator keeps one record's rows at a time in flight, not the whole data twice.
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    progress = tqdm(total=len(records), desc="records", disable=verbose <= 0)
    row = 0
    try:
        for i, (rows, zeros, error) in enumerate(results):
            if error is None:
                X[row : row + len(rows)] = rows
                n_zero_leads[i] = zeros
            else:
                fail(records[i][0], error)
            row += len(plans[i][2])
            progress.update()
    finally:
        progress.close()
        # After an error the remaining tasks are cancelled, which joblib reports in a
        # warning that would only add noise to the ValueError.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"[0-9]+ tasks (which were|have been)", UserWarning)
            results.close()
    return n_zero_leads


def _header_path(path):
    """The ``.hea`` file of a record given by its header, signal file or base path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".hea":
        return path
    return path.with_suffix(".hea") if suffix == ".mat" else Path(f"{path}.hea")


def _lead_order(header, source):
    """Return the header position of each standard lead, in LEAD_NAMES order."""
    positions = {}
    for position, name in enumerate(header.lead_names):
        key = name.lower()
        if key in positions:
            raise ValueError(f"Record {source} has lead {name!r} twice.")
        positions[key] = position
    missing = [lead for lead in LEAD_NAMES if lead.lower() not in positions]
    if missing:
        raise ValueError(
            f"Record {source} lacks the standard leads {missing} "
            f"(its leads: {list(header.lead_names)})."
        )
    return [positions[lead.lower()] for lead in LEAD_NAMES]


def _check_header(header_path, header, year):
    """Raise ValueError for what makes a parsed header unusable for the loader."""
    _lead_order(header, header_path)
    for unit in header.units:
        if unit.lower() not in _UNIT_IN_MV:
            raise ValueError(f"Record {header_path} has signals in {unit!r}, not a voltage unit.")
    if header.codes is None:
        raise ValueError(f"Header {header_path} has no Dx line (diagnosis codes).")
    if not header.codes:
        raise ValueError(f"Header {header_path} has an empty Dx line (no diagnosis code).")
    if year is not None:
        known = code_names()
        for code in header.codes:
            if code not in known:
                raise ValueError(
                    f"Unknown code {code!r} in file {header_path}: it is in no challenge table; "
                    "load with year=None to keep codes outside the tables."
                )


def _read_signal(header_path, header):
    """Return the record's signals in mV, float64, rows in LEAD_NAMES order."""
    mat_path = header_path.parent / header.signal_file
    if not mat_path.is_file():
        raise ValueError(f"Missing signal file {mat_path} of header {header_path}.")
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
    order = _lead_order(header, header_path)
    signal = val[order].astype(np.float64)
    bad = ~np.isfinite(signal).all(axis=1)
    if bad.any():
        raise ValueError(
            f"Signal file {mat_path} has NaN or infinite samples in leads "
            f"{[lead for lead, b in zip(LEAD_NAMES, bad) if b]}."
        )
    baselines = np.array([header.baselines[i] for i in order])
    if baselines.any():
        signal -= baselines[:, None]
    # Divide rather than multiply by 1 / gain, so that values equal val / gain exactly.
    signal /= np.array([header.gains[i] for i in order])[:, None]
    in_mv = np.array([_UNIT_IN_MV[header.units[i].lower()] for i in order])
    if (in_mv != 1.0).any():
        signal *= in_mv[:, None]
    return signal


def _rate_ratio(fs_out, fs_in):
    """Return (up, down): fs_out / fs_in in lowest terms, denominator at most 1000.

    The limit bounds the filter length (20 * max(up, down) taps) for odd rates;
    every rate of the challenge data gives an exact ratio.
    """
    ratio = (Fraction(str(float(fs_out))) / Fraction(str(float(fs_in)))).limit_denominator(1000)
    return ratio.numerator, ratio.denominator


def _plan(header, fs, duration, crop):
    """Return (up, down, row starts, n_times) of a record, starts on the output grid."""
    up, down = _rate_ratio(fs, header.fs)
    n_out = -(-header.n_samples * up // down)  # resample_poly's output length
    n_times = n_out if duration is None else round(duration * fs)
    if crop == "center":
        starts = [max(0, (n_out - n_times) // 2)]
    elif crop == "windows":
        starts = list(range(0, max(n_out // n_times, 1) * n_times, n_times))
    else:
        starts = [0]
    return up, down, starts, n_times


def _read_rows(header_path, header, up, down, starts, n_times):
    """Return (rows, number of all-zero leads, None), or (None, None, error message)."""
    try:
        signal = _read_signal(header_path, header)
    except ValueError as exc:
        return None, None, str(exc)
    zeros = int((~signal.any(axis=1)).sum())
    span = _resample_span(signal, up, down, starts[0], starts[-1] + n_times)
    rows = np.stack([span[:, s - starts[0] : s - starts[0] + n_times] for s in starts])
    return rows.astype(np.float32), zeros, None


def _resample_span(x, up, down, start, stop):
    """Samples [start, stop) of ``resample_poly(x, up, down)``, zero-padded past the end.

    Only the input under the anti-aliasing filter of those samples is resampled,
    which saves most of the work on long records cropped to a few seconds. The
    slice starts on a multiple of ``down``, so its output grid is the record's.
    """
    if up == down:
        span = x[:, start:stop]
    else:
        # The filter spans 10 * max(up, down) up-sampled samples each side.
        margin = 10 * max(up, down) // up + 2
        first = max(0, start * down // up - margin)
        first -= first % down
        last = min(x.shape[1], -(-stop * down // up) + margin)
        resampled = resample_poly(
            x[:, first:last], up, down, axis=-1, window=_lowpass(up, down), padtype="edge"
        )
        offset = first * up // down
        span = resampled[:, start - offset : stop - offset]
    return np.pad(span, ((0, 0), (0, stop - start - span.shape[1])))


@lru_cache(maxsize=16)
def _lowpass(up, down):
    """The anti-aliasing filter ``resample_poly`` designs by default, made once per ratio."""
    max_rate = max(up, down)
    return firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))


def _common(values, what, option):
    """Return the one value of ``values``; several mean ``option=None`` cannot work."""
    values = sorted(set(values))
    if len(values) > 1:
        raise ValueError(
            f"{option}=None needs records of one {what}, but they have {len(values)} "
            f"different ones ({values[:5]}); set {option} to a number."
        )
    return values[0]


def _require_some(records, skipped, root):
    """Raise when skipping left no record."""
    if not records:
        problems = "; ".join(f"{name}: {reason}" for name, reason in skipped[:_N_SHOWN])
        raise ValueError(
            f"None of the {len(skipped)} records under {root} could be loaded: {problems}"
        )


def _database(name):
    """Source database of a record from its name's capital-letter prefix."""
    letters = name[: len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    return _DATABASES.get(letters, "unknown")


def _classes(year, headers):
    """Return class codes, their names and a map from every mapped code to its column."""
    names = code_names()
    if year is None:
        classes = sorted({code for header in headers for code in header.codes})
        columns = {code: i for i, code in enumerate(classes)}
        return classes, [names.get(code, code) for code in classes], columns
    table = scored_classes(year)
    columns = {code: table.classes.index(rep) for code, rep in table.equivalent.items()}
    return list(table.classes), list(table.names), columns


def _assemble(root, X, records, plans, n_zero_leads, fs, year, skipped, crop):
    """Build the Bunch from the signals and the records' headers."""
    headers = [header for _, header in records]
    classes, class_names, columns = _classes(year, headers)
    y = np.zeros((len(headers), len(classes)), dtype=np.uint8)
    for i, header in enumerate(headers):
        for code in header.codes:
            if code in columns:
                y[i, columns[code]] = 1
    repeats = [len(plan[2]) for plan in plans]
    names = [path.stem for path, _ in records]
    codes = np.empty(len(headers), dtype=object)
    codes[:] = [header.codes for header in headers]
    per_record = {
        "record": np.array(names),
        "database": np.array([_database(name) for name in names]),
        "fs_original": np.array([header.fs for header in headers], dtype=float),
        "n_samples_original": np.array([header.n_samples for header in headers], dtype=np.int64),
        "duration_original": np.array([header.duration for header in headers], dtype=float),
        "age": np.array([header.age for header in headers], dtype=float),
        "sex": np.array([header.sex for header in headers], dtype=str),
        "codes": codes,
        "n_zero_leads": n_zero_leads,
        "path": np.array([str(path) for path, _ in records]),
    }
    metadata = {key: np.repeat(value, repeats) for key, value in per_record.items()}
    metadata["start"] = np.array([start / fs for plan in plans for start in plan[2]])
    descr = _describe(root, X, metadata, fs, crop, year, len(classes), skipped)
    return Bunch(
        X=X,
        y=np.repeat(y, repeats, axis=0),
        classes=np.array(classes, dtype=str),
        class_names=np.array(class_names, dtype=str),
        records=metadata["record"],
        leads=np.array(LEAD_NAMES),
        fs=float(fs),
        metadata=metadata,
        skipped=skipped,
        DESCR=descr,
    )


def _describe(root, X, metadata, fs, crop, year, n_classes, skipped):
    _, first_rows = np.unique(metadata["path"], return_index=True)
    n_records = len(first_rows)
    databases, counts = np.unique(metadata["database"][first_rows], return_counts=True)
    sources = ", ".join(f"{db} {n}" for db, n in zip(databases, counts))
    classes = f"the scored classes of {year}" if year is not None else "every code present"
    return (
        "PhysioNet/CinC Challenge 12-lead ECG records\n"
        "--------------------------------------------\n\n"
        f"Folder: {root}\n"
        f"Records: {n_records} ({sources}); skipped: {len(skipped)}.\n"
        f"X: {X.shape[0]} rows x {X.shape[1]} leads x {X.shape[2]} samples at {fs:g} Hz "
        f"(crop={crop!r}), float32 mV.\n"
        f"y: {n_classes} classes, {classes}.\n\n"
        "Data of the PhysioNet/Computing in Cardiology Challenges 2020-2021, CC BY 4.0\n"
        "(PTB and INCART: ODC-By). Cite Perez Alday et al., Physiol. Meas. 41 (2020)\n"
        "124003, and Reyna et al., Computing in Cardiology 2021.\n"
    )


def _warn(data):
    """Emit the load's warnings; also on cache hits, so that none is lost."""
    if data.skipped:
        shown = "; ".join(f"{name}: {reason}" for name, reason in data.skipped[:_N_SHOWN])
        more = " ..." if len(data.skipped) > _N_SHOWN else ""
        warnings.warn(
            f"Skipped {len(data.skipped)} bad records ({shown}{more}); "
            "every one is listed with its reason in the result's `skipped`.",
            UserWarning,
            stacklevel=3,
        )
    paths, first = np.unique(data.metadata["path"], return_index=True)
    n_zero = int((data.metadata["n_zero_leads"][first] > 0).sum())
    if n_zero:
        warnings.warn(
            f"{n_zero} of {len(paths)} records have at least one all-zero lead; they are "
            "kept, with the count of such leads in metadata['n_zero_leads'].",
            UserWarning,
            stacklevel=3,
        )


def _to_arrays(data):
    """Flatten a Bunch into arrays the cache can store without pickle."""
    arrays = {f"metadata.{key}": value for key, value in data.metadata.items()}
    arrays["metadata.codes"] = np.array([",".join(codes) for codes in data.metadata["codes"]])
    skipped = np.array(data.skipped, dtype=str).reshape(len(data.skipped), 2)
    return dict(
        arrays,
        y=data.y,
        classes=data.classes,
        class_names=data.class_names,
        leads=data.leads,
        fs=np.array(data.fs),
        skipped=skipped,
        DESCR=np.array(data.DESCR),
    )


def _from_arrays(X, arrays):
    """Rebuild the Bunch that :func:`_to_arrays` flattened."""
    metadata = {
        key.removeprefix("metadata."): value
        for key, value in arrays.items()
        if key.startswith("metadata.")
    }
    codes = np.empty(len(metadata["codes"]), dtype=object)
    codes[:] = [tuple(text.split(",")) if text else () for text in metadata["codes"]]
    metadata["codes"] = codes
    return Bunch(
        X=X,
        y=arrays["y"],
        classes=arrays["classes"],
        class_names=arrays["class_names"],
        records=metadata["record"],
        leads=arrays["leads"],
        fs=float(arrays["fs"]),
        metadata=metadata,
        skipped=[(str(name), str(reason)) for name, reason in arrays["skipped"]],
        DESCR=str(arrays["DESCR"]),
    )
