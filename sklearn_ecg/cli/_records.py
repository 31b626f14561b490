"""The records a command works on: a folder of challenge records, or the synthetic dataset."""

from itertools import islice
from pathlib import Path

from ..datasets import load_physionet, make_synthetic_ecg
from . import _progress
from ._progress import logger

# Loading takes about 2 ms a record: below this many, a progress bar would
# only flash by.
PROGRESS_BAR_RECORDS = 1000


def check_folder(path, what="data folder"):
    if not Path(path).is_dir():
        raise ValueError(f"{what} {str(path)!r} does not exist or is not a folder")


def load_records(data, *, year=2020):
    """The records of ``data`` (DataOptions): its ``data_dir``, or the synthetic dataset."""
    if data.synthetic:
        logger.info(f"generating {data.n_records} synthetic records")
        return make_synthetic_ecg(data.n_records, fs=data.fs, duration=data.duration, random_state=data.seed)
    return load_folder(data.data_dir, fs=data.fs, duration=data.duration, year=year)


def load_folder(folder, *, fs, duration, year):
    """``load_physionet``, with progress bars when the folder is large enough to need them."""
    check_folder(folder)
    logger.info(f"loading the records of {folder}")
    headers = islice(Path(folder).rglob("*.hea"), PROGRESS_BAR_RECORDS)
    bars = _progress.enabled() and sum(1 for _ in headers) == PROGRESS_BAR_RECORDS
    return load_physionet(folder, fs=fs, duration=duration, year=year, verbose=int(bars))


def describe(data, loaded):
    """``data``'s source and size, for progress lines."""
    source = "synthetic dataset" if data.synthetic else str(data.data_dir)
    return f"{source} ({len(loaded.y)} records)"
