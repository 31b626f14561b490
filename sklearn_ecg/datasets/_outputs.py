"""Challenge output files: one ``RECORD.csv`` of codes, 0/1 outputs and scores per record."""

import math
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["read_challenge_output", "write_challenge_outputs"]

# What the official scorer counts as a positive binary output; anything else is 0.
_TRUE_TOKENS = ("1", "True", "true", "T", "t")


def write_challenge_outputs(folder, record_names, classes, labels, scores):
    """Write one challenge output file per record.

    Each record gets ``folder/RECORD.csv`` in the format of the PhysioNet/CinC
    Challenge 2020 (read by its ``evaluate_12ECG_score.py``)::

        #RECORD
        164889003,164890007,426783006
        0,1,1
        0.12,0.87,0.56

    a ``#`` line naming the record, then the SNOMED-CT codes, the 0/1
    outputs and the scores, one comma-separated column per class. Scores are
    written with the shortest text that reads back as the same float64.

    Parameters
    ----------
    folder : str or path-like
        Output folder, created if missing. Existing files of the same names
        are overwritten.
    record_names : sequence of str of length n_records
        Record names (file names without ``.csv``), distinct, without path
        separators.
    classes : sequence of str of length n_classes
        SNOMED-CT code of each column, distinct.
    labels : array-like of shape (n_records, n_classes)
        0/1 (or boolean) outputs.
    scores : array-like of shape (n_records, n_classes)
        Finite scores, e.g. probabilities.

    Returns
    -------
    paths : list of pathlib.Path
        The written files, in the order of ``record_names``.

    Raises
    ------
    ValueError
        If a name or code is empty, repeated or would break the format
        (path separators in names; commas, ``#`` or white space in codes),
        if the shapes disagree, a label is not 0/1, or a score is not finite.
        Nothing is written then.

    See Also
    --------
    read_challenge_output : Read one such file back.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_ecg.datasets import read_challenge_output, write_challenge_outputs
    >>> tmp = tempfile.TemporaryDirectory()
    >>> paths = write_challenge_outputs(
    ...     tmp.name, ["A0001", "A0002"], ["164889003", "426783006"],
    ...     labels=[[1, 0], [0, 1]], scores=[[0.9, 0.2], [0.1, 0.75]])
    >>> print(paths[0].read_text(), end="")
    #A0001
    164889003,426783006
    1,0
    0.9,0.2
    >>> output = read_challenge_output(paths[1])
    >>> output.record, output.classes.tolist(), output.labels.tolist(), output.scores.tolist()
    ('A0002', ['164889003', '426783006'], [0, 1], [0.1, 0.75])
    >>> tmp.cleanup()
    """
    names = _check_names(record_names)
    codes = _check_codes(classes)
    shape = (len(names), len(codes))
    labels = _check_labels(labels, shape)
    scores = _check_scores(scores, shape)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    header = ",".join(codes)
    paths = []
    for name, row_labels, row_scores in zip(names, labels, scores):
        path = folder / f"{name}.csv"
        lines = [
            f"#{name}",
            header,
            ",".join(str(int(value)) for value in row_labels),
            ",".join(repr(float(value)) for value in row_scores),
        ]
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def read_challenge_output(path):
    """Read a challenge output file as the official 2020 scorer reads it.

    Like ``load_outputs`` of ``evaluate_12ECG_score.py``: blank lines and
    lines starting with ``#`` are skipped (the first ``#`` line names the
    record); of the rest, which must all have the same number of
    comma-separated fields, the first holds the codes, the second the binary
    outputs (``1``, ``True``, ``true``, ``T`` or ``t`` is 1, anything else 0)
    and the third the scores (a field that is not a number, or is NaN, is 0).
    Fields are stripped of white space. Columns are returned as written:
    equivalent codes are not merged (see
    :func:`~sklearn_ecg.metrics.merge_equivalent_classes`).

    Parameters
    ----------
    path : str or path-like
        A ``RECORD.csv`` file.

    Returns
    -------
    output : :class:`~sklearn.utils.Bunch`
        record : str or None
            Text of the first ``#`` line without the ``#``; None if there
            is none.
        classes : ndarray of str of shape (n_classes,)
            Codes, in the file's order.
        labels : ndarray of shape (n_classes,), dtype int64
            Binary outputs.
        scores : ndarray of shape (n_classes,), dtype float64
            Scores.

    Raises
    ------
    ValueError
        If the file cannot be read, has fewer than three data lines, or its
        data lines have different numbers of fields. (The official scorer
        takes such a file as all negative; a reader that is asked to read it
        says what is wrong instead.)

    See Also
    --------
    write_challenge_outputs : Write such files.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_ecg.datasets import read_challenge_output
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "E0001.csv"
    >>> _ = path.write_text("#E0001\\n164889003, 426783006\\nTrue, 0\\n0.9, n/a\\n")
    >>> output = read_challenge_output(path)
    >>> output.labels.tolist(), output.scores.tolist()
    ([1, 0], [0.9, 0.0])
    >>> tmp.cleanup()
    """
    try:
        with open(path) as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read challenge output file {str(path)!r}: {error}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    comments = [line.strip() for line in lines if line.strip().startswith("#")]
    data = [line for line in lines if not line.strip().startswith("#")]
    widths = {len(line.split(",")) for line in data}
    if len(data) < 3 or len(widths) != 1:
        raise ValueError(
            f"{str(path)!r} is not a challenge output file: it needs three lines (codes, 0/1 "
            f"outputs, scores) with the same number of comma-separated fields; found "
            f"{len(data)} line(s) with {sorted(widths)} field(s)."
        )
    codes, binary, scores = ([field.strip() for field in line.split(",")] for line in data[:3])
    return Bunch(
        record=comments[0][1:].strip() if comments else None,
        classes=np.array(codes, dtype=str),
        labels=np.array([int(field in _TRUE_TOKENS) for field in binary], dtype=np.int64),
        scores=np.array([_score(field) for field in scores], dtype=np.float64),
    )


def _score(field):
    """A score field as the scorer takes it: a number, with NaN and non-numbers as 0."""
    try:
        value = float(field)
    except ValueError:
        return 0.0
    return 0.0 if math.isnan(value) else value


def _check_names(record_names):
    names = [str(name) for name in np.ravel(np.asarray(record_names, dtype=object))]
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    for name in names:
        if not name.strip() or name != name.strip() or any(s in name for s in separators):
            raise ValueError(
                f"record name {name!r} cannot name an output file: it must be non-empty, without "
                "surrounding spaces or path separators."
            )
    _check_distinct(names, "record_names")
    return names


def _check_codes(classes):
    codes = [str(code) for code in np.ravel(np.asarray(classes, dtype=object))]
    if not codes:
        raise ValueError("classes must name at least one code.")
    for code in codes:
        if not code or "," in code or code.startswith("#") or code != "".join(code.split()):
            raise ValueError(
                f"code {code!r} would break the output format: codes must be non-empty, without "
                "commas, white space or a leading '#'."
            )
    _check_distinct(codes, "classes")
    return codes


def _check_distinct(values, what):
    seen = set()
    repeated = sorted({value for value in values if value in seen or seen.add(value)})
    if repeated:
        raise ValueError(f"{what} must be distinct; repeated: {repeated[:5]}.")


def _check_labels(labels, shape):
    labels = np.asarray(labels)
    _check_shape(labels, shape, "labels")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0/1 (or boolean).")
    return labels.astype(np.int64)


def _check_scores(scores, shape):
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("scores must be numbers.") from None
    _check_shape(scores, shape, "scores")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (no NaN or infinity).")
    return scores


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise ValueError(
            f"{name} must have shape (n_records, n_classes) = {shape}, one row per record name and "
            f"one column per code; got {array.shape}."
        )
