"""The test folds of a cross-validating command: the data's own folds when it has them.

PTB-XL comes with its own folds (``strat_fold``: patient-disjoint and
stratified on its labels), which its benchmark and every comparable result
use; other data is split by multi-label stratified k-fold.
"""

import numpy as np
from sklearn.model_selection import PredefinedSplit

from ..model_selection import MultilabelStratifiedKFold
from ._options import DEFAULT_FOLDS


def splitter_of(data, n_folds, seed):
    """The splitter of ``data`` (a loader's Bunch) and a line saying what it is.

    ``n_folds`` None: the default number of folds, or one test fold per
    fold of the data's own. With own folds, ``n_folds`` merges consecutive
    own folds into that many test folds.
    """
    if data.folds is None:
        n_folds = n_folds or DEFAULT_FOLDS
        return (MultilabelStratifiedKFold(n_folds, random_state=seed),
                f"{n_folds}-fold multi-label stratified split")
    own = np.unique(data.folds)
    n_folds = n_folds or len(own)
    if n_folds > len(own):
        raise ValueError(
            f"--folds {n_folds}: the data has {len(own)} folds of its own ({_span(own)}), which "
            f"the test folds are made of; give at most {len(own)}"
        )
    merged = np.array_split(own, n_folds)
    test_fold = np.empty(len(data.folds), dtype=int)
    for i, group in enumerate(merged):
        test_fold[np.isin(data.folds, group)] = i
    spans = " | ".join(_span(group) for group in merged)
    text = f"the data's own folds (strat_fold {spans}) as {n_folds} test folds, by sklearn's PredefinedSplit"
    return PredefinedSplit(test_fold), text


def _span(folds):
    """"3", "1-3" or "1,4,5"."""
    if len(folds) > 1 and folds[-1] - folds[0] + 1 == len(folds):
        return f"{folds[0]}-{folds[-1]}"
    return ",".join(str(fold) for fold in folds)
