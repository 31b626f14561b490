"""Multi-label cross-validation, honest per-class threshold tuning, and the
gallery and probe split of patient identification."""

from ._gallery import GalleryProbeSplit
from ._split import MultilabelStratifiedKFold
from ._thresholds import MultilabelThresholdTuner, apply_thresholds, tune_thresholds

__all__ = [
    "GalleryProbeSplit",
    "MultilabelStratifiedKFold",
    "MultilabelThresholdTuner",
    "apply_thresholds",
    "tune_thresholds",
]
