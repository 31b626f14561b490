"""PTB-XL in its own layout: ``ptbxl_database.csv``, ``scp_statements.csv``, ``records100/500``."""

import ast
import math

from ._bunch import RecordEntry
from ._csv import read_csv
from ._loader import existing_folder, load_layouts
from ._options import LoadOptions

__all__ = ["PTBXLLayout", "load_ptbxl"]

# Task -> (flag column a statement needs, column of its class; None: the statement itself),
# as PTB-XL's benchmark code builds them (Strodthoff et al. 2021).
TASKS = {
    "superdiagnostic": ("diagnostic", "diagnostic_class"),
    "subdiagnostic": ("diagnostic", "diagnostic_subclass"),
    "diagnostic": ("diagnostic", None),
    "form": ("form", None),
    "rhythm": ("rhythm", None),
    "all": (None, None),
}
_DATABASE_COLUMNS = (
    "ecg_id", "patient_id", "age", "sex", "scp_codes", "strat_fold", "filename_lr", "filename_hr",
)
_STATEMENT_COLUMNS = ("description", "diagnostic", "form", "rhythm", "diagnostic_class",
                      "diagnostic_subclass")
_INT_COLUMNS = ("ecg_id", "patient_id", "strat_fold")
_FLOAT_COLUMNS = ("height", "weight")
_SEX = {"0": "Male", "1": "Female"}  # PTB-XL's coding (Wagner et al. 2020, Table 2)


class PTBXLLayout:
    """A PTB-XL folder: the records its database file lists, labelled by one task.

    ``fs`` picks the records: ``records100`` (``filename_lr``) when
    ``fs <= 100``, else ``records500`` (``filename_hr``); the other when the
    folder of the first is absent.
    """

    name = "ptbxl"
    title = "PTB-XL 12-lead ECG records"
    citation = (
        "PTB-XL, CC BY 4.0. Cite Wagner et al., Scientific Data 7, 154 (2020), PhysioNet\n"
        "(Goldberger et al., Circulation 101, e215, 2000) and, for the label tasks,\n"
        "Strodthoff et al., IEEE JBHI 25, 1519 (2021)."
    )

    def __init__(self, root, labels, fs):
        if labels is not None and labels not in TASKS:
            raise ValueError(f"PTB-XL labels must be one of {list(TASKS)} or None, got {labels!r}.")
        self.root, self.labels = root, labels
        self.label_text = "unlabelled" if labels is None else f"PTB-XL's {labels} statements"
        self._database = root / "ptbxl_database.csv"
        self._columns, rows = read_csv(self._database, _DATABASE_COLUMNS)
        filename = self._filename_column(fs)
        self._rows = {root / f"{row[filename]}.hea": row for row in rows}
        if len(self._rows) < len(rows):
            raise ValueError(f"Database file {self._database} lists a record file twice.")
        if labels is not None:
            self._statements_path = root / "scp_statements.csv"
            columns, statements = read_csv(self._statements_path, _STATEMENT_COLUMNS)
            self._statements = {row[columns[0]]: row for row in statements}

    def record_paths(self):
        return list(self._rows)

    def entry(self, header_path, header, present):
        row = self._rows[header_path]
        ecg_id = row["ecg_id"]
        codes = self._codes(row)
        labels = () if self.labels is None else self._task_labels(codes, ecg_id)
        metadata = {
            "database": "PTB-XL",
            "age": self._number(row, "age"),
            "sex": _SEX.get(row["sex"].strip().removesuffix(".0"), ""),
            "codes": codes,
        }
        for column in self._columns:
            if column in _INT_COLUMNS:
                number = self._number(row, column)
                metadata[column] = -1 if math.isnan(number) else int(number)
            elif column in _FLOAT_COLUMNS:
                metadata[column] = self._number(row, column)
            elif column not in metadata and column not in ("age", "sex"):
                metadata[column] = row[column]
        if metadata["patient_id"] < 0:
            raise ValueError(f"Record ecg_id={ecg_id} of {self._database} has no patient_id.")
        return RecordEntry(header_path, header, str(self.root), self.name, present, labels,
                           group=str(metadata["patient_id"]), fold=metadata["strat_fold"],
                           metadata=metadata)

    def classes(self, entries):
        flag, column = TASKS[self.labels]
        names = {}
        for code, statement in self._statements.items():
            label = self._label(code, flag, column)
            if label is not None:
                names[label] = statement["description"] if column is None else label
        classes = sorted(names)
        return classes, [names[label] for label in classes]

    def _filename_column(self, fs):
        wanted, other = ("filename_lr", "filename_hr")
        if fs is None or fs > 100:
            wanted, other = other, wanted
        folder = {"filename_lr": "records100", "filename_hr": "records500"}
        if not (self.root / folder[wanted]).is_dir() and (self.root / folder[other]).is_dir():
            return other
        return wanted

    def _codes(self, row):
        """The statements of ``scp_codes``, whatever their likelihood."""
        try:
            codes = ast.literal_eval(row["scp_codes"])
        except (ValueError, SyntaxError):
            codes = None
        if not isinstance(codes, dict) or not all(isinstance(c, str) for c in codes):
            raise ValueError(
                f"Record ecg_id={row['ecg_id']} of {self._database} has scp_codes "
                f"{row['scp_codes']!r}, not a dict of SCP statements to likelihoods."
            )
        return tuple(codes)

    def _task_labels(self, codes, ecg_id):
        flag, column = TASKS[self.labels]
        labels = []
        for code in codes:
            if code not in self._statements:
                raise ValueError(
                    f"SCP code {code!r} of record ecg_id={ecg_id} in {self._database} is "
                    f"absent from {self._statements_path}."
                )
            label = self._label(code, flag, column)
            if label is not None:
                labels.append(label)
        return tuple(dict.fromkeys(labels))

    def _label(self, code, flag, column):
        """The class a statement gives in the task, or None when the task does not use it."""
        statement = self._statements[code]
        if flag is not None and not _is_set(statement[flag]):
            return None
        return code if column is None else statement[column].strip() or None

    def _number(self, row, column):
        text = row[column].strip()
        if not text:
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise ValueError(
                f"Record ecg_id={row['ecg_id']} of {self._database} has {column}={text!r}, "
                "not a number."
            ) from None


def _is_set(flag):
    """A flag of ``scp_statements.csv``: ``1.0`` when set, empty when not."""
    try:
        return float(flag) == 1.0
    except ValueError:
        return False


def load_ptbxl(
    path,
    *,
    fs=100,
    duration=10.0,
    crop="start",
    labels="superdiagnostic",
    on_error="raise",
    n_jobs=None,
    cache_dir=None,
    verbose=0,
):
    """Load PTB-XL from its own folder layout, with one of its label tasks.

    The folder is PTB-XL as PhysioNet publishes it (or a part of it):
    ``ptbxl_database.csv`` lists the records, ``scp_statements.csv``
    describes the SCP-ECG statements, and the signals are native WFDB
    records (format 16) in ``records100`` (100 Hz) and ``records500``
    (500 Hz). Rows follow the order of ``ptbxl_database.csv``.

    Parameters
    ----------
    path : str or path-like
        The PTB-XL folder (the one holding ``ptbxl_database.csv``).
    fs : float or None, default=100
        Sampling rate of ``X`` in Hz. ``fs <= 100`` reads ``records100``,
        a higher rate (or None, the records' own rate) ``records500``; when
        only one of the two folders is present, that one. Resampling as in
        :func:`load_physionet`.
    duration : float or None, default=10.0
        Seconds per row (PTB-XL's records are 10 s long).
    crop : {"start", "center", "windows"}, default="start"
        Which part of a record becomes a row, as in :func:`load_physionet`.
    labels : {"superdiagnostic", "subdiagnostic", "diagnostic", "form", \
"rhythm", "all"} or None, default="superdiagnostic"
        The label task, as PTB-XL's benchmark (Strodthoff et al. 2021)
        builds it: every statement of a record's ``scp_codes``, whatever its
        likelihood, is kept when its row of ``scp_statements.csv`` has the
        task's flag (``diagnostic`` for the three diagnostic tasks, ``form``,
        ``rhythm``; none for ``"all"``) and becomes that row's
        ``diagnostic_class`` (superdiagnostic: NORM, MI, STTC, CD, HYP),
        ``diagnostic_subclass`` (subdiagnostic) or the statement itself.
        The columns of ``y`` are every class of the task in
        ``scp_statements.csv``, sorted; a record without a statement of the
        task has a row of zeros (the benchmark drops such records:
        ``data.y.any(axis=1)`` selects the others). None: unlabelled, and
        ``scp_statements.csv`` is not read.
    on_error : {"raise", "skip"}, default="raise"
        What a bad record does, as in :func:`load_physionet`.
    n_jobs : int or None, default=None
        Records read in parallel by joblib.
    cache_dir : str or path-like or None, default=None
        Folder of the on-disk cache, as in :func:`load_physionet` (the key
        covers the two CSV files too).
    verbose : int, default=0
        Show progress bars when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The layout of :func:`load_physionet`, with: ``classes`` the task's
        classes (SCP statements or PTB-XL's classes), ``class_names`` their
        descriptions (the class itself for the two aggregated tasks),
        ``records`` the WFDB record names (``00011_lr``), ``groups`` the
        patient ids (PTB-XL has several records of some patients: group
        folds by them), ``folds`` PTB-XL's ``strat_fold`` (1-10; 9 and 10
        are its usual validation and test folds). ``metadata`` adds every
        column of ``ptbxl_database.csv`` (``ecg_id``, ``patient_id`` and
        ``strat_fold`` as integers, ``height`` and ``weight`` as floats, the
        others as text); ``sex`` is ``"Male"`` or ``"Female"`` and
        ``codes`` the statements of ``scp_codes``.

    Raises
    ------
    ValueError
        If a CSV file is missing or lacks an expected column, ``labels`` is
        not a task, a record's ``scp_codes`` holds a statement absent from
        ``scp_statements.csv`` or cannot be read, or a record is bad (as in
        :func:`load_physionet`; skipped with ``on_error="skip"``).

    Notes
    -----
    PTB-XL is published under CC BY 4.0. Cite Wagner et al., "PTB-XL, a
    large publicly available electrocardiography dataset", Scientific Data
    7, 154 (2020), and PhysioNet; for the tasks, Strodthoff et al., "Deep
    learning for ECG analysis: benchmarks and insights from PTB-XL", IEEE
    JBHI 25, 1519 (2021).

    Examples
    --------
    A PTB-XL folder of two records of one patient, at 100 Hz only:

    >>> import tempfile, pathlib
    >>> import numpy as np, wfdb
    >>> from sklearn_ecg.datasets import load_ptbxl
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = pathlib.Path(tmp.name)
    >>> _ = (root / "scp_statements.csv").write_text(
    ...     ",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass\\n"
    ...     "NORM,normal ECG,1.0,,,NORM,NORM\\n"
    ...     "IMI,inferior myocardial infarction,1.0,,,MI,IMI\\n"
    ...     "SR,sinus rhythm,,,1.0,,\\n")
    >>> rows = ["ecg_id,patient_id,age,sex,scp_codes,strat_fold,filename_lr,filename_hr"]
    >>> for ecg_id, codes in [(1, "{'NORM': 100.0, 'SR': 0.0}"), (2, "{'IMI': 50.0}")]:
    ...     files = f"records100/00000/{ecg_id:05d}_lr,records500/00000/{ecg_id:05d}_hr"
    ...     rows.append(f'{ecg_id},15709.0,56.0,1,"{codes}",3,{files}')
    >>> _ = (root / "ptbxl_database.csv").write_text("\\n".join(rows))
    >>> folder = root / "records100" / "00000"
    >>> folder.mkdir(parents=True)
    >>> leads = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> for ecg_id in (1, 2):
    ...     wfdb.wrsamp(f"{ecg_id:05d}_lr", fs=100, units=["mV"] * 12, sig_name=leads,
    ...                 d_signal=np.full((1000, 12), 500, dtype=np.int32), fmt=["16"] * 12,
    ...                 adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))
    >>> data = load_ptbxl(root, fs=100)
    >>> data.X.shape, data.classes.tolist(), data.y.tolist()
    ((2, 12, 1000), ['MI', 'NORM'], [[0, 1], [1, 0]])
    >>> data.groups.tolist(), data.folds.tolist()
    (['15709', '15709'], [3, 3])
    >>> load_ptbxl(root, labels="rhythm").y.tolist()  # SR counts, likelihood 0 or not
    [[1], [0]]
    >>> tmp.cleanup()
    """
    options = LoadOptions(fs=fs, duration=duration, crop=crop, on_error=on_error,
                          n_jobs=n_jobs, cache_dir=cache_dir, verbose=verbose)
    root = existing_folder(path, "PTB-XL records")
    return load_layouts([PTBXLLayout(root, labels, fs)], options)
