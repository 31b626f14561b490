"""Merging the columns of SNOMED-CT codes the challenge scores as one class."""

import numpy as np

from .._validation import check_indicator, check_scores
from ..classes import scored_classes


def merge_equivalent_classes(y, classes, *, year=2020, kind="labels"):
    """Merge the columns of equivalent codes into their representative class.

    The challenges score some pairs of codes as one class (2020: CRBBB/RBBB,
    PAC/SVPB, PVC/VPB; 2021 adds CLBBB/LBBB). As in the official
    evaluation code, a merged label is positive if any code of its group is,
    and a merged score is the mean over the group's columns.

    Parameters
    ----------
    y : array-like of shape (n_records, n_codes)
        Labels (0/1 or boolean) or scores, one column per code.
    classes : sequence of str of length n_codes
        SNOMED-CT code of each column, all distinct. Codes the year does not
        score pass through unchanged.
    year : {2020, 2021}, default=2020
        Whose equivalences to apply.
    kind : {"labels", "scores"}, default="labels"
        Merge by logical or (labels) or by mean (scores).

    Returns
    -------
    merged : ndarray of shape (n_records, n_merged)
        Boolean for labels, float64 for scores. A group's column sits where
        its first code appeared.
    merged_classes : ndarray of str of shape (n_merged,)
        Codes of the merged columns; a group is named by its representative
        code (the first code of the official pair), even when only the other
        code was present.

    Examples
    --------
    >>> from sklearn_ecg.metrics import merge_equivalent_classes
    >>> y = [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    >>> merged, codes = merge_equivalent_classes(y, ["59118001", "164889003", "713427006"])
    >>> merged.astype(int)
    array([[1, 0],
           [1, 0],
           [0, 1]])
    >>> codes.tolist()
    ['713427006', '164889003']
    """
    if kind not in ("labels", "scores"):
        raise ValueError(f"kind must be 'labels' or 'scores', got {kind!r}.")
    y = check_indicator(y, "y") if kind == "labels" else check_scores(y, "y")
    codes = [str(code) for code in np.ravel(np.asarray(classes, dtype=object))]
    if len(codes) != y.shape[1]:
        raise ValueError(f"classes names {len(codes)} codes but y has {y.shape[1]} columns.")
    if len(set(codes)) != len(codes):
        raise ValueError("classes must not repeat a code.")
    equivalent = scored_classes(year).equivalent
    representatives = [equivalent.get(code, code) for code in codes]
    merged_classes = list(dict.fromkeys(representatives))
    column = {code: j for j, code in enumerate(merged_classes)}
    membership = np.zeros((len(codes), len(merged_classes)))
    membership[np.arange(len(codes)), [column[code] for code in representatives]] = 1.0
    totals = y @ membership
    if kind == "labels":
        merged = totals > 0
    else:
        merged = totals / membership.sum(axis=0)
    return merged, np.array(merged_classes)
