"""Validation of the arrays and class codes the challenge metrics receive."""

import numpy as np
import scipy.sparse as sp

from ..classes import scored_classes


def check_indicator(y, name):
    """Return ``y`` as a boolean ``(n_records, n_classes)`` indicator matrix.

    Accepts booleans, or numbers that are all 0 or 1; the input is never
    written to.
    """
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    _check_2d(y, name)
    if y.dtype == bool:
        return y
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold 0/1 labels; got dtype {y.dtype}.")
    binary = (y == 0) | (y == 1)
    if not binary.all():
        bad = y[~binary][0]
        raise ValueError(
            f"{name} must be a binary indicator matrix (0/1 only); found the value {bad.item()}."
        )
    return y.astype(bool)


def check_scores(y_score, name="y_score"):
    """Return scores as a finite float64 ``(n_records, n_classes)`` array.

    A list of ``(n_records, 2)`` arrays, as ``predict_proba`` of
    scikit-learn's multi-output classifiers returns, becomes one column per
    array: the probability of the second (positive) class.
    """
    if isinstance(y_score, list) and y_score and np.ndim(y_score[0]) == 2:
        y_score = _stack_positive_columns(y_score, name)
    y_score = np.asarray(y_score, dtype=np.float64)
    _check_2d(y_score, name)
    if not np.isfinite(y_score).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return y_score


def check_same_shape(y_true, y_other, names=("y_true", "y_pred")):
    if y_true.shape != y_other.shape:
        raise ValueError(
            f"{names[0]} has shape {y_true.shape} but {names[1]} has shape "
            f"{y_other.shape}; both must be (n_records, n_classes)."
        )


def resolve_classes(classes, n_columns, year):
    """Positions in the year's class table of the columns named by ``classes``.

    ``classes=None`` means every class of the table, in table order. Any
    code of an equivalence group names the group's class.
    """
    table = scored_classes(year)
    if classes is None:
        if n_columns != table.n_classes:
            raise ValueError(
                f"The arrays have {n_columns} columns but the {year} challenge scores "
                f"{table.n_classes} classes; pass classes= (the SNOMED-CT code of "
                "each column)."
            )
        return np.arange(table.n_classes)
    codes = [str(code) for code in np.ravel(np.asarray(classes, dtype=object))]
    if len(codes) != n_columns:
        raise ValueError(
            f"classes names {len(codes)} codes but the arrays have {n_columns} columns."
        )
    unknown = [code for code in codes if table.index_of(code) is None]
    if unknown:
        raise ValueError(
            f"Codes not scored in the {year} challenge weight table: {', '.join(unknown)}."
        )
    positions = np.array([table.index_of(code) for code in codes])
    first_code = {}
    for code, position in zip(codes, positions):
        if position in first_code:
            raise ValueError(
                f"Codes {first_code[position]} and {code} are the same class in {year}; "
                "merge their columns first with merge_equivalent_classes."
            )
        first_code[position] = code
    return positions


def _check_2d(y, name):
    if y.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_records, n_classes); got shape {y.shape}.")
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {y.shape}).")


def _stack_positive_columns(arrays, name):
    columns = []
    for k, proba in enumerate(arrays):
        proba = np.asarray(proba)
        if proba.ndim != 2 or proba.shape[1] != 2:
            raise ValueError(
                f"{name} is a list, so each entry must be an (n_records, 2) array of "
                f"class probabilities; entry {k} has shape {proba.shape}."
            )
        columns.append(proba[:, 1])
    if len({column.shape for column in columns}) > 1:
        raise ValueError(f"The arrays of {name} differ in their number of records.")
    return np.stack(columns, axis=1)
