import numpy as np
import pytest
from sklearn.model_selection import PredefinedSplit
from sklearn.utils import Bunch

from sklearn_ecg.cli._options import DEFAULT_FOLDS
from sklearn_ecg.cli._splits import splitter_of
from sklearn_ecg.model_selection import MultilabelStratifiedKFold

OWN_FOLDS = np.array([3, 1, 2, 5, 4, 1, 2, 3, 4, 5, 6])


def _test_sets(cv, n_records):
    return [np.sort(test).tolist() for _, test in cv.split(np.zeros((n_records, 1)))]


def test_own_folds_are_the_test_folds_by_default():
    cv, text = splitter_of(Bunch(folds=OWN_FOLDS), None, seed=0)
    assert isinstance(cv, PredefinedSplit) and "PredefinedSplit" in text and "1 | 2 | 3" in text
    assert _test_sets(cv, len(OWN_FOLDS)) == [np.flatnonzero(OWN_FOLDS == k).tolist() for k in range(1, 7)]


def test_folds_option_merges_consecutive_own_folds():
    cv, text = splitter_of(Bunch(folds=OWN_FOLDS), 4, seed=0)
    assert "strat_fold 1-2 | 3-4 | 5 | 6" in text and "4 test folds" in text
    merged = [(1, 2), (3, 4), (5,), (6,)]
    assert _test_sets(cv, len(OWN_FOLDS)) == [np.flatnonzero(np.isin(OWN_FOLDS, m)).tolist() for m in merged]


def test_more_folds_than_the_own_ones_is_an_error():
    with pytest.raises(ValueError, match="--folds 7: the data has 6 folds of its own .* at most 6"):
        splitter_of(Bunch(folds=OWN_FOLDS), 7, seed=0)


def test_without_own_folds_the_split_is_stratified():
    cv, text = splitter_of(Bunch(folds=None), None, seed=3)
    assert isinstance(cv, MultilabelStratifiedKFold)
    assert (cv.n_splits, cv.random_state) == (DEFAULT_FOLDS, 3) and f"{DEFAULT_FOLDS}-fold" in text
