"""LUDB in its own layout: ``ludb.csv`` and the records ``data/N.{hea,dat}``."""

import math
import re

from ._bunch import RecordEntry
from ._csv import read_csv
from ._loader import existing_folder, load_layouts
from ._options import LoadOptions

__all__ = ["LUDBLayout", "load_ludb"]

_REQUIRED = ("ID", "Sex", "Age", "Rhythms")
_SEX = {"F": "Female", "M": "Male"}


class LUDBLayout:
    """A LUDB folder: the records ``ludb.csv`` lists, labelled by their rhythms."""

    name = "ludb"
    title = "LUDB 12-lead ECG records (Lobachevsky University Database)"
    citation = (
        "LUDB, Open Data Commons Attribution License v1.0 (ODC-By). Cite Kalyakulina et\n"
        "al., IEEE Access 8 (2020), and PhysioNet (Goldberger et al., Circulation 101,\n"
        "e215, 2000)."
    )

    def __init__(self, root, labels):
        if labels not in ("rhythm", None):
            raise ValueError(f'LUDB labels must be "rhythm" or None, got {labels!r}.')
        self.root, self.labels = root, labels
        self.label_text = "unlabelled" if labels is None else "LUDB's rhythms"
        self._table = root / "ludb.csv"
        self._columns, rows = read_csv(self._table, _REQUIRED)
        self._rows = {root / "data" / f"{row['ID'].strip()}.hea": row for row in rows}
        if len(self._rows) < len(rows):
            raise ValueError(f"Database file {self._table} lists a record ID twice.")

    def record_paths(self):
        return list(self._rows)

    def entry(self, header_path, header, present):
        row = self._rows[header_path]
        rhythms = rhythms_of(row)
        metadata = {
            "database": "LUDB",
            "age": header.age if not math.isnan(header.age) else _age(row["Age"]),
            "sex": _SEX.get((header.sex or row["Sex"]).strip(), ""),
            "codes": rhythms,
        }
        for column in self._columns:
            if column not in ("ID", "Sex", "Age"):
                metadata[_field_name(column)] = row[column].strip()
        labels = rhythms if self.labels is not None else ()
        return RecordEntry(header_path, header, str(self.root), self.name, present, labels,
                           group=header_path.stem, fold=-1, metadata=metadata)

    def classes(self, entries):
        classes = sorted({rhythm for row in self._rows.values() for rhythm in rhythms_of(row)})
        return classes, classes


def rhythms_of(row):
    """The rhythms of a row of ``ludb.csv``: one per line of its ``Rhythms`` cell."""
    lines = (line.strip().rstrip(".") for line in row["Rhythms"].splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


def _age(text):
    # LUDB writes ages over 89 as ">89"; the header has the number.
    try:
        return float(text)
    except ValueError:
        return math.nan


def _field_name(column):
    """``"Electric axis of the heart"`` -> ``"electric_axis_of_the_heart"``."""
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")


def load_ludb(
    path,
    *,
    fs=100,
    duration=10.0,
    crop="start",
    labels="rhythm",
    on_error="raise",
    n_jobs=None,
    cache_dir=None,
    verbose=0,
):
    """Load the Lobachevsky University Database (LUDB) from its own folder layout.

    The folder is LUDB as PhysioNet publishes it (or a part of it):
    ``ludb.csv`` lists the records with their diagnoses, and the signals are
    native WFDB records ``data/N.hea`` + ``data/N.dat`` (500 Hz, 10 s, lead
    names in lower case, a gain and baseline per lead, which the loader
    applies). Rows follow the order of ``ludb.csv``. The wave annotations
    of LUDB are not read.

    Parameters
    ----------
    path : str or path-like
        The LUDB folder (the one holding ``ludb.csv``).
    fs : float or None, default=100
        Sampling rate of ``X`` in Hz (LUDB's records are at 500 Hz).
        Resampling as in :func:`load_physionet`.
    duration : float or None, default=10.0
        Seconds per row.
    crop : {"start", "center", "windows"}, default="start"
        Which part of a record becomes a row, as in :func:`load_physionet`.
    labels : {"rhythm"} or None, default="rhythm"
        ``"rhythm"``: multi-hot over the rhythms of ``ludb.csv`` (its
        ``Rhythms`` column, one rhythm per line of a cell; a record may have
        two, such as ``Sinus rhythm`` and ``Wandering atrial pacemaker``),
        every rhythm of the file a column, sorted. None: unlabelled.
    on_error : {"raise", "skip"}, default="raise"
        What a bad record does, as in :func:`load_physionet`.
    n_jobs : int or None, default=None
        Records read in parallel by joblib.
    cache_dir : str or path-like or None, default=None
        Folder of the on-disk cache, as in :func:`load_physionet`.
    verbose : int, default=0
        Show progress bars when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The layout of :func:`load_physionet`, with ``classes`` and
        ``class_names`` the rhythms, ``records`` the record numbers
        (``"1"``...), ``groups`` the records (one record per patient) and
        ``folds`` None. ``metadata`` has ``age`` (from the header, which
        has the ages ``ludb.csv`` writes ``>89``), ``sex`` (``"Male"`` or
        ``"Female"``), ``codes`` (the rhythms) and every other column of
        ``ludb.csv`` as text, named in snake case (``rhythms``,
        ``electric_axis_of_the_heart``, ``conduction_abnormalities``,
        ``hypertrophies``, ``ischemia``...).

    Raises
    ------
    ValueError
        If ``ludb.csv`` is missing or lacks one of its ``ID``, ``Sex``,
        ``Age`` and ``Rhythms`` columns, ``labels`` is not valid, or a
        record is bad (as in :func:`load_physionet`; skipped with
        ``on_error="skip"``).

    Notes
    -----
    LUDB is published under the Open Data Commons Attribution License
    v1.0. Cite Kalyakulina et al., "LUDB: a new open-access validation tool
    for electrocardiogram delineation algorithms", IEEE Access 8 (2020), and
    PhysioNet.

    Examples
    --------
    A LUDB folder of one record, its two rhythms on two lines of a cell:

    >>> import tempfile, pathlib
    >>> import numpy as np, wfdb
    >>> from sklearn_ecg.datasets import load_ludb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = pathlib.Path(tmp.name)
    >>> _ = (root / "ludb.csv").write_text(
    ...     'ID,Sex,Age,Rhythms\\n1,"F\\n","51\\n","Sinus rhythm\\nWandering atrial pacemaker"\\n')
    >>> (root / "data").mkdir()
    >>> leads = ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]
    >>> wfdb.wrsamp("1", fs=500, units=["mV"] * 12, sig_name=leads,
    ...             d_signal=np.full((5000, 12), 700, dtype=np.int32), fmt=["16"] * 12,
    ...             adc_gain=[1716.0] * 12, baseline=[6] * 12, comments=["<age>: 51"],
    ...             write_dir=str(root / "data"))
    >>> data = load_ludb(root, fs=100)
    >>> data.X.shape, data.classes.tolist(), data.y.tolist()
    ((1, 12, 1000), ['Sinus rhythm', 'Wandering atrial pacemaker'], [[1, 1]])
    >>> round(float(data.X[0, 0, 0]), 4), data.metadata["sex"].tolist()  # (700 - 6) / 1716
    (0.4044, ['Female'])
    >>> tmp.cleanup()
    """
    options = LoadOptions(fs=fs, duration=duration, crop=crop, on_error=on_error,
                          n_jobs=n_jobs, cache_dir=cache_dir, verbose=verbose)
    root = existing_folder(path, "LUDB records")
    return load_layouts([LUDBLayout(root, labels)], options)
