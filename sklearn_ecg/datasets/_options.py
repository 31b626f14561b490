"""The options every loader shares, checked once."""

import math
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from os import PathLike

__all__ = ["CROPS", "LoadOptions"]

CROPS = ("start", "center", "windows")
ON_ERROR = ("raise", "skip")


@dataclass(frozen=True)
class LoadOptions:
    """How records become rows of ``X``; see :func:`~sklearn_ecg.datasets.load_physionet`.

    Constructing one validates every field, so that a bad option fails before
    any file is read.
    """

    fs: float | None = 100
    duration: float | None = 10.0
    crop: str = "start"
    on_error: str = "raise"
    n_jobs: int | None = None
    cache_dir: str | PathLike | None = None
    verbose: int = 0

    def __post_init__(self):
        fs, duration = self.fs, self.duration
        if fs is not None and not _positive(fs):
            raise ValueError(f"fs must be a positive number or None, got {fs!r}.")
        if duration is not None and not _positive(duration):
            raise ValueError(
                f"duration must be a positive number of seconds or None, got {duration!r}."
            )
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {CROPS}, got {self.crop!r}.")
        if self.crop == "windows" and duration is None:
            raise ValueError('crop="windows" needs a window duration; got duration=None.')
        if fs is not None and duration is not None and round(duration * fs) < 1:
            raise ValueError(f"duration={duration} s at fs={fs} Hz is shorter than one sample.")
        if self.on_error not in ON_ERROR:
            raise ValueError(f'on_error must be "raise" or "skip", got {self.on_error!r}.')
        if not isinstance(self.verbose, Integral):
            raise ValueError(f"verbose must be an integer, got {self.verbose!r}.")

    def content_params(self):
        """The options that decide what a load returns (not how it runs): a cache key's part."""
        params = asdict(self)
        for how in ("n_jobs", "cache_dir", "verbose"):
            del params[how]
        return params


def _positive(value):
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
