import csv
import os
import re
import warnings

import numpy as np
import pytest
import scipy.io
from scipy.signal import resample_poly

from sklearn_ecg.classes import code_names, scored_classes
from sklearn_ecg.datasets import _loader, load_physionet, read_record
from sklearn_ecg.datasets._plan import resample_span
from sklearn_ecg.leads import LEAD_NAMES
from sklearn_ecg.preprocessing import resampling_filter

NORMAL = "426783006"  # SNR, scored
AF = "164889003"  # scored
RBBB = "59118001"  # scored, merged into CRBBB 713427006 in 2020
UNSCORED = "164951009"  # abQRS, known but scored in neither year

_COMMENT = {"2020": "#", "2021": "# ", "mat-suffix": "#"}
_RECORD_LINE = {
    "2020": "{name} {n_leads} {fs} {n_samples} 12-May-2020 12:33:59",
    "2021": "{name} {n_leads} {fs} {n_samples}",
    "mat-suffix": "{name}.mat {n_leads} {fs} {n_samples} 05-May-2020 14:50:55",
}


def write_record(
    folder,
    name,
    val=None,
    *,
    fs=500,
    n_samples=5000,
    gains=1000,
    gain_format="{:g}/mV",
    dialect="2020",
    leads=LEAD_NAMES,
    codes=(NORMAL,),
    age="50",
    sex="Male",
    seed=0,
):
    """Write NAME.hea and NAME.mat in challenge format; return the int16 counts."""
    folder.mkdir(parents=True, exist_ok=True)
    if val is None:
        rng = np.random.default_rng(seed)
        val = rng.integers(-3000, 3000, size=(len(leads), n_samples), dtype=np.int16)
    gains = np.broadcast_to(gains, len(leads))
    c = _COMMENT[dialect]
    record_line = _RECORD_LINE[dialect]
    lines = [record_line.format(name=name, n_leads=len(leads), fs=fs, n_samples=n_samples)]
    lines += [
        f"{name}.mat 16+24 {gain_format.format(gain)} 16 0 {int(row[0])} 0 0 {lead}"
        for gain, row, lead in zip(gains, np.atleast_2d(val), leads)
    ]
    if age is not None:
        lines.append(f"{c}Age: {age}")
    if sex is not None:
        lines.append(f"{c}Sex: {sex}")
    if codes is not None:
        lines.append(f"{c}Dx: {','.join(codes)}")
    lines += [f"{c}Rx: Unknown", f"{c}Hx: Unknown"]
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
    scipy.io.savemat(folder / f"{name}.mat", {"val": val}, format="4")
    return val


def _load(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean folder must load without any warning
        return load_physionet(folder, **kwargs)


# --- dialects, gains, rates, leads ---


@pytest.mark.parametrize(
    "dialect, gain_format",
    [
        ("2020", "{:g}/mV"),
        ("2021", "{:.1f}(0)/mV"),
        ("mat-suffix", "{:.1f}(0)/mv"),
        ("2020", "{:g}/mv"),
    ],
)
def test_values_are_counts_over_gain_in_every_dialect(tmp_path, dialect, gain_format):
    gains = np.array([1000, 4880, 200, 1000, 1000, 1000, 500, 1000, 1000, 1000, 2000, 1000])
    val = write_record(tmp_path, "E00001", gains=gains, gain_format=gain_format, dialect=dialect,
                       codes=(AF, UNSCORED), age="67", sex="Female")
    data = _load(tmp_path, fs=500, duration=10.0)
    expected = (val / gains[:, None]).astype(np.float32)
    np.testing.assert_array_equal(data.X[0], expected)
    assert data.X.dtype == np.float32 and data.X.shape == (1, 12, 5000)
    assert list(data.classes[data.y[0] == 1]) == [AF]
    assert data.metadata["codes"][0] == (AF, UNSCORED)
    assert data.metadata["age"][0] == 67.0 and data.metadata["sex"][0] == "Female"
    assert data.metadata["database"][0] == "Georgia"


def test_1000_hz_record_of_non_whole_seconds_is_resampled_and_padded(tmp_path):
    t = np.arange(10_500) / 1000.0
    val = np.tile(np.round(1000 * np.sin(2 * np.pi * 5 * t)), (12, 1)).astype(np.int16)
    write_record(tmp_path, "S0001", val, fs=1000, n_samples=10_500)
    data = _load(tmp_path, fs=100, duration=12.0)
    assert data.X.shape == (1, 12, 1200)
    sine = np.sin(2 * np.pi * 5 * np.arange(1050) / 100)
    # A 5 Hz sine survives 1000 -> 100 Hz; the few samples at each end see the edge padding.
    np.testing.assert_allclose(data.X[0, :, 3:1047], np.tile(sine[3:1047], (12, 1)), atol=3e-3)
    np.testing.assert_allclose(data.X[0, :, :1050], np.tile(sine, (12, 1)), atol=0.05)
    assert not data.X[0, :, 1050:].any()  # 10.5 s of signal, then zeros
    assert data.metadata["duration_original"][0] == 10.5
    assert data.metadata["fs_original"][0] == 1000.0
    assert data.metadata["n_samples_original"][0] == 10_500
    assert data.metadata["database"][0] == "PTB"
    assert data.fs == 100.0


def test_resampled_rows_equal_resample_poly_of_the_whole_record(tmp_path):
    val = write_record(tmp_path, "A0001", n_samples=9_000)
    expected = resample_poly(val / 1000.0, 1, 5, axis=-1, padtype="edge")
    for crop, start in [("start", 0), ("center", (1800 - 500) // 2)]:
        data = _load(tmp_path, fs=100, duration=5.0, crop=crop)
        np.testing.assert_allclose(
            data.X[0], expected[:, start : start + 500], rtol=1e-6, atol=1e-6
        )
        assert data.metadata["start"][0] == start / 100


@pytest.mark.parametrize(
    "up, down, n, start, stop",
    [
        (1, 5, 5000, 0, 1000),
        (1, 10, 11_000, 300, 700),
        (100, 257, 7000, 37, 2724),
        (5, 2, 999, 2400, 2600),
    ],
)
def test_resample_span_equals_full_resample_poly(up, down, n, start, stop):
    x = np.random.default_rng(1).standard_normal((3, n))
    full = resample_poly(x, up, down, axis=-1, padtype="edge")
    expected = np.zeros((3, stop - start))
    piece = full[:, start:stop]
    expected[:, : piece.shape[1]] = piece
    span = resample_span(x, up, down, resampling_filter(up, down), start, stop)
    np.testing.assert_allclose(span, expected, atol=1e-12)


def test_leads_are_reordered_by_name(tmp_path):
    leads = ("V6", "V5", "V4", "V3", "V2", "V1", "AVF", "avl", "aVR", "III", "II", "I")
    val = write_record(tmp_path, "A0001", leads=leads, gains=np.arange(1, 13) * 100)
    signal, header = read_record(tmp_path / "A0001")
    assert header.lead_names == leads
    for i, lead in enumerate(LEAD_NAMES):
        source = [name.lower() for name in leads].index(lead.lower())
        expected = (val[source] / ((source + 1) * 100)).astype(np.float32)
        np.testing.assert_array_equal(signal[i], expected)
    data = _load(tmp_path, fs=500, duration=10.0)
    np.testing.assert_array_equal(data.X[0], signal)
    assert list(data.leads) == list(LEAD_NAMES)


def test_read_record_accepts_any_of_the_record_paths(tmp_path):
    write_record(tmp_path, "A0001")
    signals = [read_record(tmp_path / p)[0] for p in ("A0001", "A0001.hea", "A0001.mat")]
    assert signals[0].shape == (12, 5000) and signals[0].dtype == np.float32
    np.testing.assert_array_equal(signals[0], signals[1])
    np.testing.assert_array_equal(signals[0], signals[2])


def test_extra_leads_are_ignored(tmp_path):
    leads = LEAD_NAMES + ("X", "Y", "Z")
    val = write_record(tmp_path, "A0001", leads=leads)
    signal, _ = read_record(tmp_path / "A0001.hea")
    np.testing.assert_array_equal(signal, (val[:12] / 1000).astype(np.float32))


def test_reduced_lead_mat_record_loads_at_fixed_rows(tmp_path):
    leads = ("I", "II", "III", "aVR", "aVL", "aVF")  # the 2021 6-lead set
    val = write_record(tmp_path, "A0001", leads=leads, gains=500)
    data = _load(tmp_path, fs=500)
    np.testing.assert_array_equal(data.X[0, :6], (val / 500).astype(np.float32))
    assert not data.X[0, 6:].any()
    assert data.leads_present[0].tolist() == [True] * 6 + [False] * 6
    signal, _ = read_record(tmp_path / "A0001")
    np.testing.assert_array_equal(signal, data.X[0])


def test_all_zero_lead_is_kept_counted_and_warned(tmp_path):
    val = np.random.default_rng(0).integers(-100, 100, (12, 5000)).astype(np.int16)
    val[[2, 9]] = 0
    write_record(tmp_path, "JS00001", val)
    write_record(tmp_path, "JS00002")
    message = r"1 of 2 records have at least one all-zero lead \(JS00001\)"  # names the records
    with pytest.warns(UserWarning, match=message) as record:
        data = load_physionet(tmp_path)
    assert len(record) == 1
    assert list(data.metadata["n_zero_leads"]) == [2, 0]
    assert not data.X[0, 2].any() and data.X[0, 0].any()
    assert list(data.metadata["database"]) == ["Chapman-Shaoxing/Ningbo"] * 2


# --- crops ---


def _mv(counts, gain=1000.0):
    return (counts / gain).astype(np.float32)


def test_crop_modes_at_the_native_rate(tmp_path):
    ramp = np.tile(np.arange(12_650) % 30_000, (12, 1)).astype(np.int16)  # 25.3 s
    write_record(tmp_path, "A0001", ramp, n_samples=12_650, codes=(AF,))
    write_record(tmp_path, "A0002", n_samples=2_000, codes=(NORMAL,))  # 4 s
    kwargs = dict(fs=500, duration=10.0)

    start = _load(tmp_path, crop="start", **kwargs)
    np.testing.assert_array_equal(start.X[0, 0], _mv(np.arange(5000)))
    assert not start.X[1, :, 2000:].any() and start.X[1, :, :2000].any()

    center = _load(tmp_path, crop="center", **kwargs)
    offset = (12_650 - 5000) // 2
    np.testing.assert_array_equal(center.X[0, 0], _mv(np.arange(offset, offset + 5000)))
    np.testing.assert_array_equal(center.X[1], start.X[1])  # short: padded at the end
    assert list(center.metadata["start"]) == [offset / 500, 0.0]

    windows = _load(tmp_path, crop="windows", **kwargs)
    # Two full windows of the 25.3 s record (the partial third dropped), one padded
    # row of the 4 s one.
    assert windows.X.shape == (3, 12, 5000)
    assert list(windows.records) == ["A0001", "A0001", "A0002"]
    assert list(windows.metadata["record"]) == list(windows.records)
    assert list(windows.metadata["start"]) == [0.0, 10.0, 0.0]
    np.testing.assert_array_equal(windows.X[1, 0], _mv(np.arange(5000, 10_000)))
    np.testing.assert_array_equal(windows.X[2], start.X[1])
    np.testing.assert_array_equal(windows.y, start.y[[0, 0, 1]])
    assert [c[0] for c in windows.metadata["codes"]] == [AF, AF, NORMAL]


def test_duration_none_keeps_whole_records_of_one_length(tmp_path):
    write_record(tmp_path, "A0001", n_samples=6000)
    write_record(tmp_path, "A0002", n_samples=6000, seed=1)
    data = _load(tmp_path, fs=100, duration=None)
    assert data.X.shape == (2, 12, 1200)
    write_record(tmp_path, "A0003", n_samples=6500)
    with pytest.raises(ValueError, match="duration=None needs records of one length"):
        load_physionet(tmp_path, fs=100, duration=None)


def test_fs_none_keeps_the_common_rate(tmp_path):
    val = write_record(tmp_path, "A0001", fs=500)
    data = _load(tmp_path, fs=None, duration=10.0)
    assert data.fs == 500.0
    np.testing.assert_array_equal(data.X[0], (val / 1000).astype(np.float32))
    write_record(tmp_path, "S0001", fs=1000, n_samples=10_000)
    with pytest.raises(ValueError, match="fs=None needs records of one sampling rate"):
        load_physionet(tmp_path, fs=None)


# --- labels ---


def test_labels_of_each_year(tmp_path):
    write_record(tmp_path, "A0001", codes=(RBBB, UNSCORED))
    write_record(tmp_path, "A0002", codes=(NORMAL, "733534002"))  # CLBBB: scored in 2021 only
    write_record(tmp_path, "A0003", codes=(UNSCORED,))

    y2020 = _load(tmp_path, year=2020)
    table = scored_classes(2020)
    assert y2020.y.shape == (3, 24) and y2020.y.dtype == np.uint8
    assert list(y2020.classes) == list(table.classes)
    assert list(y2020.class_names) == list(table.names)
    assert list(y2020.classes[y2020.y[0] == 1]) == ["713427006"]  # RBBB counted as CRBBB
    assert list(y2020.classes[y2020.y[1] == 1]) == [NORMAL]  # CLBBB is not scored in 2020
    assert not y2020.y[2].any()  # only an unscored code: kept, no class
    assert y2020.metadata["codes"][2] == (UNSCORED,)

    y2021 = _load(tmp_path, year=2021)
    assert y2021.y.shape == (3, 26)
    assert set(y2021.classes[y2021.y[1] == 1]) == {NORMAL, "733534002"}

    for year in (None, "all"):
        every = _load(tmp_path, year=year)
        assert list(every.classes) == sorted({RBBB, UNSCORED, NORMAL, "733534002"})
        assert list(every.class_names) == [code_names()[c] for c in every.classes]
        np.testing.assert_array_equal(every.y.sum(axis=1), [2, 2, 1])


def test_codes_outside_the_tables(tmp_path):
    write_record(tmp_path, "A0001", codes=(NORMAL, "999999999"))
    with pytest.raises(ValueError, match=r"Unknown code '999999999' in file .*A0001.hea"):
        load_physionet(tmp_path, year=2020)
    data = _load(tmp_path, year=None)
    assert list(data.classes) == [NORMAL, "999999999"]
    assert list(data.class_names) == ["NSR", "999999999"]  # no abbreviation: the code


# --- bad input: raise and skip ---


def _truncated_mat(folder):
    path = folder / "BAD.mat"
    path.write_bytes(path.read_bytes()[:2000])


def _garbage_mat(folder):
    (folder / "BAD.mat").write_bytes(b"this is not a MATLAB file" * 10)


def _missing_mat(folder):
    (folder / "BAD.mat").unlink()


def _fewer_signal_rows(folder):
    scipy.io.savemat(folder / "BAD.mat", {"val": np.zeros((11, 5000), np.int16)}, format="4")


def _fewer_samples(folder):
    scipy.io.savemat(folder / "BAD.mat", {"val": np.zeros((12, 4000), np.int16)}, format="4")


def _nan_samples(folder):
    val = np.ones((12, 5000))
    val[4, 100] = np.nan
    scipy.io.savemat(folder / "BAD.mat", {"val": val}, format="4")


def _no_val_variable(folder):
    scipy.io.savemat(folder / "BAD.mat", {"signal": np.zeros((12, 5000), np.int16)}, format="4")


def _edit_header(old, new):
    def edit(folder):
        path = folder / "BAD.hea"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    return edit


BAD_CASES = {
    "truncated-mat": (_truncated_mat, r"Cannot read signal file .*BAD.mat"),
    "garbage-mat": (_garbage_mat, r"Cannot read signal file .*BAD.mat"),
    "missing-mat": (_missing_mat, r"Missing signal file .*BAD.mat"),
    "lead-count": (_fewer_signal_rows, r"BAD.mat holds an array of shape \(11, 5000\).*12 leads"),
    "sample-count": (_fewer_samples, r"BAD.mat holds an array of shape \(12, 4000\).*5000 samples"),
    "nan": (_nan_samples, r"BAD.mat has NaN or infinite samples in leads \['aVL'\]"),
    "no-val": (_no_val_variable, r"BAD.mat has no variable 'val'"),
    "empty-dx": (_edit_header(f"#Dx: {NORMAL}", "#Dx: "), r"BAD.hea has an empty Dx line"),
    "no-dx": (_edit_header(f"#Dx: {NORMAL}", "#Comment: none"), r"BAD.hea has no Dx line"),
    "unknown-code": (
        _edit_header(f"#Dx: {NORMAL}", "#Dx: XYZ"),
        r"Unknown code 'XYZ' in file .*BAD.hea",
    ),
    "unparsable-fs": (_edit_header("BAD 12 500", "BAD 12 abc"), r"Unparsable header .*BAD.hea"),
    "header-lead-count": (
        _edit_header("BAD 12 500", "BAD 13 500"),
        r"BAD.hea: the record line declares 13",
    ),
    # A reduced-lead record loads, but an unknown name may be a misspelt standard lead.
    "unknown-lead": (
        _edit_header(" V6\n", " V7\n"),
        r"BAD.hea has leads \['V7'\] that are not standard.* lacks the standard leads \['V6'\]",
    ),
    "duplicate-lead": (_edit_header(" V6\n", " V5\n"), r"BAD.hea has lead 'V5' twice"),
    "not-voltage": (_edit_header("1000/mV", "1000/mmHg"), r"BAD.hea has signals in 'mmHg'"),
}


@pytest.fixture(params=sorted(BAD_CASES))
def bad_folder(request, tmp_path):
    damage, message = BAD_CASES[request.param]
    write_record(tmp_path, "A0001", codes=(AF,))
    write_record(tmp_path, "BAD")
    write_record(tmp_path, "Z0001", codes=(NORMAL,))
    damage(tmp_path)
    return tmp_path, message


def test_bad_record_raises_naming_file_and_problem(bad_folder):
    folder, message = bad_folder
    with pytest.raises(ValueError, match=message):
        load_physionet(folder)


def test_bad_record_is_skipped_with_one_warning(bad_folder):
    folder, message = bad_folder
    with pytest.warns(UserWarning, match=r"Skipped 1 bad records \(BAD: ") as record:
        data = load_physionet(folder, on_error="skip")
    assert len(record) == 1
    assert list(data.records) == ["A0001", "Z0001"]
    assert len(data.skipped) == 1 and data.skipped[0][0] == "BAD"
    assert re.search(message, data.skipped[0][1])
    assert data.X.shape == (2, 12, 1000)
    assert list(data.classes[data.y.argmax(axis=1)]) == [AF, NORMAL]
    assert data.metadata["path"].shape == (2,)
    assert "skipped: 1" in data.DESCR


def test_many_skipped_records_are_all_listed_in_one_warning(tmp_path):
    write_record(tmp_path, "A0000")
    for i in range(6):
        write_record(tmp_path, f"A{i + 1:04d}", codes=("XYZ",))
    with pytest.warns(UserWarning, match=r"Skipped 6 bad records .*A0003: .* \.\.\.") as record:
        data = load_physionet(tmp_path, on_error="skip")
    assert len(record) == 1
    assert [name for name, _ in data.skipped] == [f"A{i + 1:04d}" for i in range(6)]
    assert all("Unknown code 'XYZ'" in reason for _, reason in data.skipped)


def test_skipped_records_are_listed_in_path_order(tmp_path):
    write_record(tmp_path, "A0001")
    write_record(tmp_path, "A0002")
    write_record(tmp_path, "A0003", codes=("XYZ",))  # found while reading headers
    write_record(tmp_path, "A0004")
    (tmp_path / "A0002.mat").unlink()  # found while reading signals, later
    message = r"Skipped 2 bad records \(A0002: Missing .*; A0003: Unknown"
    with pytest.warns(UserWarning, match=message):
        data = load_physionet(tmp_path, on_error="skip")
    assert [name for name, _ in data.skipped] == ["A0002", "A0003"]
    assert list(data.records) == ["A0001", "A0004"]


def test_no_record_left_is_an_error(tmp_path):
    write_record(tmp_path, "A0001", codes=("XYZ",))
    write_record(tmp_path, "A0002")
    (tmp_path / "A0002.mat").write_bytes(b"")
    message = r"None of the 2 records .* could be loaded: A0001: Unknown"
    with pytest.raises(ValueError, match=message):
        load_physionet(tmp_path, on_error="skip")


def test_empty_folder_and_wrong_path(tmp_path):
    with pytest.raises(ValueError, match="No challenge records"):
        load_physionet(tmp_path)
    (tmp_path / "A0001.mat").write_bytes(b"orphan signal file")
    with pytest.raises(ValueError, match="No challenge records"):
        load_physionet(tmp_path)
    with pytest.raises(ValueError, match="is not a folder"):
        load_physionet(tmp_path / "absent")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(fs=0), "fs must be a positive number"),
        (dict(fs="100"), "fs must be a positive number"),
        (dict(duration=-1.0), "duration must be a positive"),
        (dict(duration=float("nan")), "duration must be a positive"),
        (dict(fs=100, duration=0.001), "shorter than one sample"),
        (dict(crop="end"), "crop must be one of"),
        (dict(crop="windows", duration=None), "needs a window duration"),
        (dict(year=2019), "year must be"),
        (dict(on_error="ignore"), "on_error must be"),
        (dict(verbose="yes"), "verbose must be an integer"),
    ],
)
def test_invalid_parameters(tmp_path, kwargs, message):
    write_record(tmp_path, "A0001")
    with pytest.raises(ValueError, match=message):
        load_physionet(tmp_path, **kwargs)


# --- folders, order, parallelism, progress, cache ---


def test_folder_is_read_recursively_in_path_order(tmp_path):
    write_record(tmp_path / "b", "A0002", seed=2)
    write_record(tmp_path / "a" / "deep", "Q0001", seed=3)
    write_record(tmp_path, "HR00001", seed=1)
    write_record(tmp_path / "a", "I0001", seed=4)
    write_record(tmp_path / "a", "X0001", seed=5)
    data = _load(tmp_path)
    # Sorted by relative path, character by character: "HR..." < "a/..." < "b/...".
    assert list(data.records) == ["HR00001", "I0001", "X0001", "Q0001", "A0002"]
    assert list(data.metadata["database"]) == [
        "PTB-XL", "StPetersburg/INCART", "unknown", "CPSC-Extra", "CPSC2018"
    ]
    assert data.metadata["path"][3] == str(tmp_path / "a" / "deep" / "Q0001.hea")
    for key, value in data.metadata.items():
        assert len(value) == 5, key


@pytest.mark.filterwarnings("error")  # joblib's note on cancelled tasks must not leak
def test_parallel_equals_serial(tmp_path):
    for i in range(6):
        write_record(tmp_path, f"A{i:04d}", n_samples=5000 + 700 * i, seed=i)
    serial = _load(tmp_path, crop="windows", duration=4.0)
    parallel = _load(tmp_path, crop="windows", duration=4.0, n_jobs=2)
    np.testing.assert_array_equal(parallel.X, serial.X)
    np.testing.assert_array_equal(parallel.y, serial.y)
    np.testing.assert_array_equal(parallel.records, serial.records)

    (tmp_path / "A0003.mat").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="Cannot read signal file .*A0003.mat"):
        load_physionet(tmp_path, n_jobs=2)
    results = []
    for n_jobs in (None, 2):
        with pytest.warns(UserWarning, match="Skipped 1 bad records"):
            results.append(load_physionet(tmp_path, n_jobs=n_jobs, on_error="skip"))
    assert results[0].skipped == results[1].skipped == [("A0003", results[0].skipped[0][1])]
    assert list(results[1].records) == ["A0000", "A0001", "A0002", "A0004", "A0005"]
    np.testing.assert_array_equal(results[1].X, results[0].X)


def test_verbose_shows_progress(tmp_path, capsys):
    write_record(tmp_path, "A0001")
    _load(tmp_path, verbose=1)
    assert "records" in capsys.readouterr().err
    _load(tmp_path)
    assert capsys.readouterr().err == ""


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the records were read again instead of coming from the cache")


def test_cache_hit_miss_and_invalidation(tmp_path, monkeypatch):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    write_record(folder, "A0001", codes=(RBBB, UNSCORED), age="NaN", sex=None)
    write_record(folder, "A0002", codes=(NORMAL,), seed=1)

    fresh = _load(folder)
    first = _load(folder, cache_dir=cache)
    assert isinstance(first.X, np.memmap) and not first.X.flags.writeable

    with monkeypatch.context() as patch:
        patch.setattr(_loader, "_load", _fail_if_called)
        hit = _load(folder, cache_dir=cache)
    assert isinstance(hit.X, np.memmap) and not hit.X.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        hit.X[0, 0, 0] = 1.0
    for data in (first, hit):
        np.testing.assert_array_equal(data.X, fresh.X)
        np.testing.assert_array_equal(data.y, fresh.y)
        for name in ("classes", "class_names", "records", "leads"):
            np.testing.assert_array_equal(data[name], fresh[name])
        assert data.fs == fresh.fs and data.DESCR == fresh.DESCR and data.skipped == []
        assert set(data.metadata) == set(fresh.metadata)
        for key, value in fresh.metadata.items():
            np.testing.assert_array_equal(data.metadata[key], value)
            assert data.metadata[key].dtype.kind == value.dtype.kind, key
    assert hit.metadata["codes"][0] == (RBBB, UNSCORED)
    assert np.isnan(hit.metadata["age"][0]) and hit.metadata["sex"][0] == ""

    with monkeypatch.context() as patch:  # other parameters: a miss
        patch.setattr(_loader, "_load", _fail_if_called)
        with pytest.raises(AssertionError, match="read again"):
            load_physionet(folder, cache_dir=cache, fs=250)

    # A changed file invalidates the entry.
    new_val = write_record(folder, "A0002", codes=(AF,), seed=7)
    os.utime(folder / "A0002.hea", ns=(0, 10**18))
    changed = _load(folder, cache_dir=cache)
    expected = resample_poly(new_val / 1000.0, 1, 5, axis=-1, padtype="edge")
    np.testing.assert_array_equal(changed.X[1], expected.astype(np.float32))
    assert list(changed.classes[changed.y[1] == 1]) == [AF]


def test_cached_load_drops_failed_records_and_leaves_no_temporary_file(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    for i in range(4):
        write_record(folder, f"A{i:04d}", n_samples=5000 + 2500 * i, seed=i)
    (folder / "A0001.mat").write_bytes(b"damaged")  # found while the rows are written
    with pytest.warns(UserWarning, match="Skipped 1"):
        plain = load_physionet(folder, crop="windows", duration=5.0, on_error="skip")
    with pytest.warns(UserWarning, match="Skipped 1"):
        cached = load_physionet(
            folder, crop="windows", duration=5.0, on_error="skip", cache_dir=cache
        )
    assert list(cached.records) == ["A0000", "A0000", "A0002", "A0002", "A0002", "A0002",
                                    "A0003", "A0003", "A0003", "A0003", "A0003"]
    np.testing.assert_array_equal(cached.X, plain.X)
    assert sorted(p.suffix for p in cache.iterdir()) == [".npy", ".npz"]

    with pytest.raises(ValueError, match="A0001.mat"):
        load_physionet(folder, cache_dir=tmp_path / "cache2")
    assert list((tmp_path / "cache2").iterdir()) == []


def test_cache_hit_repeats_the_warnings(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    write_record(folder, "A0001")
    write_record(folder, "A0002", codes=("XYZ",))
    val = np.zeros((12, 5000), np.int16)
    write_record(folder, "A0003", val)
    for _ in range(2):
        with pytest.warns(UserWarning) as record:
            data = load_physionet(folder, on_error="skip", cache_dir=cache)
        messages = sorted(str(w.message) for w in record)
        assert len(messages) == 2
        assert messages[0].startswith("1 of 2 records have at least one all-zero lead")
        assert messages[1].startswith("Skipped 1 bad records (A0002: Unknown code 'XYZ'")
        assert data.skipped == [("A0002", data.skipped[0][1])]
        assert list(data.metadata["n_zero_leads"]) == [0, 12]


# --- the real development records ---


@pytest.fixture(scope="module")
def dev_index(dev_data_dir):
    with open(dev_data_dir / "index.csv", newline="") as f:
        return {row["record"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def dev_data(dev_data_dir):
    with pytest.warns(UserWarning, match="all-zero lead"):
        return load_physionet(dev_data_dir, fs=100, duration=10.0)


_DEV_DATABASES = {
    "CPSC2018": "CPSC2018",
    "CPSC-Extra": "CPSC-Extra",
    "Georgia(G12EC)": "Georgia",
    "PTB-XL": "PTB-XL",
    "PTB": "PTB",
    "Chapman-Shaoxing/Ningbo": "Chapman-Shaoxing/Ningbo",
}


def test_dev_records_shapes_and_metadata(dev_data, dev_index):
    assert dev_data.X.shape == (247, 12, 1000) and dev_data.X.dtype == np.float32
    assert dev_data.y.shape == (247, 24)
    assert dev_data.skipped == []
    assert list(dev_data.records) == sorted(dev_index)
    assert np.isfinite(dev_data.X).all()
    for i, name in enumerate(dev_data.records):
        row = dev_index[name]
        assert dev_data.metadata["fs_original"][i] == float(row["fs"])
        assert dev_data.metadata["n_samples_original"][i] == int(row["n_samples"])
        assert dev_data.metadata["database"][i] == _DEV_DATABASES[row["database"]]
        assert dev_data.metadata["codes"][i] == tuple(row["dx"].split(","))
    durations = dev_data.metadata["duration_original"]
    assert durations.min() == 10.0 and 115 < durations.max() < 116  # PTB: 115.2 s
    assert (durations % 1 != 0).any()  # some records are not whole seconds


def test_dev_labels_match_the_index(dev_data, dev_index):
    table = scored_classes(2020)
    expected = np.zeros_like(dev_data.y)
    for i, name in enumerate(dev_data.records):
        for code in dev_index[name]["dx"].split(","):
            if code in table.equivalent:
                expected[i, table.classes.index(table.equivalent[code])] = 1
    np.testing.assert_array_equal(dev_data.y, expected)
    assert (expected.sum(axis=1) == 0).sum() == 53  # no scored class: kept with an empty row


def test_dev_zero_leads_match_the_signal_files(dev_data, dev_data_dir):
    expected = [
        int((scipy.io.loadmat(dev_data_dir / f"{name}.mat")["val"] == 0).all(axis=1).sum())
        for name in dev_data.records
    ]
    np.testing.assert_array_equal(dev_data.metadata["n_zero_leads"], expected)
    assert sum(n > 0 for n in expected) > 0


_GAIN = re.compile(r"^\S+ 16\S*\+24 ([0-9.]+)", re.MULTILINE)  # signal lines only


@pytest.mark.parametrize("name", ["A0001", "E00015", "E07500", "HR00001", "JS20000", "S0001"])
def test_dev_values_are_counts_over_gain(dev_data_dir, name):
    # Gains read with a regex, independently of the package's parser.
    text = (dev_data_dir / f"{name}.hea").read_text()
    gains = np.array([float(g) for g in _GAIN.findall(text)])
    val = scipy.io.loadmat(dev_data_dir / f"{name}.mat")["val"]
    signal, header = read_record(dev_data_dir / f"{name}.hea")
    assert header.lead_names == LEAD_NAMES  # every dev file lists the leads in order
    np.testing.assert_array_equal(signal, (val / gains[:, None]).astype(np.float32))


def test_dev_values_through_the_loader_at_the_native_rate(dev_data_dir, tmp_path):
    names = ["E00015", "E07500", "HR00001", "A0001"]  # 4880/mV, 1000.0(0)/mV, 1000/mv, 15 s
    for name in names:  # links, not copies: the records stay outside the repository
        for suffix in (".hea", ".mat"):
            (tmp_path / f"{name}{suffix}").symlink_to(dev_data_dir / f"{name}{suffix}")
    data = _load(tmp_path, fs=500, duration=10.0)
    assert list(data.records) == sorted(names)
    for i, name in enumerate(data.records):
        text = (dev_data_dir / f"{name}.hea").read_text()
        gains = np.array([float(g) for g in _GAIN.findall(text)])
        val = scipy.io.loadmat(dev_data_dir / f"{name}.mat")["val"][:, :5000]
        np.testing.assert_array_equal(data.X[i], (val / gains[:, None]).astype(np.float32))
