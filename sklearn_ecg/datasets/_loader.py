"""The loading every layout shares: headers, plans, parallel reading, cache.

A *layout* knows one kind of folder (challenge records, PTB-XL, LUDB): which
records it holds, in which order, and what their labels and metadata are. It
has

- ``name`` and ``root`` (the folder), and ``labels`` (its label option);
- ``record_paths()``: the header paths, in row order;
- ``entry(header_path, header, present)``: the record's
  :class:`~._bunch.RecordEntry`, or a ValueError naming the problem;
- ``classes(entries)``: the columns of ``y`` and their names;
- ``title``, ``label_text`` and ``citation``: lines of the description.

:func:`load_layouts` does the rest for one or several folders, of one layout
or several: it checks that record names are unique, reads the headers,
resamples and crops every record to one grid with joblib, drops or raises on
bad records, and stores the result in the memory-mapped cache.
"""

import os
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..leads import LEAD_NAMES
from ._bunch import build_bunch, from_arrays, to_arrays, warn_about
from ._cache import cache_key, create_array, load_cache, probe_writable, save_cache
from ._header import read_header
from ._plan import make_plan, read_rows
from ._signals import check_header

__all__ = ["entry_key", "existing_folder", "load_layouts"]

# Bump when the loaders' output changes, so that old cache entries are not reused.
_CACHE_VERSION = 2
_CACHE_SUFFIXES = (".hea", ".mat", ".dat", ".csv")
_N_SHOWN = 3  # problems quoted in an error before "..."
_CHUNK_ROWS = 1024  # rows copied at a time when dropping failed records


def load_layouts(layouts, options):
    """Load the records of ``layouts`` with :class:`~._options.LoadOptions` ``options``."""
    if options.cache_dir is None:
        data = _load(layouts, options, _in_memory)
    else:
        data = _load_cached(layouts, options)
    warn_about(data)
    return data


def existing_folder(path, what):
    """``path`` as a Path, or a ValueError when it is not a folder."""
    root = Path(os.fspath(path))
    if not root.is_dir():
        raise ValueError(f"path must be a folder of {what}; {root} is not a folder.")
    return root


def _in_memory(shape):
    # Zeros: the leads a record lacks are never written.
    return np.zeros(shape, dtype=np.float32)


def entry_key(layouts, options):
    """The cache key of a load: its options, its layouts and every data file of their folders."""
    folders = [{"layout": layout.name, "labels": layout.labels} for layout in layouts]
    params = dict(options.content_params(), folders=folders, version=_CACHE_VERSION)
    return cache_key([layout.root for layout in layouts], params, suffixes=_CACHE_SUFFIXES)


def _load_cached(layouts, options):
    """Return the cache entry of the load, reading the records only when it is missing."""
    cache_dir = options.cache_dir
    key = entry_key(layouts, options)
    cached = load_cache(cache_dir, key)
    if cached is not None:
        return from_arrays(*cached)
    problem = probe_writable(cache_dir)
    if problem is not None:
        warnings.warn(
            f"Cache folder {cache_dir} cannot be written ({problem}); loading into memory "
            "without caching.",
            UserWarning,
            stacklevel=4,
        )
        return _load(layouts, options, _in_memory)
    temp_files = []

    def allocate(shape):
        # Rows go straight to a file, so that data larger than memory can be loaded.
        X = create_array(cache_dir, shape)
        temp_files.append(X.filename)
        return X

    try:
        data = _load(layouts, options, allocate)
        filled = data.pop("X")
        filled.flush()
        path = filled.filename
        del filled  # the last reference: the map closes before the file moves
        data.X = save_cache(cache_dir, key, path, to_arrays(data))
    finally:
        for temp in temp_files:  # only those not moved into the entry remain
            Path(temp).unlink(missing_ok=True)
    return data


def _load(layouts, options, allocate):
    """Read the records of ``layouts`` into ``allocate(shape)``."""
    paths = [(layout, path) for layout in layouts for path in layout.record_paths()]
    _check_unique_names([path for _, path in paths])
    problems = {}  # header path -> reason, for on_error="skip"

    def fail(header_path, message):
        if options.on_error == "raise":
            raise ValueError(message)
        problems[header_path] = message

    def skipped():
        return [(path.stem, problems[path]) for _, path in paths if path in problems]

    entries = _read_entries(paths, fail, options.verbose)
    _require_some(entries, skipped(), layouts)
    classes, class_names = _classes(layouts, entries)
    fs = options.fs
    if fs is None:
        fs = _common([entry.header.fs for entry in entries], "sampling rate", "fs")
    plans = [
        make_plan(entry.header_path, entry.header, fs, options.duration, options.crop)
        for entry in entries
    ]
    n_times = _common([plan.n_times for plan in plans], "length", "duration")
    n_rows = [len(plan.starts) for plan in plans]
    X = allocate((sum(n_rows), len(LEAD_NAMES), n_times))
    n_zero_leads = _read_signals(X, plans, options.n_jobs, fail, options.verbose)
    ok = n_zero_leads >= 0
    if not ok.all():
        X = _keep_rows(X, np.flatnonzero(np.repeat(ok, n_rows)), allocate)
        entries = [entry for entry, keep in zip(entries, ok) if keep]
        plans = [plan for plan, keep in zip(plans, ok) if keep]
        n_zero_leads = n_zero_leads[ok]
        _require_some(entries, skipped(), layouts)

    def descr(X, metadata):
        return _describe(layouts, X, metadata, fs, options.crop, len(classes), skipped())

    return build_bunch(
        X, entries, plans, n_zero_leads, fs=fs, classes=classes, class_names=class_names,
        skipped=skipped(), descr=descr,
    )


def _check_unique_names(header_paths):
    """Raise, naming both files, when two records share a name: names label the rows and outputs."""
    seen = {}
    for path in header_paths:
        other = seen.setdefault(path.stem, path)
        if other != path:
            raise ValueError(
                f"Two records are named {path.stem!r}: {other} and {path}. Record names "
                "must be unique, as they name the rows and the output files; rename one "
                "or load the folders apart."
            )


def _read_entries(paths, fail, verbose):
    """Return the entry of each record whose header parses and passes the checks."""
    entries = []
    for layout, header_path in tqdm(paths, desc="headers", disable=verbose <= 0):
        try:
            header = read_header(header_path)
            present = check_header(header_path, header)
            entries.append(layout.entry(header_path, header, present))
        except ValueError as exc:
            fail(header_path, str(exc))
    return entries


def _classes(layouts, entries):
    """Columns of ``y``: the layouts' own, which folders loaded together must share."""
    labelled = [layout for layout in layouts if layout.labels is not None]
    if not labelled:
        return [], []
    if len(labelled) < len(layouts) or len({layout.name for layout in layouts}) > 1:
        kinds = sorted({f"{layout.name} (labels={layout.labels!r})" for layout in layouts})
        raise ValueError(
            f"Folders of different layouts or label options cannot share label columns: "
            f"{', '.join(kinds)}; load them with labels=None (unlabelled) or apart."
        )
    tables = [layout.classes([e for e in entries if e.source == str(layout.root)])
              for layout in labelled]
    if all(table[0] == tables[0][0] for table in tables):
        return tables[0]
    names = {c: name for classes, class_names in tables for c, name in zip(classes, class_names)}
    classes = sorted(names)
    return classes, [names[c] for c in classes]


def _read_signals(X, plans, n_jobs, fail, verbose):
    """Fill ``X`` with the records' rows; return all-zero lead counts, -1 for failures."""
    n_zero_leads = np.full(len(plans), -1, dtype=np.int64)
    # The generator keeps one record's rows at a time in flight, not the whole data twice.
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(read_rows)(plan) for plan in plans
    )
    progress = tqdm(total=len(plans), desc="records", disable=verbose <= 0)
    row = 0
    try:
        for i, result in enumerate(results):
            if result.error is None:
                X[row : row + len(result.rows), result.present] = result.rows
                n_zero_leads[i] = result.n_zero_leads
            else:
                fail(plans[i].header_path, result.error)
            row += len(plans[i].starts)
            progress.update()
    finally:
        progress.close()
        # After an error the remaining tasks are cancelled, which joblib reports in a
        # warning that would only add noise to the ValueError.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"[0-9]+ tasks (which were|have been)", UserWarning)
            results.close()
    return n_zero_leads


def _keep_rows(X, kept_rows, allocate):
    """Copy the rows ``kept_rows`` of ``X`` into a new array, a chunk at a time."""
    kept = allocate((len(kept_rows),) + X.shape[1:])
    for start in range(0, len(kept_rows), _CHUNK_ROWS):  # bounded memory for a memmap
        kept[start : start + _CHUNK_ROWS] = X[kept_rows[start : start + _CHUNK_ROWS]]
    return kept


def _common(values, what, option):
    """Return the one value of ``values``; several mean ``option=None`` cannot work."""
    values = sorted(set(values))
    if len(values) > 1:
        raise ValueError(
            f"{option}=None needs records of one {what}, but they have {len(values)} "
            f"different ones ({values[:5]}); set {option} to a number."
        )
    return values[0]


def _require_some(entries, skipped, layouts):
    """Raise when skipping left no record."""
    if not entries:
        folders = ", ".join(str(layout.root) for layout in layouts)
        problems = "; ".join(f"{name}: {reason}" for name, reason in skipped[:_N_SHOWN])
        raise ValueError(
            f"None of the {len(skipped)} records under {folders} could be loaded: {problems}"
        )


def _describe(layouts, X, metadata, fs, crop, n_classes, skipped):
    _, first_rows = np.unique(metadata["path"], return_index=True)
    n_records = len(first_rows)
    databases, counts = np.unique(metadata["database"][first_rows], return_counts=True)
    sources = ", ".join(f"{db} {n}" for db, n in zip(databases, counts))
    titles = list(dict.fromkeys(layout.title for layout in layouts))
    title = titles[0] if len(titles) == 1 else "ECG records of several databases"
    folders = "; ".join(f"{layout.root} ({layout.name})" for layout in layouts)
    labels = "; ".join(dict.fromkeys(layout.label_text for layout in layouts))
    citations = "\n".join(dict.fromkeys(layout.citation for layout in layouts))
    return (
        f"{title}\n{'-' * len(title)}\n\n"
        f"Folder{'s' if len(layouts) > 1 else ''}: {folders}\n"
        f"Records: {n_records} ({sources}); skipped: {len(skipped)}.\n"
        f"X: {X.shape[0]} rows x {X.shape[1]} leads x {X.shape[2]} samples at {fs:g} Hz "
        f"(crop={crop!r}), float32 mV.\n"
        f"y: {n_classes} classes, {labels}.\n\n"
        f"{citations}\n"
    )
