"""K-fold cross-validation that keeps every label's share in every fold."""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

from .._sklearn_compat import num_samples


class MultilabelStratifiedKFold(BaseCrossValidator):
    """K-fold splitter stratified on every label of a multi-label target.

    Iterative stratification (Sechidis, Tsoumakas and Vlahavas, ECML PKDD
    2011): the rarest label still to place goes first, each of its records to
    the fold that most lacks that label (then the fold that most lacks
    records, then at random). Records without any label fill the folds up to
    equal size last. Rare classes, the ones plain K-fold starves, thus reach
    every fold they can.

    Parameters
    ----------
    n_splits : int, default=10
        Number of folds, at least 2.
    shuffle : bool, default=True
        Visit the records in random order and break ties at random. Without
        it the split is fully determined by the order of the records.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling; pass an int for splits that repeat across calls.
        Must be None when ``shuffle=False``.
    stratify_within_groups : bool, default=False
        If True, ``split`` requires ``groups`` (e.g. the source database of
        each record) and stratifies each group's records over the folds on
        their own, so that every fold also holds each group's share, as the
        multimodal self-KD paper does per database. Records of one group are
        spread over all folds: the opposite of ``GroupKFold``, which keeps a
        group together. If False, ``groups`` is ignored, as in
        ``StratifiedKFold``.

    See Also
    --------
    sklearn.model_selection.StratifiedKFold : The single-label counterpart.
    sklearn.model_selection.GroupKFold : Keeps each group in one fold.

    Notes
    -----
    A 1-D target is one-hot encoded, so that the splitter also stratifies
    binary and multiclass targets. Fold sizes differ by at most a few
    records: a record with several labels cannot be split.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.model_selection import MultilabelStratifiedKFold
    >>> y = np.array([[1, 0], [1, 0], [1, 1], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]])
    >>> cv = MultilabelStratifiedKFold(n_splits=2, random_state=0)
    >>> for train, test in cv.split(np.zeros((8, 1)), y):
    ...     print(len(test), y[test].sum(axis=0))
    4 [2 1]
    4 [2 1]
    """

    def __init__(self, n_splits=10, *, shuffle=True, random_state=None,
                 stratify_within_groups=False):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.stratify_within_groups = stratify_within_groups

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored, exist for compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test sets.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records; only their number is used.
        y : array-like of shape (n_records, n_labels) or (n_records,)
            Binary indicator matrix (or class labels, one-hot encoded).
        groups : array-like of shape (n_records,), default=None
            Group of each record; used only with
            ``stratify_within_groups=True``.

        Yields
        ------
        train : ndarray
            Training indices of the fold.
        test : ndarray
            Test indices of the fold.
        """
        self._check_params()
        labels = _as_indicator(y)
        n_records = len(labels)
        if num_samples(X) != n_records:
            raise ValueError(f"X has {num_samples(X)} records but y has {n_records}.")
        if self.n_splits > n_records:
            raise ValueError(
                f"Cannot split n_samples={n_records} records into n_splits={self.n_splits} folds."
            )
        rng = check_random_state(self.random_state) if self.shuffle else None
        if self.stratify_within_groups:
            folds = self._folds_within_groups(labels, groups, rng)
        else:
            folds = _iterative_stratification(labels, self.n_splits, rng)
        for fold in range(self.n_splits):
            yield np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)

    def _check_params(self):
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {self.n_splits!r}.")
        if not isinstance(self.shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {self.shuffle!r}.")
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. Leave "
                "random_state to None, or set shuffle=True."
            )

    def _folds_within_groups(self, labels, groups, rng):
        if groups is None:
            raise ValueError("stratify_within_groups=True needs groups (e.g. the database).")
        groups = np.asarray(groups)
        if groups.shape != (len(labels),):
            raise ValueError(
                f"groups must have shape ({len(labels)},), got {groups.shape}."
            )
        folds = np.empty(len(labels), dtype=int)
        sizes = np.zeros(self.n_splits, dtype=int)
        for group in np.unique(groups):
            members = np.flatnonzero(groups == group)
            local = _iterative_stratification(labels[members], self.n_splits, rng)
            # Each group alone leaves its odd records in the same first folds;
            # renaming folds, largest local fold to smallest overall, evens sizes.
            local_sizes = np.bincount(local, minlength=self.n_splits)
            rename = np.empty(self.n_splits, dtype=int)
            rename[np.argsort(-local_sizes, kind="stable")] = np.argsort(sizes, kind="stable")
            folds[members] = rename[local]
            sizes += np.bincount(folds[members], minlength=self.n_splits)
        return folds


def _as_indicator(y):
    if y is None:
        raise ValueError("MultilabelStratifiedKFold needs the labels y to stratify on.")
    y = np.asarray(y)
    if y.ndim == 1:
        _, codes = np.unique(y, return_inverse=True)
        return np.eye(codes.max() + 1, dtype=bool)[codes]
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    if y.dtype != bool and not np.isin(y, (0, 1)).all():
        raise ValueError("A 2-D y must be a binary indicator matrix (0/1 only).")
    return y.astype(bool)


def _iterative_stratification(labels, n_splits, rng):
    """Fold of each record, by iterative stratification."""
    n_records = len(labels)
    order = rng.permutation(n_records) if rng is not None else np.arange(n_records)
    labels = labels[order]
    folds = np.full(n_records, -1)
    placed_per_label = np.zeros((n_splits, labels.shape[1]), dtype=int)
    sizes = np.zeros(n_splits, dtype=int)
    left = labels.sum(axis=0)
    while left.any():
        # Equal fold shares make "most wanted" the same as "fewest placed".
        rarest = np.argmin(np.where(left > 0, left, np.iinfo(left.dtype).max))
        records = np.flatnonzero(labels[:, rarest] & (folds < 0))
        for record in records:
            fold = _least_filled(placed_per_label[:, rarest], sizes, rng)
            folds[record] = fold
            placed_per_label[fold] += labels[record]
            sizes[fold] += 1
        left -= labels[records].sum(axis=0)
    for record in np.flatnonzero(folds < 0):
        fold = _least_filled(sizes, sizes, rng)
        folds[record] = fold
        sizes[fold] += 1
    return folds[np.argsort(order)]


def _least_filled(primary, secondary, rng):
    candidates = np.flatnonzero(primary == primary.min())
    if len(candidates) > 1:
        tie = secondary[candidates]
        candidates = candidates[tie == tie.min()]
    if len(candidates) > 1 and rng is not None:
        return candidates[rng.randint(len(candidates))]
    return candidates[0]
