"""The PhysioNet/CinC 2020 evaluation metrics, vectorised, and their scorers;
patient identification accuracy."""

from ._challenge import challenge_metric, modified_confusion_matrix
from ._classification import (
    challenge_accuracy,
    f_beta_measure,
    g_beta_measure,
    macro_f_measure,
)
from ._equivalence import merge_equivalent_classes
from ._identification import identification_accuracy
from ._ranking import macro_auprc, macro_auroc
from ._report import cinc_report, per_class_report
from ._scorers import LABEL_METRICS, make_cinc_scorers, stacked_label_metric

__all__ = [
    "LABEL_METRICS",
    "challenge_accuracy",
    "challenge_metric",
    "cinc_report",
    "f_beta_measure",
    "g_beta_measure",
    "identification_accuracy",
    "macro_auprc",
    "macro_auroc",
    "macro_f_measure",
    "make_cinc_scorers",
    "merge_equivalent_classes",
    "modified_confusion_matrix",
    "per_class_report",
    "stacked_label_metric",
]
