"""Folders of PhysioNet/CinC challenge records, and of any WFDB records with challenge headers."""

from pathlib import Path

from ..classes import code_names, scored_classes
from ._bunch import RecordEntry
from ._cache import list_files
from ._loader import existing_folder, load_layouts
from ._options import LoadOptions

__all__ = ["PhysioNetLayout", "load_physionet"]

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
YEARS = (2020, 2021, "all", None)


class PhysioNetLayout:
    """A folder searched recursively for ``NAME.hea`` records, labelled by their ``Dx`` lines.

    ``labels``: 2020 or 2021 (that year's scored classes, equivalent codes
    merged; a record needs a ``Dx`` line of known codes), ``"all"`` (every
    code present; a record without a ``Dx`` line has none) or None
    (unlabelled: no columns).
    """

    name = "physionet"
    title = "PhysioNet/CinC Challenge 12-lead ECG records"
    citation = (
        "Data of the PhysioNet/Computing in Cardiology Challenges 2020-2021, CC BY 4.0\n"
        "(PTB and INCART: ODC-By). Cite Perez Alday et al., Physiol. Meas. 41 (2020)\n"
        "124003, and Reyna et al., Computing in Cardiology 2021."
    )

    def __init__(self, root, labels):
        if labels not in YEARS:
            raise ValueError(
                f'Labels of challenge records are 2020, 2021, "all" or None, got {labels!r}.'
            )
        self.root, self.labels = Path(root), labels
        if labels in (2020, 2021):
            self._table = scored_classes(labels)
        self.label_text = {
            None: "unlabelled",
            "all": "every code present",
        }.get(labels, f"the scored classes of {labels}")

    def record_paths(self):
        paths = list_files(self.root, (".hea",))
        if not paths:
            raise ValueError(
                f"No challenge records or other WFDB records (.hea files) found under {self.root}."
            )
        return paths

    def entry(self, header_path, header, present):
        codes = header.codes
        if self.labels in (2020, 2021):
            labels = self._scored(header_path, codes)
        else:
            labels = tuple(dict.fromkeys(codes or ())) if self.labels == "all" else ()
        name = header_path.stem
        metadata = {
            "database": _database(name),
            "age": header.age,
            "sex": header.sex,
            "codes": codes or (),
        }
        return RecordEntry(header_path, header, str(self.root), self.name, present, labels,
                           group=name, fold=-1, metadata=metadata)

    def classes(self, entries):
        if self.labels in (2020, 2021):
            return list(self._table.classes), list(self._table.names)
        names = code_names()
        classes = sorted({code for entry in entries for code in entry.labels})
        return classes, [names.get(code, code) for code in classes]

    def _scored(self, header_path, codes):
        """The scored classes of a record's codes; the codes must be known."""
        if codes is None:
            raise ValueError(f"Header {header_path} has no Dx line (diagnosis codes).")
        if not codes:
            raise ValueError(f"Header {header_path} has an empty Dx line (no diagnosis code).")
        known = code_names()
        for code in codes:
            if code not in known:
                raise ValueError(
                    f"Unknown code {code!r} in file {header_path}: it is in no challenge table; "
                    "load with year=None to keep codes outside the tables."
                )
        # Equivalent codes count as the class that represents them.
        scored_as = self._table.equivalent
        return tuple(dict.fromkeys(scored_as[code] for code in codes if code in scored_as))


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

    Every ``NAME.hea`` under ``path`` (searched recursively) with its signal
    file becomes one row of ``X`` (several with ``crop="windows"``), rows
    sorted by the header's path relative to ``path``. Headers in every
    dialect of the 2020 and 2021 challenge data are read (``#Dx:`` and
    ``# Dx:``, a record line naming the ``.mat`` file, gains such as
    ``1000/mV`` or ``1000.0(0)/mv``). The signal file is the challenge's
    ``NAME.mat`` or a native WFDB file (``NAME.dat``, formats 16, 212 and the
    others ``wfdb.rdrecord`` reads). Signal files without a header are not
    records and are ignored. Record names must be unique across
    sub-folders.

    A record may hold any subset of the 12 standard leads, named in any case
    (``avr`` is ``aVR``): its leads go to their fixed rows of ``X`` and the
    others are zeros, as ``leads_present`` says (the lead-agnostic layout of
    the 2021 challenge's 6-, 4-, 3- and 2-lead records). A lead name that is
    not standard is an error, unless the record has all 12 standard leads
    (then it is an extra channel and is ignored).

    Parameters
    ----------
    path : str or path-like
        Folder of the records.
    fs : float or None, default=100
        Sampling rate of ``X`` in Hz. Records are resampled with
        :func:`scipy.signal.resample_poly` by the rational ratio
        ``fs / fs_record`` (denominator at most 1000; exact for the
        challenge's 257, 500 and 1000 Hz) with the filter of
        :func:`~sklearn_ecg.preprocessing.resampling_filter` (the same as
        :class:`~sklearn_ecg.preprocessing.Resampler`), repeating the end
        values beyond the signal's ends (``padtype="edge"``) so that no edge
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
        2020 or 2021, every record needs a ``Dx`` line and a code missing
        from the challenge tables (:func:`~sklearn_ecg.classes.code_names`)
        is an error; with None, a record without a ``Dx`` line loads with no
        code. For records without labels at all, see
        :func:`load_folders` with ``labels=None``.
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
        relative path, size and modification time of every ``.hea``,
        ``.mat``, ``.dat`` and ``.csv`` file, so that a changed folder is
        read again; loading the same folder again only opens the entry.
        With a cache, ``X`` is a read-only memory-mapped array, also on the
        first load, whose rows are written straight to the cache file: a
        dataset larger than memory can be loaded. Entries are written to
        temporary files and renamed, so an interrupted or killed load leaves
        no partial entry; stale entries are not deleted. Entries are
        readable by the group that owns the folder. A folder that cannot be
        written gives a warning and a load into memory.
    verbose : int, default=0
        Show progress bars when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes (the same for every loader of
        this module):

        X : ndarray of shape (n_rows, 12, n_times), dtype float32
            Signals in mV, ``(val - baseline) / gain`` per lead as in
            :func:`read_record`, leads reordered by name to
            :data:`~sklearn_ecg.leads.LEAD_NAMES`; zeros for the leads a
            record lacks.
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
        leads_present : ndarray of shape (n_rows, 12), dtype bool
            Which leads each row's record has.
        groups : ndarray of str
            Group of each row for cross-validation: the patient where the
            source says it (PTB-XL), else the record, so that the windows of
            a record stay together.
        folds : ndarray of int or None
            The source's own cross-validation fold of each row (PTB-XL's
            ``strat_fold``), -1 where it has none; None when no record has one.
        fs : float
            Sampling rate of ``X``.
        metadata : dict of str to ndarray
            One value per row: ``record``, ``source`` (the folder given),
            ``layout``, ``start`` (seconds into the record where the row
            begins), ``database`` (from the name's prefix, ``"unknown"``
            otherwise), ``fs_original``, ``n_samples_original``,
            ``duration_original`` (seconds), ``age`` (NaN when unknown),
            ``sex`` (``""`` when unknown), ``codes`` (tuple of every code of
            the ``Dx`` line, scored or not), ``n_zero_leads`` (all-zero
            leads among those the record has) and ``path`` (of the header).
        skipped : list of (str, str)
            Record name and reason of each skipped record.
        DESCR : str
            Description of the loaded data.

    Raises
    ------
    ValueError
        If ``path`` holds no record, two records share a name, a record is
        bad and ``on_error="raise"`` (or no record is left after skipping),
        or the records do not share a rate or length that ``fs=None`` or
        ``duration=None`` needs.

    Warns
    -----
    UserWarning
        Once when records were skipped, once when some records have an
        all-zero lead (they are kept; the first few are named), and when
        ``cache_dir`` cannot be written.

    See Also
    --------
    load_folders : Several folders of any layout in one call.
    load_ptbxl, load_ludb : PTB-XL and LUDB in their own layouts.

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
    options = LoadOptions(fs=fs, duration=duration, crop=crop, on_error=on_error,
                          n_jobs=n_jobs, cache_dir=cache_dir, verbose=verbose)
    if year not in YEARS:
        raise ValueError(f'year must be 2020, 2021, None or "all", got {year!r}.')
    root = existing_folder(path, "challenge records")
    layout = PhysioNetLayout(root, "all" if year is None else year)
    return load_layouts([layout], options)


def _database(name):
    """Source database of a record from its name's capital-letter prefix."""
    letters = name[: len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    return _DATABASES.get(letters, "unknown")
