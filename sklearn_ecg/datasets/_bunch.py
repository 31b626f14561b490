"""The Bunch every loader returns: built in one place, flattened for the cache, warned about.

A loader describes each record it will read by a :class:`RecordEntry` (its
header, labels, group, fold and metadata, whatever the folder's layout); after
the signals are read, :func:`build_bunch` turns the entries that were read
into the per-row arrays of the result.
"""

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch

from ..leads import LEAD_NAMES
from ._header import RecordHeader

__all__ = ["RecordEntry", "build_bunch", "from_arrays", "to_arrays", "warn_about"]

_N_SHOWN = 3  # records quoted in a warning or error before "..."
# Joins a record's codes in the cache; no code or LUDB statement holds a line break.
_CODE_SEPARATOR = "\n"
# Fill values of a metadata field that the records of another layout lack.
_MISSING = {"f": np.nan, "i": -1, "U": "", "b": False}


class RecordEntry(NamedTuple):
    """One record to load, as its folder's layout describes it."""

    header_path: Path
    header: RecordHeader
    source: str
    """The folder given to the loader."""
    layout: str
    """``"physionet"``, ``"ptbxl"`` or ``"ludb"``."""
    present: np.ndarray
    """Standard indices of the record's leads."""
    labels: tuple
    """The record's classes among the columns of ``y``."""
    group: str
    """Patient when the layout knows it, else the record."""
    fold: int
    """The layout's own cross-validation fold, -1 when it has none."""
    metadata: dict
    """Scalars: ``database``, ``age``, ``sex``, ``codes`` and the layout's own fields."""

    @property
    def name(self):
        return self.header_path.stem


def build_bunch(X, entries, plans, n_zero_leads, *, fs, classes, class_names, skipped, descr):
    """Assemble the result of a load; every per-record value is repeated over its rows.

    Parameters
    ----------
    X : ndarray of shape (n_rows, 12, n_times)
        The signals, already read.
    entries, plans : list
        :class:`RecordEntry` and :class:`~._plan.RecordPlan` of each record read.
    n_zero_leads : ndarray of int
        All-zero leads of each record.
    fs : float
        Sampling rate of ``X``.
    classes, class_names : list of str
        Columns of ``y``.
    skipped : list of (str, str)
        Name and reason of each skipped record.
    descr : callable
        ``descr(X, metadata)`` returns the ``DESCR`` text.
    """
    repeats = [len(plan.starts) for plan in plans]
    column = {label: i for i, label in enumerate(classes)}
    y = np.zeros((len(entries), len(classes)), dtype=np.uint8)
    leads_present = np.zeros((len(entries), len(LEAD_NAMES)), dtype=bool)
    for i, entry in enumerate(entries):
        y[i, [column[label] for label in entry.labels]] = 1
        leads_present[i, entry.present] = True
    per_record = {
        "record": np.array([entry.name for entry in entries]),
        "source": np.array([entry.source for entry in entries]),
        "layout": np.array([entry.layout for entry in entries]),
        "fs_original": np.array([entry.header.fs for entry in entries], dtype=float),
        "n_samples_original": np.array([e.header.n_samples for e in entries], dtype=np.int64),
        "duration_original": np.array([entry.header.duration for entry in entries], dtype=float),
        "n_zero_leads": np.asarray(n_zero_leads, dtype=np.int64),
        "path": np.array([str(entry.header_path) for entry in entries]),
    }
    per_record.update(_layout_fields([entry.metadata for entry in entries]))
    metadata = {key: np.repeat(value, repeats, axis=0) for key, value in per_record.items()}
    metadata["start"] = np.array([start / fs for plan in plans for start in plan.starts])
    folds = np.array([entry.fold for entry in entries], dtype=np.int64)
    return _assemble(
        X,
        y=np.repeat(y, repeats, axis=0),
        classes=classes,
        class_names=class_names,
        leads_present=np.repeat(leads_present, repeats, axis=0),
        groups=np.repeat(np.array([entry.group for entry in entries]), repeats),
        folds=np.repeat(folds, repeats) if (folds >= 0).any() else None,
        fs=fs,
        metadata=metadata,
        skipped=skipped,
        DESCR=descr(X, metadata),
    )


def _assemble(X, *, y, classes, class_names, leads_present, groups, folds, fs, metadata,
              skipped, DESCR):
    """The one place the result's fields are named, for a fresh load and a cache hit."""
    return Bunch(
        X=X,
        y=y,
        classes=np.asarray(classes, dtype=str),
        class_names=np.asarray(class_names, dtype=str),
        records=metadata["record"],
        leads=np.array(LEAD_NAMES),
        leads_present=leads_present,
        groups=groups,
        folds=folds,
        fs=float(fs),
        metadata=metadata,
        skipped=[(str(name), str(reason)) for name, reason in skipped],
        DESCR=str(DESCR),
    )


def _layout_fields(dicts):
    """One array per metadata field; a field some layouts lack gets its kind's fill value."""
    keys = list(dict.fromkeys(key for d in dicts for key in d))
    fields = {}
    for key in keys:
        if key == "codes":
            codes = np.empty(len(dicts), dtype=object)
            codes[:] = [tuple(d.get("codes", ())) for d in dicts]
            fields[key] = codes
            continue
        known = np.array([d[key] for d in dicts if key in d])
        fill = _MISSING[known.dtype.kind]
        fields[key] = np.array([d.get(key, fill) for d in dicts], dtype=known.dtype)
    return fields


def warn_about(data):
    """Emit the load's warnings; also on cache hits, so that none is lost.

    Called by the loaders' common code, two calls below the user's: the
    warnings point at the user's line.
    """
    if data.skipped:
        shown = "; ".join(f"{name}: {reason}" for name, reason in data.skipped[:_N_SHOWN])
        more = " ..." if len(data.skipped) > _N_SHOWN else ""
        warnings.warn(
            f"Skipped {len(data.skipped)} bad records ({shown}{more}); "
            "every one is listed with its reason in the result's `skipped`.",
            UserWarning,
            stacklevel=4,
        )
    paths, first = np.unique(data.metadata["path"], return_index=True)
    with_zeros = np.sort(first[data.metadata["n_zero_leads"][first] > 0])
    if len(with_zeros):
        names = list(data.metadata["record"][with_zeros[:_N_SHOWN]])
        more = ", ..." if len(with_zeros) > _N_SHOWN else ""
        warnings.warn(
            f"{len(with_zeros)} of {len(paths)} records have at least one all-zero lead "
            f"({', '.join(names)}{more}); they are kept, with the count of such leads "
            "in metadata['n_zero_leads'].",
            UserWarning,
            stacklevel=4,
        )


def to_arrays(data):
    """Flatten a Bunch into arrays the cache can store without pickle."""
    arrays = {f"metadata.{key}": value for key, value in data.metadata.items()}
    arrays["metadata.codes"] = np.array(
        [_CODE_SEPARATOR.join(codes) for codes in data.metadata["codes"]], dtype=str
    )
    arrays.update({key: data[key] for key in ("y", "classes", "class_names", "leads_present",
                                              "groups")})
    if data.folds is not None:
        arrays["folds"] = data.folds
    skipped = np.array(data.skipped, dtype=str).reshape(len(data.skipped), 2)
    return dict(arrays, fs=np.array(data.fs), skipped=skipped, DESCR=np.array(data.DESCR))


def from_arrays(X, arrays):
    """Rebuild the Bunch that :func:`to_arrays` flattened."""
    metadata = {
        key.removeprefix("metadata."): value
        for key, value in arrays.items()
        if key.startswith("metadata.")
    }
    codes = np.empty(len(metadata["codes"]), dtype=object)
    codes[:] = [tuple(text.split(_CODE_SEPARATOR)) if text else () for text in metadata["codes"]]
    metadata["codes"] = codes
    fields = ("y", "classes", "class_names", "leads_present", "groups", "fs", "skipped", "DESCR")
    return _assemble(X, folds=arrays.get("folds"), metadata=metadata,
                     **{key: arrays[key] for key in fields})
