"""load_ludb: LUDB's own layout, its rhythm labels, metadata and bad input."""

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from _wfdb_records import write_wfdb_record

from sklearn_ecg.datasets import load_folders, load_ludb
from sklearn_ecg.leads import LEAD_NAMES

_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ludb-dev"
_LEADS = [lead.lower() for lead in LEAD_NAMES]
_COLUMNS = ["ID", "Sex", "Age", "Rhythms", "Electric axis of the heart", "Hypertrophies"]
# ID, sex, age in the CSV, age in the header, rhythms cell, axis, hypertrophies
_RECORDS = [
    (1, "F", "51", 51, "Sinus bradycardia", "Electric axis of the heart: normal", ""),
    (2, "M", ">89", 90, "Sinus rhythm\nWandering atrial pacemaker", "",
     "Left atrial hypertrophy\nLeft ventricular hypertrophy"),
    (3, "M", "64", 64, "Atrial fibrillation", "", ""),
]


def write_ludb(folder, records=_RECORDS, columns=_COLUMNS):
    """A small LUDB folder: ``ludb.csv`` with LUDB's multi-line cells and ``data/N.{hea,dat}``."""
    values = {}
    with open(folder / "ludb.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for number, sex, age, header_age, rhythms, axis, hypertrophies in records:
            row = {"ID": number, "Sex": f"{sex}\n", "Age": f"{age}\n", "Rhythms": rhythms,
                   "Electric axis of the heart": axis, "Hypertrophies": hypertrophies}
            writer.writerow([row[column] for column in columns])
            comments = [f"<age>: {header_age}", f"<sex>: {sex}", "<diagnoses>:",
                        f"Rhythm: {rhythms.splitlines()[0]}."]
            values[str(number)] = write_wfdb_record(folder / "data", str(number), leads=_LEADS,
                                                    comments=comments, seed=number)
    return values


@pytest.fixture
def ludb(tmp_path):
    folder = tmp_path / "ludb"
    folder.mkdir()
    return folder, write_ludb(folder)


def _load(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_ludb(folder, **kwargs)


def test_rhythms_are_multi_hot_over_the_table(ludb):
    folder, _ = ludb
    data = _load(folder)
    assert list(data.classes) == ["Atrial fibrillation", "Sinus bradycardia", "Sinus rhythm",
                                  "Wandering atrial pacemaker"]
    assert list(data.class_names) == list(data.classes)
    np.testing.assert_array_equal(data.y, [[0, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]])
    assert data.metadata["codes"][1] == ("Sinus rhythm", "Wandering atrial pacemaker")


def test_values_metadata_and_groups(ludb):
    folder, values = ludb
    data = _load(folder, fs=500)
    assert list(data.records) == ["1", "2", "3"]
    for i, name in enumerate(data.records):
        np.testing.assert_array_equal(data.X[i], values[name].astype(np.float32))
    assert data.leads_present.all()
    meta = data.metadata
    assert meta["age"].tolist() == [51.0, 90.0, 64.0]  # the header's, where the CSV says >89
    assert list(meta["sex"]) == ["Female", "Male", "Male"]
    assert meta["electric_axis_of_the_heart"][0] == "Electric axis of the heart: normal"
    assert meta["hypertrophies"][1] == "Left atrial hypertrophy\nLeft ventricular hypertrophy"
    assert set(meta["database"]) == {"LUDB"}
    assert list(data.groups) == ["1", "2", "3"] and data.folds is None
    assert "ODC-By" in data.DESCR and "Kalyakulina" in data.DESCR


def test_unlabelled_and_detected(ludb):
    folder, _ = ludb
    assert _load(folder, labels=None).y.shape == (3, 0)
    detected = load_folders(folder)
    assert list(detected.metadata["layout"]) == ["ludb"] * 3 and detected.y.shape == (3, 4)


def test_table_without_rhythms_names_file_and_column(ludb):
    folder, _ = ludb
    write_ludb(folder, columns=["ID", "Sex", "Age", "Hypertrophies"])
    with pytest.raises(ValueError, match=r"ludb.csv lacks the columns \['Rhythms'\]"):
        load_ludb(folder)


def test_bad_record_raises_or_is_skipped(ludb):
    folder, _ = ludb
    dat = folder / "data" / "2.dat"
    dat.write_bytes(dat.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"Signal file .*2.dat is shorter than its header says"):
        load_ludb(folder)
    with pytest.warns(UserWarning, match=r"Skipped 1 bad records \(2: "):
        data = load_ludb(folder, on_error="skip")
    assert list(data.records) == ["1", "3"]


def test_invalid_labels(ludb):
    folder, _ = ludb
    with pytest.raises(ValueError, match='LUDB labels must be "rhythm" or None'):
        load_ludb(folder, labels="axis")


# --- the real LUDB records ---


@pytest.fixture(scope="module")
def ludb_dev():
    if not (_DEFAULT_DIR / "ludb.csv").is_file():
        pytest.skip(f"LUDB development records not found at {_DEFAULT_DIR}")
    return _DEFAULT_DIR


def test_dev_all_records_equal_rdsamp_and_labels_equal_the_table(ludb_dev):
    import pandas as pd

    data = _load(ludb_dev, fs=500)
    assert data.X.shape == (160, 12, 5000) and data.skipped == []
    table = pd.read_csv(ludb_dev / "ludb.csv", dtype=str)
    assert list(data.records) == list(table.ID)
    for i, name in enumerate(data.records):
        signal, fields = wfdb.rdsamp(str(ludb_dev / "data" / name))
        assert [lead.lower() for lead in fields["sig_name"]] == _LEADS
        np.testing.assert_array_equal(data.X[i], signal.T.astype(np.float32))
    rhythms = [[line.strip() for line in cell.split("\n") if line.strip()] for cell in table.Rhythms]
    classes = sorted({rhythm for cell in rhythms for rhythm in cell})
    assert list(data.classes) == classes
    expected = np.array([[int(c in cell) for c in classes] for cell in rhythms], dtype=np.uint8)
    np.testing.assert_array_equal(data.y, expected)
    assert (data.y.sum(axis=1) >= 1).all() and (data.y.sum(axis=1) == 2).any()
    for age, text in zip(data.metadata["age"], table.Age):
        text = text.strip()
        assert age > 89 if text == ">89" else age == float(text)
    assert not any(math.isnan(age) for age in data.metadata["age"])
    assert list(data.metadata["sex"]) == [{"F": "Female", "M": "Male"}[s.strip()] for s in table.Sex]
