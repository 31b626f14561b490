"""Tests of make_synthetic_ecg: layout, determinism, and every condition's
signature measured back from the signal with simple ECG measurements."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, find_peaks, sosfiltfilt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg.classes import code_names, scored_classes
from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.leads import LEAD_NAMES

INDEPENDENT = [0, 1, 6, 7, 8, 9, 10, 11]  # I, II, V1-V6
I, II, III, AVR, AVL, AVF, V1, V6 = 0, 1, 2, 3, 4, 5, 6, 11  # noqa: E741 (lead names)
FS_CLEAN = 250


@pytest.fixture(scope="module")
def noisy():
    """The default data set: 100 Hz, 10 s, default noise."""
    return make_synthetic_ecg(300, random_state=0)


@pytest.fixture(scope="module")
def clean():
    """Noise-free records at 250 Hz, for morphology measurements."""
    return make_synthetic_ecg(400, fs=FS_CLEAN, noise=0, random_state=1)


def has(data, name):
    return data.y[:, list(data.class_names).index(name)].astype(bool)


# -- simple ECG measurements -------------------------------------------------


def r_peaks(x, fs):
    """QRS positions: band-passed (5-15 Hz) slope energy over all leads, as in
    Pan-Tompkins, keeping peaks of at least half a typical large beat's."""
    sos = butter(2, [5, 15], btype="band", fs=fs, output="sos")
    energy = np.abs(np.diff(sosfiltfilt(sos, x, axis=-1), axis=-1)).sum(0)
    energy = uniform_filter1d(energy, int(0.1 * fs))
    peaks, props = find_peaks(energy, distance=int(0.25 * fs), height=0)
    heights = props["peak_heights"]
    return peaks[heights > 0.5 * np.median(np.sort(heights)[-5:])]


def rr_intervals(x, fs):
    return np.diff(r_peaks(x, fs)) / fs


def qrs_extents(x, fs):
    """(onset, offset) of each inner QRS, where the spatial velocity of the
    independent leads exceeds 8 % of its peak."""
    velocity = uniform_filter1d(np.abs(np.diff(x[INDEPENDENT], axis=1)).sum(0), max(1, int(0.02 * fs)))
    extents = []
    for q in r_peaks(x, fs)[1:-1]:
        start = max(0, q - int(0.1 * fs))
        peak = start + np.argmax(velocity[start : q + int(0.1 * fs)])
        lo = hi = peak
        while lo > 0 and velocity[lo] > 0.08 * velocity[peak]:
            lo -= 1
        while hi < len(velocity) - 1 and velocity[hi] > 0.08 * velocity[peak]:
            hi += 1
        extents.append((lo, hi))
    return extents


def qrs_area(x, extents, lead, start=0.0, stop=1.0):
    """Median over beats of the area of a fraction [start, stop] of the QRS."""
    areas = [x[lead, lo + int(start * (hi - lo)) : lo + int(stop * (hi - lo)) + 1].sum() for lo, hi in extents]
    return np.median(areas)


def spatial_magnitude(x):
    return np.sqrt((x[INDEPENDENT] ** 2).sum(0))


# -- layout and labels ---------------------------------------------------------


def test_layout_is_the_loader_contract(noisy):
    n, n_classes = 300, 12
    assert noisy.X.shape == (n, 12, 1000) and noisy.X.dtype == np.float32
    assert noisy.y.shape == (n, n_classes) and noisy.y.dtype == np.uint8
    table = scored_classes(2020)
    assert set(noisy.classes) <= set(table.classes) and len(set(noisy.classes)) == n_classes
    assert list(noisy.classes) == sorted(noisy.classes, key=table.classes.index)
    assert list(noisy.class_names) == [code_names()[c] for c in noisy.classes]
    assert noisy.records[0] == "SYN00001" and len(set(noisy.records)) == n
    assert np.array_equal(noisy.metadata["record"], noisy.records)
    assert list(noisy.leads) == list(LEAD_NAMES) and noisy.fs == 100
    assert noisy.skipped == [] and "synthetic" in noisy.DESCR.lower()
    assert noisy.leads_present.shape == (n, 12) and noisy.leads_present.all()
    assert np.array_equal(noisy.groups, noisy.records) and noisy.folds is None
    expected = {"record", "source", "layout", "start", "database", "fs_original", "n_samples_original"}
    expected |= {"duration_original", "age"}
    expected |= {"sex", "codes", "n_zero_leads", "path", "heart_rate", "pr_ms", "qrs_ms", "qt_ms", "axis_deg"}
    assert set(noisy.metadata) == expected
    assert all(len(value) == n for value in noisy.metadata.values())
    assert set(noisy.metadata["sex"]) == {"Male", "Female"}
    assert np.all(noisy.metadata["n_samples_original"] == 1000)
    for row, codes in zip(noisy.y, noisy.metadata["codes"]):
        assert set(codes) == set(noisy.classes[row.astype(bool)])
        assert all(type(code) is str for code in codes)


def test_one_rhythm_and_physiological_exclusions(noisy):
    rhythms = np.column_stack([has(noisy, name) for name in ("NSR", "SB", "STach", "AF")])
    assert np.all(rhythms.sum(axis=1) == 1)
    assert not np.any(has(noisy, "AF") & has(noisy, "IAVB"))
    assert not np.any(has(noisy, "CRBBB") & has(noisy, "LBBB"))
    assert not np.any(has(noisy, "LAD") & has(noisy, "RAD"))


def test_every_class_present_in_decent_numbers():
    data = make_synthetic_ecg(500, fs=50, duration=2.0, random_state=3)
    frequency = data.y.mean(axis=0)
    assert np.all(frequency >= 0.04) and np.all(frequency <= 0.35), dict(zip(data.class_names, frequency))
    # the combinations the brief asks for occur
    for first, second in [("AF", "CRBBB"), ("SB", "IAVB"), ("LAD", "LBBB"), ("PVC", "NSR"), ("PVC", "AF")]:
        assert np.any(has(data, first) & has(data, second)), (first, second)


def test_ground_truth_agrees_with_labels(noisy):
    md = noisy.metadata
    rate = md["heart_rate"]
    assert np.all(rate[has(noisy, "SB")] < 60)
    assert np.all(rate[has(noisy, "STach")] > 100)
    assert np.all((rate[has(noisy, "NSR")] >= 60) & (rate[has(noisy, "NSR")] <= 100))
    assert np.array_equal(np.isnan(md["pr_ms"]), has(noisy, "AF"))
    sinus = ~has(noisy, "AF")
    assert np.array_equal(md["pr_ms"][sinus] > 200, has(noisy, "IAVB")[sinus])
    assert np.array_equal(md["qrs_ms"] > 120, has(noisy, "CRBBB") | has(noisy, "LBBB"))
    assert np.array_equal(md["axis_deg"] < -30, has(noisy, "LAD"))
    assert np.array_equal(md["axis_deg"] > 90, has(noisy, "RAD"))
    narrow = md["qrs_ms"] <= 100  # a wider QRS lengthens the QT by its excess
    qtc = md["qt_ms"] / np.sqrt(60 / rate)
    assert np.all(qtc[has(noisy, "LQT") & narrow] > 470) and np.all(qtc[~has(noisy, "LQT") & narrow] < 450)
    excess = np.maximum(md["qrs_ms"] - 100, 0)
    jtc = (md["qt_ms"] - excess) / np.sqrt(60 / rate)
    assert np.all(jtc[has(noisy, "LQT")] > 470) and np.all(jtc[~has(noisy, "LQT")] < 450)


# -- determinism, validity, noise ------------------------------------------------


def test_same_seed_same_data_other_seed_differs():
    a = make_synthetic_ecg(6, duration=3.0, random_state=7)
    b = make_synthetic_ecg(6, duration=3.0, random_state=7)
    c = make_synthetic_ecg(6, duration=3.0, random_state=8)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert all(np.array_equal(a.metadata[k], b.metadata[k], equal_nan=k == "pr_ms") for k in a.metadata if k != "codes")
    assert not np.allclose(a.X, c.X)


def test_random_state_instance_is_used_not_global_state():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    state = np.random.RandomState(5)
    first = make_synthetic_ecg(3, duration=2.0, random_state=state)
    second = make_synthetic_ecg(3, duration=2.0, random_state=state)
    assert np.random.random() == before  # global stream untouched
    assert not np.allclose(first.X, second.X)  # the instance advanced
    assert np.array_equal(first.X, make_synthetic_ecg(3, duration=2.0, random_state=np.random.RandomState(5)).X)


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_limb_leads_obey_einthoven_and_goldberger(noise):
    X = make_synthetic_ecg(20, fs=250, noise=noise, random_state=2).X.astype(np.float64)
    lead_i, lead_ii = X[:, I], X[:, II]
    np.testing.assert_allclose(X[:, III], lead_ii - lead_i, atol=1e-6)
    np.testing.assert_allclose(X[:, AVR], -(lead_i + lead_ii) / 2, atol=1e-6)
    np.testing.assert_allclose(X[:, AVL], lead_i - lead_ii / 2, atol=1e-6)
    np.testing.assert_allclose(X[:, AVF], lead_ii - lead_i / 2, atol=1e-6)


def test_amplitudes_are_physiological(clean, noisy):
    assert np.isfinite(noisy.X).all() and np.isfinite(clean.X).all()
    assert np.abs(noisy.X).max() < 8
    peak_to_peak = np.ptp(clean.X, axis=2).max(axis=1)  # largest QRS of each record
    assert peak_to_peak.min() > 0.5 and peak_to_peak.max() < 8
    assert 1.5 < np.median(peak_to_peak) < 4
    # each record's flattest moment (diastole) is at the baseline, to a few uV
    assert np.abs(np.median(clean.X, axis=2)).max() < 0.15


def test_noise_is_additive_and_scales_with_noise():
    kwargs = dict(n_records=8, fs=250, duration=4.0, random_state=4)
    clean, once, twice = (make_synthetic_ecg(**kwargs, noise=s).X.astype(np.float64) for s in (0, 1, 2))
    np.testing.assert_allclose(twice - clean, 2 * (once - clean), atol=1e-4)
    level = (once - clean)[:, INDEPENDENT].std(axis=2)
    assert 0.002 < np.median(level) < 0.2


def test_powerline_only_below_nyquist():
    kwargs = dict(n_records=4, duration=4.0, random_state=5)
    mains_above_nyquist = make_synthetic_ecg(**kwargs, fs=100, powerline=50).X
    np.testing.assert_array_equal(mains_above_nyquist, make_synthetic_ecg(**kwargs, fs=100).X)
    hum = make_synthetic_ecg(**kwargs, fs=500, powerline=60).X - make_synthetic_ecg(**kwargs, fs=500).X
    spectrum = np.abs(np.fft.rfft(hum, axis=-1)).mean(axis=(0, 1))
    assert np.argmax(spectrum) * 500 / hum.shape[-1] == pytest.approx(60, abs=0.5)


@settings(max_examples=12, deadline=None)
@given(
    n_records=st.integers(1, 4),
    fs=st.sampled_from([50, 100, 128.0, 250, 500]),
    duration=st.floats(0.5, 12.0),
)
def test_shapes_for_any_size(n_records, fs, duration):
    data = make_synthetic_ecg(n_records, fs=fs, duration=duration, random_state=0)
    n_times = int(round(duration * fs))
    assert data.X.shape == (n_records, 12, n_times) and data.X.dtype == np.float32
    assert np.isfinite(data.X).all() and data.y.shape == (n_records, 12)
    assert np.all(data.metadata["n_samples_original"] == n_times)
    assert np.all(np.isfinite(data.metadata["heart_rate"]))


def test_class_prior_overrides_by_name_and_code():
    data = make_synthetic_ecg(
        60, duration=2.0, class_prior={"NSR": 1, "SB": 0, "STach": 0, "164889003": 0, "PVC": 1.0}, random_state=0
    )
    assert has(data, "NSR").all() and has(data, "PVC").all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_records": 0}, "n_records"),
        ({"n_records": 2.5}, "n_records"),
        ({"fs": -1}, "fs"),
        ({"duration": 0}, "duration"),
        ({"duration": 0.001, "fs": 100}, "at least one sample"),
        ({"noise": -0.1}, "noise"),
        ({"powerline": 55}, "powerline"),
        ({"class_prior": {"XYZ": 0.1}}, "Unknown class"),
        ({"class_prior": {"AF": 1.5}}, r"\[0, 1\]"),
        ({"class_prior": {"LAD": 0.6, "RAD": 0.6}}, "exclude each other"),
        ({"class_prior": {"NSR": 0, "SB": 0, "STach": 0, "AF": 0}}, "rhythm"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_ecg(**{"n_records": 2, **kwargs})


def test_verbose_shows_progress(capsys):
    make_synthetic_ecg(2, duration=1.0, verbose=1, random_state=0)
    assert "batch" in capsys.readouterr().err


# -- each condition's signature in the signal ------------------------------------


def test_heart_rate_measured_from_r_peaks(noisy):
    regular = ~has(noisy, "PVC") & ~has(noisy, "AF")
    rate = np.array([60 / rr_intervals(x, noisy.fs).mean() for x in noisy.X[regular]])
    truth = noisy.metadata["heart_rate"][regular]
    assert np.mean(np.abs(rate - truth) < 3) > 0.95
    for name, low, high in [("SB", 0, 60), ("NSR", 60, 100), ("STach", 100, 250)]:
        inside = (rate[has(noisy, name)[regular]] > low - 1) & (rate[has(noisy, name)[regular]] < high + 1)
        assert inside.mean() > 0.95, name


def test_atrial_fibrillation_is_irregular(noisy):
    cv = np.array([np.std(rr) / np.mean(rr) for rr in (rr_intervals(x, noisy.fs) for x in noisy.X)])
    af, sinus = has(noisy, "AF") & ~has(noisy, "PVC"), ~has(noisy, "AF") & ~has(noisy, "PVC")
    assert np.median(cv[af]) > 4 * np.median(cv[sinus])
    assert np.median(cv[af]) > 0.1 and np.percentile(cv[sinus], 90) < 0.06


@pytest.fixture(scope="module")
def clean_extents(clean):
    return [qrs_extents(x, FS_CLEAN) for x in clean.X]


def test_bundle_branch_block_widens_the_qrs(clean, clean_extents):
    keep = ~has(clean, "PVC") & ~has(clean, "AF")  # f-waves blur QRS edges
    width = np.array([np.median([hi - lo for lo, hi in e]) * 1000 / FS_CLEAN for e in clean_extents])[keep]
    block = (has(clean, "CRBBB") | has(clean, "LBBB"))[keep]
    assert np.median(width[block]) > 130 and np.median(width[~block]) < 110
    assert np.corrcoef(width, clean.metadata["qrs_ms"][keep])[0, 1] > 0.9


def test_bundle_branch_block_morphology(clean, clean_extents):
    keep = ~has(clean, "PVC")
    rbbb, lbbb = has(clean, "CRBBB") & keep, has(clean, "LBBB") & keep
    normal = ~has(clean, "CRBBB") & ~has(clean, "LBBB") & keep
    x_e = list(zip(clean.X, clean_extents))
    late_v1 = np.array([qrs_area(x, e, V1, 0.67, 1.0) for x, e in x_e])
    net_v1 = np.array([qrs_area(x, e, V1) for x, e in x_e])
    early_v6 = np.array([qrs_area(x, e, V6, 0.0, 0.25) for x, e in x_e])
    assert np.mean(late_v1[rbbb] > 0) > 0.95 and np.mean(late_v1[normal] > 0) < 0.05  # rsR' in V1
    assert np.mean(net_v1[lbbb] < 0) > 0.95  # QS or rS in V1
    assert np.mean(early_v6[lbbb] > 0) > 0.85 and np.mean(early_v6[normal] > 0) < 0.3  # no septal q


def test_frontal_axis_from_qrs_areas(clean, clean_extents):
    keep = ~has(clean, "PVC")
    axis = np.array(
        [
            np.degrees(np.arctan2(2 / np.sqrt(3) * qrs_area(x, e, AVF), qrs_area(x, e, I)))
            for x, e in zip(clean.X[keep], np.array(clean_extents, dtype=object)[keep])
        ]
    )
    error = (axis - clean.metadata["axis_deg"][keep] + 180) % 360 - 180
    assert np.mean(np.abs(error) < 5) > 0.95
    assert np.all(axis[has(clean, "LAD")[keep]] < -30) and np.all(axis[has(clean, "RAD")[keep]] > 90)


def test_premature_beats_are_early_with_a_pause(clean):
    sinus = ~has(clean, "AF")
    odd = []
    for x in clean.X[sinus]:
        onsets = np.array([lo for lo, _ in qrs_extents(x, FS_CLEAN)])
        rr = np.diff(onsets)
        odd.append(np.any((rr < 0.85 * np.median(rr)) | (rr > 1.25 * np.median(rr))))
    odd = np.array(odd)
    pvc = has(clean, "PVC")[sinus]
    assert odd[pvc].mean() > 0.9 and odd[~pvc].mean() < 0.05


def p_peak_to_qrs(x, extents, fs):
    """Median time (ms) from the largest atrial deflection in the 360 ms
    before each QRS onset to that onset."""
    magnitude = spatial_magnitude(x)
    early, late = int(0.36 * fs), int(0.02 * fs)
    gaps = [early - np.argmax(magnitude[lo - early : lo - late]) for lo, _ in extents if lo >= early]
    return np.median(gaps) * 1000 / fs


def test_first_degree_block_lengthens_pr(clean, clean_extents):
    slow = has(clean, "SB") & ~has(clean, "PVC")  # at slow rates the P wave stands alone
    pr = np.array(
        [p_peak_to_qrs(x, e, FS_CLEAN) for x, e in zip(clean.X[slow], np.array(clean_extents, dtype=object)[slow])]
    )
    block = has(clean, "IAVB")[slow]
    assert block.sum() >= 5 and (~block).sum() >= 5
    assert np.corrcoef(pr, clean.metadata["pr_ms"][slow])[0, 1] > 0.9
    assert np.median(pr[block]) > np.median(pr[~block]) + 60


def t_waves(x, extents, fs):
    """Per beat: time from QRS onset to the T peak / sqrt(RR), and the sign of every lead there."""
    magnitude = spatial_magnitude(x)
    corrected, signs = [], []
    for (lo, hi), (next_lo, _) in zip(extents[:-1], extents[1:]):
        a, b = hi + int(0.04 * fs), next_lo - int(0.04 * fs)
        if b <= a:  # the next QRS follows too closely to see this T wave
            continue
        peak = a + np.argmax(magnitude[a:b])
        corrected.append((peak - lo) / fs / np.sqrt((next_lo - lo) / fs))
        signs.append(np.sign(x[:, peak]))
    return np.median(corrected), np.median(signs, axis=0)


def test_long_qt_and_t_inversion(clean, clean_extents):
    keep = ~has(clean, "PVC") & ~has(clean, "CRBBB") & ~has(clean, "LBBB")
    waves = [t_waves(x, e, FS_CLEAN) for x, e in zip(clean.X[keep], np.array(clean_extents, dtype=object)[keep])]
    corrected_t_peak = np.array([w[0] for w in waves])
    assert roc_auc_score(has(clean, "LQT")[keep], corrected_t_peak) > 0.95
    # aVR and V1 have negative T waves in health; count inverted T in the other ten leads
    inverted = np.array([(w[1][[0, 1, 2, 4, 5, 7, 8, 9, 10, 11]] < 0).sum() for w in waves])
    tinv = has(clean, "TInv")[keep]
    assert np.mean(inverted[tinv] >= 3) > 0.85 and np.mean(inverted[~tinv] >= 3) < 0.05


def test_learnable_but_not_trivial(noisy):
    """Per-class logistic regression on per-lead summary statistics: well above
    chance, well below perfect (timing classes such as IAVB and LQT need more)."""
    X = noisy.X
    features = np.concatenate([X.std(axis=2), *np.percentile(X, [5, 25, 50, 75, 95], axis=2)], axis=1)
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=0.1, max_iter=1000)))
    cv = KFold(3, shuffle=True, random_state=0)
    proba = cross_val_predict(model, features, noisy.y, cv=cv, method="predict_proba")
    auroc = np.mean([roc_auc_score(noisy.y[:, j], proba[:, j]) for j in range(noisy.y.shape[1])])
    assert 0.7 < auroc < 0.99
