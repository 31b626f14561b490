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
from ._report import cinc_report
from ._scorers import make_cinc_scorers

__all__ = [
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
]
