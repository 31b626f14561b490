"""load_ptbxl: PTB-XL's own layout, its label tasks, folds, groups, metadata and bad input."""

import ast
import csv
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from _wfdb_records import write_wfdb_record

from sklearn_ecg.datasets import _loader, load_folders, load_ptbxl

_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ptbxl-dev"

_STATEMENTS = """\
,description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass
NDT,non-diagnostic T abnormalities,1.0,1.0,,STTC,STTC
NORM,normal ECG,1.0,,,NORM,NORM
IMI,inferior myocardial infarction,1.0,,,MI,IMI
ASMI,anteroseptal myocardial infarction,1.0,,,MI,AMI
LVH,left ventricular hypertrophy,1.0,,,HYP,LVH
PVC,ventricular premature complex,,1.0,,,
SR,sinus rhythm,,,1.0,,
AFIB,atrial fibrillation,,,1.0,,
"""
# ecg_id, patient_id, age, sex, scp_codes, strat_fold
_RECORDS = [
    (1, "7.0", "56.0", "1", {"NORM": 100.0, "SR": 0.0}, 3),
    (2, "7.0", "57.0", "0", {"IMI": 35.0, "ASMI": 0.0, "PVC": 100.0, "AFIB": 0.0}, 3),
    (3, "9.0", "", "0", {"NDT": 100.0}, 10),
    (4, "11.0", "80.0", "1", {"LVH": 50.0, "SR": 0.0}, 1),
]
# The tasks as PTB-XL's benchmark builds them, worked out by hand from the two tables above:
# every statement counts whatever its likelihood (ASMI, SR and AFIB have 0 here).
TASKS = {
    "superdiagnostic": (["HYP", "MI", "NORM", "STTC"], [["NORM"], ["MI"], ["STTC"], ["HYP"]]),
    "subdiagnostic": (
        ["AMI", "IMI", "LVH", "NORM", "STTC"], [["NORM"], ["AMI", "IMI"], ["STTC"], ["LVH"]]
    ),
    "diagnostic": (
        ["ASMI", "IMI", "LVH", "NDT", "NORM"], [["NORM"], ["ASMI", "IMI"], ["NDT"], ["LVH"]]
    ),
    "form": (["NDT", "PVC"], [[], ["PVC"], ["NDT"], []]),
    "rhythm": (["AFIB", "SR"], [["SR"], ["AFIB"], [], ["SR"]]),
    "all": (
        ["AFIB", "ASMI", "IMI", "LVH", "NDT", "NORM", "PVC", "SR"],
        [["NORM", "SR"], ["AFIB", "ASMI", "IMI", "PVC"], ["NDT"], ["LVH", "SR"]],
    ),
}
_COLUMNS = ["ecg_id", "patient_id", "age", "sex", "height", "weight", "report", "scp_codes",
            "strat_fold", "filename_lr", "filename_hr"]


def write_ptbxl(folder, records=_RECORDS, columns=_COLUMNS):
    """A small PTB-XL folder: both tables and each record at 100 and 500 Hz; return the values."""
    values = {}
    with open(folder / "ptbxl_database.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for ecg_id, patient, age, sex, codes, fold in records:
            lr, hr = f"records100/00000/{ecg_id:05d}_lr", f"records500/00000/{ecg_id:05d}_hr"
            row = {"ecg_id": ecg_id, "patient_id": patient, "age": age, "sex": sex,
                   "height": "", "weight": "70.0", "report": f"report {ecg_id}, text",
                   "scp_codes": str(codes), "strat_fold": fold, "filename_lr": lr,
                   "filename_hr": hr}
            writer.writerow([row[column] for column in columns])
            for name, fs in [(lr, 100), (hr, 500)]:
                path = folder / name
                values[name] = write_wfdb_record(path.parent, path.name, fs=fs, n_samples=10 * fs,
                                                 gains=1000.0, seed=ecg_id * fs)
    (folder / "scp_statements.csv").write_text(_STATEMENTS)
    return values


@pytest.fixture
def ptbxl(tmp_path):
    folder = tmp_path / "ptbxl"
    folder.mkdir()
    write_ptbxl(folder)
    return folder


def _load(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_ptbxl(folder, **kwargs)


def _rdsamp(path):
    return wfdb.rdsamp(str(path))[0].T.astype(np.float32)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_label_tasks(ptbxl, task):
    classes, labels = TASKS[task]
    data = _load(ptbxl, labels=task)
    assert list(data.classes) == classes
    assert [list(data.classes[row == 1]) for row in data.y] == labels
    assert data.y.dtype == np.uint8


def test_class_names_are_descriptions_of_statements(ptbxl):
    assert list(_load(ptbxl, labels="rhythm").class_names) == ["atrial fibrillation", "sinus rhythm"]
    assert list(_load(ptbxl).class_names) == ["HYP", "MI", "NORM", "STTC"]


@pytest.mark.parametrize(
    "fs, folder, fs_original",
    [(100, "records100", 100.0), (50, "records100", 100.0), (500, "records500", 500.0),
     (250, "records500", 500.0), (None, "records500", 500.0)],
)
def test_the_rate_picks_the_records_folder(ptbxl, fs, folder, fs_original):
    data = _load(ptbxl, fs=fs)
    assert set(data.metadata["fs_original"]) == {fs_original}
    assert all(f"/{folder}/" in path for path in data.metadata["path"])
    if fs == fs_original:
        for i, path in enumerate(data.metadata["path"]):
            np.testing.assert_array_equal(data.X[i], _rdsamp(Path(path).with_suffix("")))


def test_only_one_records_folder_is_used_whatever_the_rate(ptbxl):
    shutil.rmtree(ptbxl / "records100")
    data = _load(ptbxl, fs=100)
    assert data.X.shape == (4, 12, 1000) and set(data.metadata["fs_original"]) == {500.0}


def test_groups_folds_and_metadata(ptbxl):
    data = _load(ptbxl, crop="windows", duration=5.0)
    assert list(data.records) == ["00001_lr"] * 2 + ["00002_lr"] * 2 + ["00003_lr"] * 2 + [
        "00004_lr"] * 2
    assert list(data.groups) == ["7"] * 4 + ["9"] * 2 + ["11"] * 2
    assert data.folds.tolist() == [3, 3, 3, 3, 10, 10, 1, 1]
    meta = data.metadata
    assert meta["ecg_id"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert meta["patient_id"].dtype.kind == "i" and meta["strat_fold"].dtype.kind == "i"
    assert list(meta["sex"][::2]) == ["Female", "Male", "Male", "Female"]
    np.testing.assert_array_equal(meta["age"][::2], [56.0, 57.0, np.nan, 80.0])
    assert np.isnan(meta["height"]).all() and (meta["weight"] == 70.0).all()
    assert meta["report"][0] == "report 1, text"
    assert meta["codes"][2] == ("IMI", "ASMI", "PVC", "AFIB")
    assert set(meta["database"]) == {"PTB-XL"} and set(meta["layout"]) == {"ptbxl"}
    assert "PTB-XL" in data.DESCR and "CC BY 4.0" in data.DESCR and "Wagner" in data.DESCR


def test_unlabelled_needs_no_statements_file(ptbxl):
    (ptbxl / "scp_statements.csv").unlink()
    data = _load(ptbxl, labels=None)
    assert data.y.shape == (4, 0)
    assert load_folders(ptbxl, labels=None).X.shape == (4, 12, 1000)


def _drop_column(name, column):
    def edit(folder):
        path = folder / name
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        kept = [c for c in rows[0] if c != column]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, kept, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    return edit


def _replace_codes(old, new):
    def edit(folder):
        path = folder / "ptbxl_database.csv"
        path.write_text(path.read_text().replace(old, new, 1))

    return edit


BAD_FOLDERS = {
    "database-column": (
        _drop_column("ptbxl_database.csv", "strat_fold"),
        r"Database file .*ptbxl_database.csv lacks the columns \['strat_fold'\]",
    ),
    "statements-column": (
        _drop_column("scp_statements.csv", "diagnostic_class"),
        r"Database file .*scp_statements.csv lacks the columns \['diagnostic_class'\]",
    ),
    "no-database": (
        lambda folder: (folder / "ptbxl_database.csv").unlink(),
        r"Cannot read database file .*ptbxl_database.csv",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FOLDERS))
def test_bad_tables_raise_naming_file_and_problem(ptbxl, case):
    damage, message = BAD_FOLDERS[case]
    damage(ptbxl)
    for on_error in ("raise", "skip"):  # a folder-wide problem, not one record's
        with pytest.raises(ValueError, match=message):
            load_ptbxl(ptbxl, on_error=on_error)


BAD_RECORDS = {
    "unknown-code": (
        _replace_codes("'NDT'", "'XYZ'"),
        (r"SCP code 'XYZ' of record ecg_id=3 in .*ptbxl_database.csv is absent from "
         r".*scp_statements.csv"),
    ),
    "codes-not-a-dict": (
        _replace_codes("{'NDT': 100.0}", "NDT"),
        r"Record ecg_id=3 of .*ptbxl_database.csv has scp_codes 'NDT', not a dict",
    ),
    "missing-dat": (
        lambda folder: (folder / "records100/00000/00003_lr.dat").unlink(),
        r"Missing signal file .*00003_lr.dat",
    ),
    "short-dat": (
        lambda folder: (folder / "records100/00000/00003_lr.dat").write_bytes(b"\0" * 100),
        r"00003_lr.dat is shorter than its header says",
    ),
    "missing-header": (
        lambda folder: (folder / "records100/00000/00003_lr.hea").unlink(),
        r"Cannot read header file .*00003_lr.hea",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_record_raises_or_is_skipped(ptbxl, case):
    damage, message = BAD_RECORDS[case]
    damage(ptbxl)
    with pytest.raises(ValueError, match=message):
        load_ptbxl(ptbxl)
    with pytest.warns(UserWarning, match=r"Skipped 1 bad records \(00003_lr: "):
        data = load_ptbxl(ptbxl, on_error="skip")
    assert list(data.records) == ["00001_lr", "00002_lr", "00004_lr"]
    assert data.folds.tolist() == [3, 3, 1]


def test_invalid_task(ptbxl):
    with pytest.raises(ValueError, match="PTB-XL labels must be one of"):
        load_ptbxl(ptbxl, labels="diagnostic_class")


def test_cache_hit_equals_first_load(ptbxl, tmp_path, monkeypatch):
    first = _load(ptbxl, cache_dir=tmp_path / "cache", labels="rhythm")
    monkeypatch.setattr(_loader, "_load", lambda *args: pytest.fail("records read again"))
    hit = _load(ptbxl, cache_dir=tmp_path / "cache", labels="rhythm")
    assert isinstance(hit.X, np.memmap)
    for key in ("X", "y", "classes", "class_names", "records", "groups", "folds",
                "leads_present"):
        np.testing.assert_array_equal(hit[key], first[key])
    for key, value in first.metadata.items():
        np.testing.assert_array_equal(hit.metadata[key], value)
    # The tables are part of the key: an edited label is read again.
    monkeypatch.undo()
    _replace_codes("'NDT'", "'AFIB'")(ptbxl)
    changed = _load(ptbxl, cache_dir=tmp_path / "cache", labels="rhythm")
    assert list(changed.classes[changed.y[2] == 1]) == ["AFIB"]


# --- the real PTB-XL records ---


@pytest.fixture(scope="module")
def ptbxl_dev():
    if not (_DEFAULT_DIR / "ptbxl_database.csv").is_file():
        pytest.skip(f"PTB-XL development records not found at {_DEFAULT_DIR}")
    return _DEFAULT_DIR


def _reference_labels(folder, task):
    """PTB-XL's label aggregation written with pandas, as its benchmark code does."""
    import pandas as pd

    database = pd.read_csv(folder / "ptbxl_database.csv", index_col="ecg_id")
    statements = pd.read_csv(folder / "scp_statements.csv", index_col=0)
    flag, column = {
        "superdiagnostic": ("diagnostic", "diagnostic_class"),
        "subdiagnostic": ("diagnostic", "diagnostic_subclass"),
        "diagnostic": ("diagnostic", None),
        "form": ("form", None),
        "rhythm": ("rhythm", None),
        "all": (None, None),
    }[task]
    table = statements if flag is None else statements[statements[flag] == 1.0]
    classes = sorted(set(table.index if column is None else table[column].dropna()))
    rows = []
    for codes in database.scp_codes.apply(ast.literal_eval):
        found = {key if column is None else table.loc[key, column]
                 for key in codes if key in table.index}
        rows.append([int(c in found) for c in classes])
    return classes, np.array(rows, dtype=np.uint8), database


@pytest.fixture(scope="module")
def ptbxl_dev_100(ptbxl_dev):
    return _load(ptbxl_dev, fs=100, labels="all")


def test_dev_all_records_equal_rdsamp_at_100_hz(ptbxl_dev, ptbxl_dev_100):
    data = ptbxl_dev_100
    assert data.X.shape == (425, 12, 1000) and data.skipped == []
    assert data.leads_present.all()
    for i, path in enumerate(data.metadata["path"]):
        np.testing.assert_array_equal(data.X[i], _rdsamp(Path(path).with_suffix("")))


def test_dev_all_records_equal_rdsamp_at_500_hz(ptbxl_dev):
    data = _load(ptbxl_dev, fs=500, labels=None, n_jobs=2)
    assert data.X.shape == (425, 12, 5000)
    for i, path in enumerate(data.metadata["path"]):
        assert path.endswith("_hr.hea")
        np.testing.assert_array_equal(data.X[i], _rdsamp(Path(path).with_suffix("")))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_dev_labels_equal_the_reference(ptbxl_dev, task):
    classes, y, database = _reference_labels(ptbxl_dev, task)
    data = _load(ptbxl_dev, labels=task)
    assert list(data.classes) == classes
    np.testing.assert_array_equal(data.y, y)
    assert data.metadata["ecg_id"].tolist() == database.index.tolist()
    assert data.folds.tolist() == database.strat_fold.tolist()
    assert data.groups.tolist() == [str(int(p)) for p in database.patient_id]


def test_dev_superdiagnostic_has_pt_bxl_s_five_classes_and_patients(ptbxl_dev):
    data = _load(ptbxl_dev)
    assert list(data.classes) == ["CD", "HYP", "MI", "NORM", "STTC"]
    with open(ptbxl_dev / "ptbxl_database.csv", newline="") as f:
        patients = [row["patient_id"] for row in csv.DictReader(f)]
    _, counts = np.unique(data.groups, return_counts=True)
    _, expected = np.unique(patients, return_counts=True)
    np.testing.assert_array_equal(np.sort(counts), np.sort(expected))
    assert (counts >= 2).sum() > 0  # some patients have several records: group the folds
    assert set(data.folds) == set(range(1, 10))
