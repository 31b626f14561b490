"""The scored diagnostic classes of the PhysioNet/CinC challenges.

The official tables (SNOMED-CT codes, abbreviations, descriptions and the
weight matrices of the challenge metric) ship with the package, so that a
fresh installation needs no download.
"""

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["ClassTable", "NORMAL_CLASS", "code_names", "column_codes", "scored_classes"]

NORMAL_CLASS = "426783006"
"""SNOMED-CT code of sinus rhythm, the challenge's normal class."""

_YEARS = (2020, 2021)


@dataclass(frozen=True)
class ClassTable:
    """Scored classes of one challenge year, with equivalent codes merged.

    Attributes
    ----------
    year : int
        Challenge year, 2020 or 2021.
    classes : tuple of str
        Representative SNOMED-CT code of each scored class, in the order of
        the official weight matrix (24 classes in 2020, 26 in 2021).
    names : tuple of str
        Abbreviation of each class (``"AF"``, ``"CRBBB"``, ...).
    equivalent : dict of str to str
        Every scored code, mapped to the representative code of its class.
    weights : ndarray of shape (n_classes, n_classes)
        The challenge metric's reward matrix, rows true, columns predicted.
    normal_class : str
        Code of sinus rhythm.
    """

    year: int
    classes: tuple
    names: tuple
    equivalent: dict = field(repr=False)
    weights: np.ndarray = field(repr=False)
    normal_class: str = NORMAL_CLASS

    @property
    def n_classes(self):
        return len(self.classes)

    def index_of(self, code):
        """Column of ``code`` (any code of an equivalence group), or None."""
        representative = self.equivalent.get(str(code))
        return None if representative is None else self.classes.index(representative)


def _read_csv(name):
    text = resources.files("sklearn_ecg").joinpath("_tables", name).read_text()
    return list(csv.reader(text.splitlines()))


@cache
def code_names():
    """Map every SNOMED-CT code the challenges use to its abbreviation.

    Returns
    -------
    names : dict of str to str
        Scored and unscored codes of both years.
    """
    names = {}
    for kind in ("scored", "unscored"):
        for year in _YEARS:
            rows = _read_csv(f"dx_{kind}_{year}.csv")
            header = rows[0]
            code_col, name_col = header.index("snomed_code"), header.index("abbreviation")
            for row in rows[1:]:
                names.setdefault(row[code_col].strip(), row[name_col].strip())
    return names


# 2020 writes its weight matrix over unmerged codes; these pairs are merged into
# the first code, as the official evaluate_12ECG_score.py does.
_EQUIVALENT_2020 = (
    ("713427006", "59118001"),
    ("284470004", "63593006"),
    ("427172004", "17338001"),
)


@cache
def scored_classes(year=2020):
    """Return the scored classes of a challenge year.

    Parameters
    ----------
    year : {2020, 2021}, default=2020
        2020: 27 codes merged into 24 classes; 2021: 30 codes into 26.

    Returns
    -------
    table : ClassTable
        Codes, abbreviations, equivalences and weights.

    Examples
    --------
    >>> from sklearn_ecg.classes import scored_classes
    >>> table = scored_classes(2020)
    >>> table.n_classes
    24
    >>> table.names[:3]
    ('IAVB', 'AF', 'AFL')
    """
    if year not in _YEARS:
        raise ValueError(f"year must be one of {_YEARS}, got {year!r}.")
    rows = _read_csv(f"weights_{year}.csv")
    column_groups = [cell.split("|") for cell in rows[0][1:]]
    weights = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    if year == 2020:
        groups = _merge_groups(column_groups, _EQUIVALENT_2020)
        keep = [i for i, g in enumerate(column_groups) if g[0] in {h[0] for h in groups}]
        weights = weights[np.ix_(keep, keep)]
    else:
        groups = column_groups
    classes = tuple(g[0] for g in groups)
    equivalent = {code: g[0] for g in groups for code in g}
    names = code_names()
    weights.setflags(write=False)
    return ClassTable(
        year=year,
        classes=classes,
        names=tuple(names[c] for c in classes),
        equivalent=equivalent,
        weights=weights,
    )


def _merge_groups(column_groups, pairs):
    """Fold the second code of each pair into the first, keeping column order."""
    absorbed = {second: first for first, second in pairs}
    groups = {}
    for (code,) in column_groups:
        representative = absorbed.get(code, code)
        groups.setdefault(representative, [representative])
        if code != representative:
            groups[representative].append(code)
    return [groups[code] for (code,) in column_groups if code not in absorbed]


def column_codes(classes, n_columns, *, year=2020, target_name="y"):
    """The ``classes_`` of a multi-label classifier fitted on ``n_columns`` targets.

    Parameters
    ----------
    classes : array-like of shape (n_columns,) or None
        Codes given by the user; None: the year's scored classes when the
        target has as many columns, else ``0 .. n_columns - 1``.
    n_columns : int
        Number of columns of the target.
    year : {2020, 2021}, default=2020
        Class table used when ``classes`` is None.
    target_name : str, default="y"
        Name of the target in the error message.

    Returns
    -------
    codes : ndarray of shape (n_columns,)
    """
    if classes is not None:
        codes = np.asarray(classes)
        if codes.shape != (n_columns,):
            raise ValueError(
                f"classes names {codes.size} classes but {target_name} has {n_columns} columns."
            )
        return codes
    table = scored_classes(year)
    if n_columns == table.n_classes:
        return np.array(table.classes)
    return np.arange(n_columns)
