"""Native WFDB records (formats 16 and 212), lead names in any case, and reduced-lead records."""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from _wfdb_records import write_wfdb_record
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.datasets import load_folders, load_physionet, read_record
from sklearn_ecg.leads import LEAD_NAMES, LEAD_SETS, lead_indices

NORMAL = "426783006"


def _load(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean folder loads without any warning
        return load_physionet(folder, **kwargs)


def _rdsamp(path):
    signal, _ = wfdb.rdsamp(str(path))
    return signal.T.astype(np.float32)


@pytest.mark.parametrize("fmt", ["16", "212"])
def test_dat_records_equal_rdsamp_with_gains_and_baselines(tmp_path, fmt):
    leads = [lead.lower() for lead in LEAD_NAMES]  # as LUDB writes them
    expected = write_wfdb_record(tmp_path, "R1", leads=leads, fmt=fmt, comments=[f"Dx: {NORMAL}"])
    write_wfdb_record(tmp_path, "R2", fmt=fmt, seed=1, comments=[f"Dx: {NORMAL}"])
    header = (tmp_path / "R1.hea").read_text()
    assert f"R1.dat {fmt} " in header and "(0)" not in header  # non-zero baselines
    data = _load(tmp_path, fs=500, duration=10.0)
    assert data.X.shape == (2, 12, 5000) and data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X[0], _rdsamp(tmp_path / "R1"))
    np.testing.assert_array_equal(data.X[1], _rdsamp(tmp_path / "R2"))
    np.testing.assert_array_equal(data.X[0], expected.astype(np.float32))
    assert data.leads_present.all()
    assert list(data.classes[data.y[0] == 1]) == [NORMAL]
    signal, _ = read_record(tmp_path / "R1.dat")
    np.testing.assert_array_equal(signal, data.X[0])


def test_lead_names_match_in_any_case_and_order(tmp_path):
    names = ["v6", "AVF", "i", "aVl", "V1", "II", "avr", "iii", "V5", "v4", "V3", "v2"]
    expected = write_wfdb_record(tmp_path, "R1", leads=names)
    data = _load(tmp_path, fs=500, year=None)
    for position, name in enumerate(names):
        row = LEAD_NAMES.index(next(lead for lead in LEAD_NAMES if lead.lower() == name.lower()))
        np.testing.assert_array_equal(data.X[0, row], expected[position].astype(np.float32))


@pytest.mark.parametrize("n_leads", [6, 4, 3, 2])
def test_reduced_lead_sets_of_2021_sit_at_their_fixed_rows(tmp_path, n_leads):
    leads = LEAD_SETS[n_leads]
    expected = write_wfdb_record(tmp_path, "R1", leads=leads, comments=[f"Dx: {NORMAL}"])
    write_wfdb_record(tmp_path, "R2", seed=3, comments=[f"Dx: {NORMAL}"])  # all 12
    data = _load(tmp_path, fs=500)
    rows = lead_indices(n_leads)
    np.testing.assert_array_equal(data.X[0, rows], expected.astype(np.float32))
    absent = [i for i in range(12) if i not in rows]
    assert not data.X[0, absent].any()
    assert data.leads_present.shape == (2, 12) and data.leads_present.dtype == bool
    assert np.flatnonzero(data.leads_present[0]).tolist() == rows
    assert data.leads_present[1].all()
    assert data.metadata["n_zero_leads"].tolist() == [0, 0]  # absent leads are not zero leads


@st.composite
def _lead_subsets(draw):
    leads = draw(st.lists(st.sampled_from(LEAD_NAMES), min_size=1, max_size=12, unique=True))
    cases = draw(st.lists(st.sampled_from([str.lower, str.upper, str]), min_size=len(leads),
                          max_size=len(leads)))
    return [case(lead) for case, lead in zip(cases, leads)]


@settings(max_examples=25, deadline=None)
@given(leads=_lead_subsets(), fmt=st.sampled_from(["16", "212"]))
def test_any_lead_subset_round_trips_to_its_fixed_indices(leads, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        expected = write_wfdb_record(Path(tmp), "R1", leads=leads, fmt=fmt, n_samples=300)
        data = load_folders(tmp, layout="physionet", labels=None, fs=500, duration=None)
    standard = [next(s for s in LEAD_NAMES if s.lower() == lead.lower()) for lead in leads]
    rows = [LEAD_NAMES.index(lead) for lead in standard]
    np.testing.assert_array_equal(data.X[0, rows], expected.astype(np.float32))
    assert np.flatnonzero(data.leads_present[0]).tolist() == sorted(rows)
    others = [i for i in range(12) if i not in rows]
    assert not data.X[0, others].any()


@pytest.mark.parametrize(
    "leads, message",
    [
        (("I", "II", "V7"), r"has leads \['V7'\] that are not standard.*lacks the standard leads"),
        (("I", "II", "MLII"), r"has leads \['MLII'\] that are not standard"),
        (("I", "ii", "i"), r"has lead 'I' twice"),
        (("X", "Y"), r"has leads \['X', 'Y'\] that are not standard"),
    ],
)
def test_unknown_or_repeated_lead_names_are_errors(tmp_path, leads, message):
    write_wfdb_record(tmp_path, "BAD", leads=leads)
    write_wfdb_record(tmp_path, "GOOD", leads=("I", "II"), seed=2)
    with pytest.raises(ValueError, match=r"Record .*BAD.hea " + message):
        load_physionet(tmp_path, year=None)
    with pytest.warns(UserWarning, match=r"Skipped 1 bad records \(BAD: "):
        data = load_physionet(tmp_path, year=None, on_error="skip")
    assert list(data.records) == ["GOOD"]


def test_extra_channels_beside_all_12_leads_are_ignored(tmp_path):
    expected = write_wfdb_record(tmp_path, "S1", leads=LEAD_NAMES + ("vx", "vy", "vz"))
    data = _load(tmp_path, fs=500, year=None)
    np.testing.assert_array_equal(data.X[0], expected[:12].astype(np.float32))


def _truncate(path, n_bytes):
    path.write_bytes(path.read_bytes()[:n_bytes])


@pytest.mark.parametrize("fmt, full_size", [("16", 12 * 5000 * 2), ("212", 12 * 5000 * 3 // 2)])
def test_short_dat_file_is_an_error_naming_file_and_sizes(tmp_path, fmt, full_size):
    write_wfdb_record(tmp_path, "A1", fmt=fmt)
    write_wfdb_record(tmp_path, "BAD", fmt=fmt)
    assert (tmp_path / "BAD.dat").stat().st_size == full_size
    _truncate(tmp_path / "BAD.dat", 1000)
    message = (rf"Signal file .*BAD.dat is shorter than its header says: 1000 bytes, but "
               rf"12 leads x 5000 samples in format {fmt} need {full_size}")
    with pytest.raises(ValueError, match=message):
        load_physionet(tmp_path, year=None)
    with pytest.raises(ValueError, match=message):
        read_record(tmp_path / "BAD")
    with pytest.warns(UserWarning, match="Skipped 1 bad records"):
        data = load_physionet(tmp_path, year=None, on_error="skip")
    assert list(data.records) == ["A1"]


def test_missing_dat_file_is_an_error_naming_it(tmp_path):
    write_wfdb_record(tmp_path, "BAD")
    (tmp_path / "BAD.dat").unlink()
    with pytest.raises(ValueError, match=r"Missing signal file .*BAD.dat of header .*BAD.hea"):
        load_physionet(tmp_path, year=None)


def test_invalid_samples_are_an_error_naming_the_lead(tmp_path):
    counts = np.zeros((12, 5000), dtype=np.int64)
    counts[7, 10] = -32768  # WFDB's "no sample" in format 16: NaN in wfdb's values
    write_wfdb_record(tmp_path, "BAD", counts=counts)
    with pytest.raises(ValueError, match=r"BAD.dat has NaN or infinite samples in leads \['V2'\]"):
        load_physionet(tmp_path, year=None)
