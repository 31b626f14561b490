"""load_folders: several folders, layouts detected, unlabelled pools, unique record names."""

import warnings

import numpy as np
import pytest
from _wfdb_records import write_wfdb_record
from scipy.signal import resample_poly

from sklearn_ecg.datasets import (
    _loader,
    detect_layout,
    load_folders,
    load_physionet,
    make_synthetic_ecg,
)
from sklearn_ecg.leads import LEAD_SETS, lead_indices

NORMAL, AF = "426783006", "164889003"


def _load(paths, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_folders(paths, **kwargs)


def test_folders_of_different_rates_and_lengths_share_one_grid(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    first = write_wfdb_record(a, "A1", fs=500, n_samples=6000)  # 12 s
    second = write_wfdb_record(b, "B1", fs=250, n_samples=2000, leads=LEAD_SETS[3], seed=1)  # 8 s
    third = write_wfdb_record(b, "B2", fs=1000, n_samples=10_500, fmt="212", seed=2)  # 10.5 s
    data = _load([a, b], labels=None, fs=100, duration=10.0)
    assert data.X.shape == (3, 12, 1000) and data.y.shape == (3, 0)
    assert list(data.records) == ["A1", "B1", "B2"]
    assert list(data.metadata["source"]) == [str(a), str(b), str(b)]
    assert data.metadata["fs_original"].tolist() == [500.0, 250.0, 1000.0]
    for row, values, up, down, n_out, leads in [
        (0, first, 1, 5, 1000, list(range(12))),
        (1, second, 2, 5, 800, lead_indices(3)),
        (2, third, 1, 10, 1000, list(range(12))),
    ]:
        expected = resample_poly(values, up, down, axis=-1, padtype="edge")[:, :n_out]
        np.testing.assert_allclose(data.X[row, leads, :n_out], expected, rtol=1e-5, atol=1e-5)
        assert not data.X[row, :, n_out:].any()  # shorter than 10 s: zero-padded
    assert data.leads_present.sum(axis=1).tolist() == [12, 3, 12]


def test_unlabelled_records_need_no_dx_line(tmp_path):
    write_wfdb_record(tmp_path, "R1")  # no comment at all
    write_wfdb_record(tmp_path, "R2", comments=[f"Dx: {AF}"], seed=1)
    data = _load(tmp_path, labels=None)
    assert data.y.shape == (2, 0) and data.classes.shape == (0,)
    assert data.metadata["codes"].tolist() == [(), (AF,)]
    # Every code present: the record without a Dx line has none.
    every = _load(tmp_path, labels="all")
    assert list(every.classes) == [AF] and every.y.tolist() == [[0], [1]]
    assert load_physionet(tmp_path, year=None).y.tolist() == [[0], [1]]
    # The scored classes of a year need the record's labels.
    with pytest.raises(ValueError, match=r"R1.hea has no Dx line"):
        load_folders(tmp_path, labels=2020)


def test_labelled_folders_of_one_layout_share_their_columns(tmp_path):
    write_wfdb_record(tmp_path / "a", "A1", comments=[f"Dx: {AF}"])
    write_wfdb_record(tmp_path / "b", "B1", comments=[f"Dx: {NORMAL}"], seed=1)
    scored = _load([tmp_path / "a", tmp_path / "b"], labels=2021)
    assert scored.y.shape == (2, 26)
    assert [list(scored.classes[row == 1]) for row in scored.y] == [[AF], [NORMAL]]
    every = _load([tmp_path / "a", tmp_path / "b"], labels="all")
    assert list(every.classes) == sorted([AF, NORMAL])
    np.testing.assert_array_equal(every.y, [[1, 0], [0, 1]])


def _ludb_folder(folder):
    write_wfdb_record(folder / "data", "1", leads=[lead.lower() for lead in LEAD_SETS[12]])
    (folder / "ludb.csv").write_text('ID,Sex,Age,Rhythms\n1,"F\n","51\n",Sinus rhythm\n')


def test_layouts_are_detected_and_mixed_only_unlabelled(tmp_path):
    ludb, challenge = tmp_path / "ludb", tmp_path / "challenge"
    _ludb_folder(ludb)
    write_wfdb_record(challenge, "A1", comments=[f"Dx: {AF}"])
    assert detect_layout(ludb) == "ludb" and detect_layout(challenge) == "physionet"
    pool = _load([ludb, challenge], labels=None)
    assert list(pool.metadata["layout"]) == ["ludb", "physionet"]
    assert list(pool.metadata["database"]) == ["LUDB", "CPSC2018"]
    # A field of one layout only is filled for the other's rows.
    assert list(pool.metadata["rhythms"]) == ["Sinus rhythm", ""]
    assert pool.folds is None and list(pool.groups) == ["1", "A1"]
    with pytest.raises(ValueError, match="different layouts .* labels=None"):
        load_folders([ludb, challenge])
    # A LUDB folder read as plain WFDB records: the records under it, unlabelled.
    plain = _load(ludb, layout="physionet", labels=None)
    assert list(plain.records) == ["1"] and list(plain.metadata["layout"]) == ["physionet"]


def test_duplicate_record_names_are_an_error_before_any_work(tmp_path, monkeypatch):
    write_wfdb_record(tmp_path / "x", "R1")
    write_wfdb_record(tmp_path / "y" / "deep", "R1", seed=1)

    def no_work(*args, **kwargs):
        raise AssertionError("a header was read before the names were checked")

    monkeypatch.setattr(_loader, "read_header", no_work)
    message = r"Two records are named 'R1': .*x/R1.hea and .*y/deep/R1.hea"
    for on_error in ("raise", "skip"):
        with pytest.raises(ValueError, match=message):
            load_physionet(tmp_path, year=None, on_error=on_error)
    with pytest.raises(ValueError, match=message):
        load_folders([tmp_path / "x", tmp_path / "y"], labels=None)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": "wfdb"}, "layout must be 'auto' or one of"),
        ({"labels": 2019}, 'Labels of challenge records are 2020, 2021, "all" or None'),
        ({"layout": "ptbxl"}, r"Cannot read database file .*ptbxl_database.csv"),
        ({"fs": -1}, "fs must be a positive number"),
        ({"on_error": "ignore"}, "on_error must be"),
    ],
)
def test_invalid_options(tmp_path, kwargs, message):
    write_wfdb_record(tmp_path, "R1")
    with pytest.raises(ValueError, match=message):
        load_folders(tmp_path, **kwargs)


def test_missing_folder_and_empty_list(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        load_folders([tmp_path, tmp_path / "absent"])
    with pytest.raises(ValueError, match="at least one folder"):
        load_folders([])


def test_every_loader_and_the_synthetic_data_share_one_layout(tmp_path):
    ludb = tmp_path / "ludb"
    _ludb_folder(ludb)
    write_wfdb_record(tmp_path / "wfdb", "A1", comments=[f"Dx: {AF}"])
    results = [
        _load(ludb),
        load_physionet(tmp_path / "wfdb"),
        _load([ludb, tmp_path / "wfdb"], labels=None),
        make_synthetic_ecg(4, random_state=0),
    ]
    common = {"record", "source", "layout", "start", "database", "fs_original",
              "n_samples_original", "duration_original", "age", "sex", "codes", "n_zero_leads",
              "path"}
    for data in results:
        assert set(data) == set(results[0])
        assert common <= set(data.metadata)
        n_rows = len(data.X)
        assert data.leads_present.shape == (n_rows, 12) and len(data.groups) == n_rows
        assert all(len(value) == n_rows for value in data.metadata.values())
