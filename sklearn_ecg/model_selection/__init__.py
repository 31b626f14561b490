"""Multi-label cross-validation and honest per-class threshold tuning."""

from ._split import MultilabelStratifiedKFold
from ._thresholds import MultilabelThresholdTuner, apply_thresholds, tune_thresholds

__all__ = [
    "MultilabelStratifiedKFold",
    "MultilabelThresholdTuner",
    "apply_thresholds",
    "tune_thresholds",
]
