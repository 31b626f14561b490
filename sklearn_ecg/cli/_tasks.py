"""What a command learns and how it is scored: the folder's layout and its labels.

Challenge records are labelled with a challenge year's scored classes
(SNOMED-CT codes), scored by the challenge metric and tuned on it. PTB-XL's
and LUDB's classes are not SNOMED-CT codes, so the challenge metric is not
defined for them: their thresholds are tuned on macro F1, and the figures
reported are the others (macro AUROC, the metric of PTB-XL's benchmark,
macro AUPRC, F1, F2, G2, accuracy).
"""

from dataclasses import dataclass

from ..datasets import load_folders, load_physionet
from ._options import LOADERS, default_of
from ._records import layout_of

# The synthetic dataset's classes are scored codes of both years.
CHALLENGE_LAYOUTS = ("physionet", "synthetic")
# Thresholds without the challenge metric: F1 weighs a class's misses and
# false alarms alike, and macro-averaging gives rare classes their weight.
THRESHOLD_METRIC = "macro_f1"
_TITLES = {"ptbxl": "PTB-XL", "ludb": "LUDB"}


@dataclass(frozen=True)
class Task:
    """The layout of the records and the ``labels`` option their loader gets."""

    layout: str
    labels: int | str
    """A challenge year for challenge records and the synthetic dataset, the loader's task for PTB-XL and LUDB."""

    @property
    def year(self):
        """The challenge year whose scored classes these are; None when they are not challenge classes."""
        return self.labels if self.layout in CHALLENGE_LAYOUTS else None

    @property
    def tuning_scoring(self):
        return "challenge" if self.year is not None else THRESHOLD_METRIC

    def tuning_params(self):
        """``make_default_pipeline``'s threshold tuning for these classes."""
        year = {} if self.year is None else {"year": self.year}
        return {"tuning_scoring": self.tuning_scoring, **year}

    def describe(self):
        if self.year is not None:
            return f"the scored classes of {self.year}"
        return f"{_TITLES[self.layout]}'s {self.labels} classes"

    def notes(self):
        """What the figures of a cross-validation are, when the challenge metric does not apply."""
        if self.year is not None:
            return []
        benchmark = " (macro AUROC is the metric of PTB-XL's benchmark, Strodthoff et al. 2021)"
        note = (
            f"{self.describe()} are not SNOMED-CT codes of the challenges: the challenge "
            f"metric is not defined for them and is not reported. Per-class thresholds are tuned on "
            f"{THRESHOLD_METRIC}; the figures are those defined for any multi-label task"
            f"{benchmark if self.layout == 'ptbxl' else ''}."
        )
        return [note]

    def settings(self):
        """For reports and model files."""
        return {"layout": self.layout, "labels": self.labels, "year": self.year,
                "threshold_metric": self.tuning_scoring}


def task_of(data):
    """The Task of ``data`` (DataOptions): the folder's layout (detected unless given) and labels.

    Raises ValueError when the folder is missing, or when an option is for
    another layout than the folder's (``--year`` with PTB-XL, ``--labels``
    with challenge records).
    """
    year = data.year if data.year is not None else default_of(load_physionet, "year")
    if data.synthetic:
        return Task("synthetic", year)
    layout = layout_of(data.data_dir, data.layout)
    given_labels = data.labels != default_of(load_folders, "labels")
    if layout == "physionet":
        if given_labels:
            raise ValueError(
                f"--labels {data.labels}: {data.data_dir} holds challenge records, whose classes are a "
                "challenge year's scored classes: choose them with --year"
            )
        return Task(layout, year)
    if data.year is not None:
        raise ValueError(
            f"--year {data.year}: {data.data_dir} is a {_TITLES[layout]} folder, whose classes are not "
            "a challenge year's: choose its label task with --labels"
        )
    return Task(layout, data.labels if given_labels else default_of(LOADERS[layout], "labels"))
