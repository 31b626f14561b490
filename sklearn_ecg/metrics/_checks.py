"""Validation of the class codes the challenge metrics receive."""

import numpy as np

from ..classes import scored_classes


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
