"""The records a command works on: a data folder of any layout, or the synthetic dataset.

The loader's own warnings about a load point at fields of its result
(``skipped``, ``metadata['n_zero_leads']``); the command line says the same
in one line per record, naming it, through its logger.
"""

import contextlib
import re
import warnings
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..datasets import detect_layout, load_folders, make_synthetic_ecg
from . import _progress
from ._progress import logger, warn

# Loading takes about 2 ms a record: below this many, a progress bar would
# only flash by.
PROGRESS_BAR_RECORDS = 1000
# Records named one per line before the rest are counted.
NAMED_RECORDS = 5
# The loader's summaries of skipped records and all-zero leads, which report_load words for users.
_LOADER_SUMMARIES = re.compile(r"Skipped \d+ bad records|\d+ of \d+ records have at least one all-zero lead")


def check_folder(path, what="data folder"):
    if not Path(path).is_dir():
        raise ValueError(f"{what} {str(path)!r} does not exist or is not a folder")


def layout_of(folder, layout):
    """The layout of ``folder``: ``layout``, or the one detected when it is ``"auto"``."""
    check_folder(folder)
    return detect_layout(folder) if layout == "auto" else layout


def load_records(data, task):
    """The records of ``data`` (DataOptions) labelled as ``task`` (a Task).

    Records of PTB-XL or LUDB without a class of the task are left out (as
    PTB-XL's benchmark does): no threshold can be right for them.
    """
    if data.synthetic:
        logger.info(f"generating {data.n_records} synthetic records")
        return make_synthetic_ecg(data.n_records, fs=data.fs, duration=data.duration, random_state=data.seed)
    loaded = load_folder(data.data_dir, fs=data.fs, duration=data.duration, layout=task.layout,
                         labels=task.labels, on_error=data.on_error, cache_dir=data.cache_dir)
    if task.year is not None:
        return loaded
    labelled = loaded.y.any(axis=1)
    if not labelled.any():
        raise ValueError(f"none of the {len(labelled)} records under {data.data_dir} has a class of "
                         f"{task.describe()}: nothing to learn")
    if not labelled.all():
        logger.info(f"left out {_named(loaded.records[~labelled])} without a class of {task.describe()}")
    return select_rows(loaded, labelled)


def load_folder(folder, *, fs, duration, layout, labels, on_error, cache_dir):
    """``load_folders`` on one folder, with progress bars when it is large enough to need them."""
    layout = layout_of(folder, layout)
    logger.info(f"loading the records of {folder} ({layout} layout)")
    headers = islice(Path(folder).rglob("*.hea"), PROGRESS_BAR_RECORDS)
    bars = _progress.enabled() and sum(1 for _ in headers) == PROGRESS_BAR_RECORDS
    with _loader_warnings():
        data = load_folders(folder, layout=layout, labels=labels, fs=fs, duration=duration,
                            on_error=on_error, cache_dir=cache_dir, verbose=int(bars))
    report_load(data)
    return data


@contextlib.contextmanager
def _loader_warnings():
    """Hold the loader's warnings; pass on those that report_load does not word anew, as one line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:  # also when the load fails: a warning may say why
            for message in caught:
                if not _LOADER_SUMMARIES.match(str(message.message)):
                    warn(message.message)


def report_load(data):
    """Log the records skipped, those with all-zero leads, and those with fewer leads than 12."""
    for name, reason in data.skipped[:NAMED_RECORDS]:
        warn(f"skipped record {name}: {reason}")
    if len(data.skipped) > NAMED_RECORDS:
        warn(f"skipped {len(data.skipped) - NAMED_RECORDS} more records ({len(data.skipped)} in all)")
    first = _first_rows(data)
    zero = first[data.metadata["n_zero_leads"][first] > 0]
    for row in zero[:NAMED_RECORDS]:
        warn(f"record {data.records[row]}: {data.metadata['n_zero_leads'][row]} of its leads are all "
             "zeros; kept as they are (a model reads them as absent leads)")
    if len(zero) > NAMED_RECORDS:
        warn(f"{len(zero) - NAMED_RECORDS} more records have all-zero leads ({len(zero)} in all)")
    lead_sets = Counter(tuple(present) for present in data.leads_present[first])
    for present, _ in lead_sets.most_common():
        if not all(present):
            rows = first[(data.leads_present[first] == present).all(axis=1)]
            leads = ", ".join(data.leads[list(present)])
            logger.info(f"{_named(data.records[rows])} with the leads {leads} only: the absent leads "
                        "are zeros at their place, as lead masking trains for")


def select_rows(data, rows):
    """``data`` (a loader's Bunch) restricted to the boolean ``rows``."""
    if rows.all():
        return data
    per_row = ("X", "y", "records", "leads_present", "groups")
    selected = Bunch(**data)
    selected.update({key: data[key][rows] for key in per_row})
    selected.folds = None if data.folds is None else data.folds[rows]
    selected.metadata = {key: value[rows] for key, value in data.metadata.items()}
    return selected


def describe(data, loaded):
    """``data``'s source and size, for progress lines."""
    source = "synthetic dataset" if data.synthetic else str(data.data_dir)
    return f"{source} ({len(loaded.y)} records)"


def _first_rows(data):
    """The first row of each record (a record gives several with crop="windows")."""
    _, first = np.unique(data.metadata["path"], return_index=True)
    return np.sort(first)


def _named(names):
    """"3 records (A, B, C)", with "..." after NAMED_RECORDS names."""
    shown = ", ".join(names[:NAMED_RECORDS]) + (", ..." if len(names) > NAMED_RECORDS else "")
    return f"{len(names)} record{'s' if len(names) != 1 else ''} ({shown})"
