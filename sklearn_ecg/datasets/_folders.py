"""One entry point for any folder, or several: layout detection and the common options."""

import os
from pathlib import Path

from ._loader import existing_folder, load_layouts
from ._ludb import LUDBLayout
from ._options import LoadOptions
from ._physionet import PhysioNetLayout
from ._ptbxl import PTBXLLayout

__all__ = ["detect_layout", "load_folders"]

LAYOUTS = ("physionet", "ptbxl", "ludb")
# The labels a layout gives when none are asked for.
_DEFAULT_LABELS = {"physionet": 2020, "ptbxl": "superdiagnostic", "ludb": "rhythm"}


def detect_layout(path):
    """Return the layout of a folder of records.

    Parameters
    ----------
    path : str or path-like
        A folder.

    Returns
    -------
    layout : {"ptbxl", "ludb", "physionet"}
        ``"ptbxl"`` when the folder holds ``ptbxl_database.csv``, ``"ludb"``
        when it holds ``ludb.csv``, else ``"physionet"`` (WFDB headers
        searched recursively, challenge ``.mat`` or native ``.dat`` signals).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_ecg.datasets import detect_layout
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     before = detect_layout(folder)
    ...     _ = (pathlib.Path(folder) / "ludb.csv").write_text("ID,Sex,Age,Rhythms\\n")
    ...     before, detect_layout(folder)
    ('physionet', 'ludb')
    """
    root = Path(os.fspath(path))
    if (root / "ptbxl_database.csv").is_file():
        return "ptbxl"
    if (root / "ludb.csv").is_file():
        return "ludb"
    return "physionet"


def load_folders(
    paths,
    *,
    layout="auto",
    fs=100,
    duration=10.0,
    crop="start",
    labels="default",
    on_error="raise",
    n_jobs=None,
    cache_dir=None,
    verbose=0,
):
    """Load one or several folders of ECG records of any supported layout into one dataset.

    The entry point for a folder whose kind is not known in advance (the
    command line uses it), and for a pool of several databases, for example
    the unlabelled records that pretraining uses. Every folder's records
    are resampled to ``fs`` and cropped to ``duration`` seconds, so that
    records of different rates and lengths share one array; each row's
    folder is ``metadata["source"]``. Rows come folder by folder, in the
    order of ``paths``. Record names must be unique across all folders.

    Parameters
    ----------
    paths : str or path-like, or list of them
        The folder(s).
    layout : {"auto", "physionet", "ptbxl", "ludb"}, default="auto"
        How to read each folder: ``"physionet"`` (challenge records or any
        WFDB records, searched recursively, as :func:`load_physionet`),
        ``"ptbxl"`` (as :func:`load_ptbxl`), ``"ludb"`` (as
        :func:`load_ludb`), or ``"auto"``: each folder's own, by
        :func:`detect_layout`.
    fs : float or None, default=100
        Sampling rate of ``X`` in Hz; None keeps the records' rate, which
        must then be one for all.
    duration : float or None, default=10.0
        Seconds per row; None keeps whole records, which must then have one
        length.
    crop : {"start", "center", "windows"}, default="start"
        Which part of a record becomes a row, as in :func:`load_physionet`.
    labels : "default", None, int or str, default="default"
        The columns of ``y``. ``"default"``: each layout's default (2020's
        scored classes for challenge records, the superdiagnostic task for
        PTB-XL, the rhythms for LUDB). None: unlabelled, ``y`` has no
        column and records need no labels (no ``Dx`` line, say): for
        prediction and for pretraining pools. Otherwise the layout's own
        option: 2020, 2021 or ``"all"`` for challenge records (``year`` of
        :func:`load_physionet`), a task of :func:`load_ptbxl`, ``"rhythm"``
        for LUDB. Folders of different layouts can only be loaded together
        unlabelled; labelled folders of one layout share their columns.
    on_error : {"raise", "skip"}, default="raise"
        What a bad record does: raise a ValueError naming the file and the
        problem, or skip it with one warning (listed in ``skipped``).
    n_jobs : int or None, default=None
        Records read in parallel by joblib; -1 means all processors.
    cache_dir : str or path-like or None, default=None
        Folder of the on-disk cache (see :func:`load_physionet`); the key
        covers every folder. With it, ``X`` is a read-only memory map.
    verbose : int, default=0
        Show progress bars (on stderr) when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The layout of :func:`load_physionet`: ``X`` (n_rows, 12, n_times)
        float32 mV, ``y`` (n_rows, n_classes) uint8, ``classes``,
        ``class_names``, ``records``, ``leads``, ``leads_present``
        (n_rows, 12) bool, ``groups`` (patients where known, else records),
        ``folds`` (PTB-XL's folds, else None), ``fs``, ``metadata`` (per
        row: ``record``, ``source``, ``layout``, ``start``, ``database``,
        ``fs_original``, ``n_samples_original``, ``duration_original``,
        ``age``, ``sex``, ``codes``, ``n_zero_leads``, ``path``, and each
        layout's own fields, filled with ``""``, NaN or -1 for the rows of
        another layout), ``skipped`` and ``DESCR``.

    Raises
    ------
    ValueError
        If a path is not a folder, ``layout`` or ``labels`` is not valid for
        a folder, folders of different layouts are loaded with labels, two
        records share a name (both paths named, before any record is read),
        or as :func:`load_physionet`, :func:`load_ptbxl` and
        :func:`load_ludb` raise.

    See Also
    --------
    load_physionet, load_ptbxl, load_ludb : One folder of one layout.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, wfdb
    >>> from sklearn_ecg.datasets import load_folders
    >>> tmp = tempfile.TemporaryDirectory()
    >>> pool = [pathlib.Path(tmp.name, "a"), pathlib.Path(tmp.name, "b")]
    >>> for folder, name, fs, leads in [(pool[0], "r1", 500, ["I", "II"]),
    ...                                  (pool[1], "r2", 250, ["i", "ii", "v2"])]:
    ...     folder.mkdir()
    ...     counts = np.full((20 * fs, len(leads)), 100, dtype=np.int32)
    ...     wfdb.wrsamp(name, fs=fs, units=["mV"] * len(leads), sig_name=leads,
    ...                 d_signal=counts, fmt=["16"] * len(leads), adc_gain=[200.0] * len(leads),
    ...                 baseline=[0] * len(leads), write_dir=str(folder))
    >>> data = load_folders(pool, labels=None, fs=100, duration=10.0)
    >>> data.X.shape, data.y.shape
    ((2, 12, 1000), (2, 0))
    >>> data.leads_present.sum(axis=1).tolist(), data.metadata["fs_original"].tolist()
    ([2, 3], [500.0, 250.0])
    >>> tmp.cleanup()
    """
    options = LoadOptions(fs=fs, duration=duration, crop=crop, on_error=on_error,
                          n_jobs=n_jobs, cache_dir=cache_dir, verbose=verbose)
    if layout != "auto" and layout not in LAYOUTS:
        raise ValueError(f"layout must be 'auto' or one of {LAYOUTS}, got {layout!r}.")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    roots = [existing_folder(path, "ECG records") for path in paths]
    if not roots:
        raise ValueError("paths must name at least one folder.")
    layouts = [
        _layout(root, detect_layout(root) if layout == "auto" else layout, labels, fs)
        for root in roots
    ]
    return load_layouts(layouts, options)


def _layout(root, name, labels, fs):
    """The layout object that reads ``root`` as ``name``."""
    if labels == "default":
        labels = _DEFAULT_LABELS[name]
    if name == "ptbxl":
        return PTBXLLayout(root, labels, fs)
    if name == "ludb":
        return LUDBLayout(root, labels)
    return PhysioNetLayout(root, labels)
