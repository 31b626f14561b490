import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.model_selection import MultilabelStratifiedKFold


@pytest.fixture(scope="module")
def dev_labels(dev_data_dir):
    """Scored 2020 labels and databases of the dev records, from index.csv only."""
    table = scored_classes(2020)
    with open(dev_data_dir / "index.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = np.zeros((len(rows), table.n_classes), dtype=bool)
    for i, row in enumerate(rows):
        for code in row["dx"].split(","):
            column = table.index_of(code.strip())
            if column is not None:
                labels[i, column] = True
    return labels, np.array([row["database"] for row in rows])


def _folds(splits, n_records):
    fold_of = np.full(n_records, -1)
    for fold, (train, test) in enumerate(splits):
        assert np.all(fold_of[test] == -1), "a record is in two test folds"
        fold_of[test] = fold
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n_records))
    assert np.all(fold_of >= 0), "a record is in no test fold"
    return fold_of


def _proportion_deviation(labels, fold_of, n_splits):
    """Mean absolute gap between each fold's label shares and the overall ones."""
    overall = labels.mean(axis=0)
    present = labels.any(axis=0)
    gaps = [np.abs(labels[fold_of == f].mean(axis=0) - overall)[present] for f in range(n_splits)]
    return float(np.mean(gaps))


def _count_deviation(labels, fold_of, n_splits):
    """Gaps between each fold's count of every label and the ideal m / n_splits."""
    present = labels.any(axis=0)
    counts = np.stack([labels[fold_of == f][:, present].sum(axis=0) for f in range(n_splits)])
    return np.abs(counts - labels[:, present].sum(axis=0) / n_splits)


def test_dev_data_keeps_label_shares_far_better_than_kfold(dev_labels):
    labels, _ = dev_labels
    ours, plain = [], []
    for seed in range(3):
        cv = MultilabelStratifiedKFold(10, random_state=seed)
        fold_of = _folds(cv.split(labels, labels), len(labels))
        sizes = np.bincount(fold_of)
        assert sizes.max() - sizes.min() <= 2
        # Every fold holds the floor or the ceiling of each label's share.
        assert _count_deviation(labels, fold_of, 10).max() < 1
        kfold = _folds(KFold(10, shuffle=True, random_state=seed).split(labels), len(labels))
        assert _count_deviation(labels, kfold, 10).max() >= 2
        ours.append(_proportion_deviation(labels, fold_of, 10))
        plain.append(_proportion_deviation(labels, kfold, 10))
    assert np.mean(ours) < 0.6 * np.mean(plain)


def test_within_groups_every_group_is_spread_over_the_folds(dev_labels):
    labels, databases = dev_labels
    cv = MultilabelStratifiedKFold(5, random_state=0, stratify_within_groups=True)
    fold_of = _folds(cv.split(labels, labels, groups=databases), len(labels))
    sizes = np.bincount(fold_of)
    assert sizes.max() - sizes.min() <= 2
    for database in np.unique(databases):
        per_fold = np.bincount(fold_of[databases == database], minlength=5)
        assert per_fold.max() - per_fold.min() <= 2, database


def test_within_groups_requires_groups():
    y = np.eye(4, dtype=int)[np.arange(20) % 4]
    with pytest.raises(ValueError, match="needs groups"):
        next(MultilabelStratifiedKFold(2, stratify_within_groups=True).split(y, y))
    with pytest.raises(ValueError, match=r"groups must have shape \(20,\)"):
        next(MultilabelStratifiedKFold(2, stratify_within_groups=True).split(y, y, groups=[0, 1]))


def test_groups_are_ignored_by_default():
    y = np.eye(4, dtype=int)[np.arange(20) % 4]
    cv = MultilabelStratifiedKFold(4, random_state=0)
    with_groups = [test for _, test in cv.split(y, y, groups=np.arange(20) % 2)]
    without = [test for _, test in cv.split(y, y)]
    for a, b in zip(with_groups, without):
        np.testing.assert_array_equal(a, b)


multilabel_targets = st.tuples(st.integers(6, 40), st.integers(1, 5)).flatmap(
    lambda shape: arrays(bool, shape)
)


@settings(max_examples=40, deadline=None)
@given(multilabel_targets, st.integers(2, 6), st.integers(0, 2**16))
def test_partition_and_near_equal_sizes(y, n_splits, seed):
    n_splits = min(n_splits, len(y))
    cv = MultilabelStratifiedKFold(n_splits, random_state=seed)
    fold_of = _folds(cv.split(y, y), len(y))
    sizes = np.bincount(fold_of, minlength=n_splits)
    assert sizes.min() >= 1
    assert sizes.max() - sizes.min() <= y.shape[1] + 1


def test_records_without_labels_fill_the_folds_evenly():
    y = np.zeros((23, 3), dtype=int)
    fold_of = _folds(MultilabelStratifiedKFold(5, random_state=0).split(y, y), 23)
    assert sorted(np.bincount(fold_of)) == [4, 4, 5, 5, 5]


def test_deterministic_under_random_state():
    rng = np.random.default_rng(0)
    y = rng.random((60, 4)) < 0.3

    def test_folds(**params):
        cv = MultilabelStratifiedKFold(5, **params)
        return np.concatenate([test for _, test in cv.split(y, y)])

    np.testing.assert_array_equal(test_folds(random_state=3), test_folds(random_state=3))
    assert not np.array_equal(test_folds(random_state=3), test_folds(random_state=4))
    np.testing.assert_array_equal(test_folds(shuffle=False), test_folds(shuffle=False))


def test_one_dimensional_target_is_stratified_per_class():
    y = np.repeat([0, 1, 2], [10, 5, 15])
    for _, test in MultilabelStratifiedKFold(5, random_state=0).split(np.zeros(30), y):
        np.testing.assert_array_equal(np.bincount(y[test], minlength=3), [2, 1, 3])


def test_works_as_cv_argument():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    cv = MultilabelStratifiedKFold(4, random_state=0)
    assert cv.get_n_splits() == 4
    scores = cross_val_score(KNeighborsClassifier(3), X, y, cv=cv)
    assert scores.shape == (4,)


@pytest.mark.parametrize(
    "params, y, match",
    [
        ({"n_splits": 1}, np.ones((5, 2)), "n_splits must be an integer >= 2"),
        ({"n_splits": 6}, np.ones((5, 2)), "n_samples=5"),
        ({"shuffle": False, "random_state": 0}, np.ones((5, 2)), "no effect since shuffle is"),
        ({"n_splits": 2}, np.full((5, 2), 2), "binary indicator"),
        ({"n_splits": 2}, None, "needs the labels y"),
        ({"n_splits": 2}, np.ones((4, 2)), "X has 5 records but y has 4"),
    ],
)
def test_bad_input(params, y, match):
    with pytest.raises(ValueError, match=match):
        next(MultilabelStratifiedKFold(**params).split(np.zeros((5, 1)), y))
