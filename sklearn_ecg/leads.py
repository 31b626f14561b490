"""Standard 12-lead names and the reduced lead sets of the 2021 challenge."""

__all__ = ["LEAD_NAMES", "LEAD_SETS", "lead_indices"]

LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
"""The 12 leads in the standard order every array of this package uses."""

LEAD_SETS = {
    12: LEAD_NAMES,
    6: ("I", "II", "III", "aVR", "aVL", "aVF"),
    4: ("I", "II", "III", "V2"),
    3: ("I", "II", "V2"),
    2: ("I", "II"),
    1: ("I",),
}
"""Reduced lead sets of the 2021 challenge (plus lead I alone), by size."""

_CANONICAL = {name.lower(): name for name in LEAD_NAMES}


def lead_indices(leads):
    """Return the standard-order indices of a lead set.

    Parameters
    ----------
    leads : int or sequence of str
        A key of :data:`LEAD_SETS` (12, 6, 4, 3, 2 or 1) or lead names,
        case-insensitive (``"avr"`` is ``"aVR"``).

    Returns
    -------
    indices : list of int
        Sorted positions in :data:`LEAD_NAMES`.

    Examples
    --------
    >>> from sklearn_ecg.leads import lead_indices
    >>> lead_indices(3)
    [0, 1, 7]
    >>> lead_indices(["V6", "ii"])
    [1, 11]
    """
    if isinstance(leads, int) and not isinstance(leads, bool):
        if leads not in LEAD_SETS:
            raise ValueError(f"Unknown lead set {leads!r}; choose one of {sorted(LEAD_SETS)}.")
        leads = LEAD_SETS[leads]
    if isinstance(leads, str):
        leads = [leads]
    names = []
    for lead in leads:
        canonical = _CANONICAL.get(str(lead).lower())
        if canonical is None:
            raise ValueError(f"Unknown lead name {lead!r}; expected names from {LEAD_NAMES}.")
        names.append(canonical)
    if not names:
        raise ValueError("At least one lead must be selected.")
    if len(set(names)) != len(names):
        raise ValueError(f"Lead names must be unique, got {list(leads)}.")
    return sorted(LEAD_NAMES.index(name) for name in names)
