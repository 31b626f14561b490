"""Which columns of a feature matrix belong to which modality."""

from numbers import Integral

import numpy as np

SINGLE_MODALITY = "features"
"""Name of the one modality of features that carry no modality prefix."""


def resolve_modalities(modalities, n_features, feature_names=None):
    """Map each modality name to the indices of its columns.

    Parameters
    ----------
    modalities : "auto" or dict
        ``"auto"``: group the columns by the prefix before the first
        ``"__"`` of their names, as a ``FeatureUnion`` (or
        ``ColumnTransformer``) writes them, modalities in order of first
        appearance; without names, or with names that carry no prefix, all
        columns form one modality named ``"features"``. A dict maps each
        modality name to its number of columns (consecutive blocks in the
        dict's order) or to the list of its columns (names, or integer
        positions).
    n_features : int
        Number of columns of the input.
    feature_names : ndarray of str or None
        Column names, if the input had them.

    Returns
    -------
    columns : dict of str to ndarray of int
        Every column belongs to exactly one modality.
    """
    if isinstance(modalities, str):
        return _from_prefixes(n_features, feature_names)
    if not modalities:
        raise ValueError("modalities must name at least one modality.")
    sizes = list(modalities.values())
    if all(isinstance(size, Integral) for size in sizes):
        columns = _blocks(modalities, n_features)
    else:
        columns = {
            name: _positions(name, cols, n_features, feature_names) for name, cols in modalities.items()
        }
    _check_partition(columns, n_features, feature_names)
    return columns


def _from_prefixes(n_features, feature_names):
    if feature_names is None:
        return {SINGLE_MODALITY: np.arange(n_features)}
    prefixed = np.array(["__" in str(name) for name in feature_names])
    if not prefixed.any():
        return {SINGLE_MODALITY: np.arange(n_features)}
    if not prefixed.all():
        raise ValueError(
            "modalities='auto' groups columns by the prefix before '__' in their names, but "
            f"{np.sum(~prefixed)} columns have no prefix (e.g. {feature_names[~prefixed][:3].tolist()}). "
            "Name every column '<modality>__...' or pass modalities as a dict."
        )
    prefixes = np.array([str(name).split("__", 1)[0] for name in feature_names], dtype=object)
    names = list(dict.fromkeys(prefixes.tolist()))
    return {name: np.flatnonzero(prefixes == name) for name in names}


def _blocks(modalities, n_features):
    sizes = list(modalities.values())
    if any(size < 1 for size in sizes) or sum(sizes) != n_features:
        raise ValueError(
            f"modalities gives block sizes {dict(modalities)} (sum {sum(sizes)}), but X has "
            f"{n_features} columns; the sizes must be positive and add up to the columns."
        )
    ends = np.cumsum(sizes)
    return {name: np.arange(end - size, end) for (name, size), end in zip(modalities.items(), ends)}


def _positions(name, columns, n_features, feature_names):
    columns = np.asarray(columns)
    if columns.ndim != 1 or columns.size == 0:
        raise ValueError(f"modalities[{name!r}] must be a non-empty list of columns or an int.")
    if columns.dtype.kind in "iu":
        if columns.min() < -n_features or columns.max() >= n_features:
            raise ValueError(f"modalities[{name!r}] has column positions outside 0..{n_features - 1}.")
        return np.sort(columns % n_features)
    if feature_names is None:
        raise ValueError(
            f"modalities[{name!r}] names columns, but X has no column names (fit on a "
            "DataFrame, e.g. with set_output(transform='pandas')) ; give positions instead."
        )
    where = {str(feature): i for i, feature in enumerate(feature_names)}
    unknown = [str(c) for c in columns if str(c) not in where]
    if unknown:
        raise ValueError(f"modalities[{name!r}] names columns not in X: {unknown[:5]}.")
    return np.sort([where[str(c)] for c in columns])


def _check_partition(columns, n_features, feature_names):
    counts = np.zeros(n_features, dtype=int)
    for positions in columns.values():
        counts[positions] += 1
    for problem, bad in (("in several modalities", counts > 1), ("in no modality", counts == 0)):
        if bad.any():
            labels = feature_names[bad] if feature_names is not None else np.flatnonzero(bad)
            raise ValueError(f"modalities puts columns {labels[:5].tolist()} {problem}; "
                             "every column must belong to exactly one.")
