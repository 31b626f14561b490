"""A synthetic 12-lead ECG data set labelled with scored classes of the 2020 challenge."""

import numbers

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .._random import draw_seed
from ..classes import code_names, scored_classes
from ..leads import LEAD_NAMES
from . import _dipole

_CODES = {
    "NSR": "426783006",
    "SB": "426177001",
    "STach": "427084000",
    "AF": "164889003",
    "IAVB": "270492004",
    "CRBBB": "713427006",
    "LBBB": "164909002",
    "PVC": "427172004",
    "LAD": "39732003",
    "RAD": "47665007",
    "LQT": "111975006",
    "TInv": "59931005",
}
_RHYTHMS = ("NSR", "SB", "STach", "AF")
_DEFAULT_PRIOR = {
    "NSR": 0.32,
    "SB": 0.20,
    "STach": 0.20,
    "AF": 0.28,
    "IAVB": 0.20,
    "CRBBB": 0.14,
    "LBBB": 0.08,
    "PVC": 0.14,
    "LAD": 0.14,
    "RAD": 0.08,
    "LQT": 0.12,
    "TInv": 0.14,
}
_EXCLUSIVE = (("CRBBB", "LBBB"), ("LAD", "RAD"))

# Ranges drawn uniformly per record: (finding -> range) and the range of
# records without any of those findings. Times in seconds, angles in degrees.
_HEART_RATE = {"NSR": (63, 97), "SB": (40, 56), "STach": (105, 150), "AF": (65, 140)}
_PR = ({"IAVB": (0.215, 0.33)}, (0.125, 0.195))
_QRS = ({"CRBBB": (0.125, 0.16), "LBBB": (0.13, 0.17)}, (0.075, 0.105))
_QTC = ({"LQT": (0.48, 0.56)}, (0.37, 0.43))
_AXIS = ({"LAD": (-85, -40), "RAD": (100, 160)}, (-20, 80))

_NORMAL_QRS = 0.1  # s; wider complexes lengthen the QT by their excess
_MIN_RR = 0.28  # s; shorter intervals would leave no time for repolarisation
_PAD = 1.0  # s of beats simulated on each side, so the record starts mid-rhythm
_TINV_DIRECTIONS = np.array(
    [
        [0.15, 0.45, 0.90],  # anterior: T inverted in V1-V4
        [0.60, -0.80, -0.30],  # inferior: T inverted in II, III, aVF
        [-0.60, 0.60, -0.20],  # lateral: T inverted in I, aVL, V4-V6
    ]
)
# Median gains of limb and chest leads, set so that the median peak-to-peak
# amplitude of every lead is within a third of the 2020 challenge records'.
_LIMB_GAIN, _CHEST_GAIN = 0.8, 1.3
_FIBRILLATION_DIRECTION = np.array([-0.35, 0.55, -0.75])  # f-waves show best in V1 and II
_LINE_FREQUENCIES = (50, 60)


def make_synthetic_ecg(
    n_records=500,
    *,
    fs=100,
    duration=10.0,
    noise=1.0,
    powerline=None,
    class_prior=None,
    verbose=0,
    random_state=None,
):
    """Generate 12-lead ECGs with known arrhythmias from a cardiac dipole model.

    Each record is simulated from physiology, not drawn from a template bank:
    a beat schedule (rhythm, heart-rate variability, premature beats), a
    vectorcardiogram built from Gaussian bumps for the P wave, QRS complex and
    T wave of every beat, the projection of that 3-D dipole onto the 12 lead
    vectors, and recording noise. Limb and chest leads therefore agree with
    each other as they do in a real recording, and every condition changes
    the signal through the mechanism it has in life.

    Parameters
    ----------
    n_records : int, default=500
        Number of records.
    fs : float, default=100
        Sampling rate of the output, in Hz.
    duration : float, default=10.0
        Length of each record, in seconds; ``round(duration * fs)`` samples.
    noise : float, default=1.0
        Scale of every noise source, 1 being a typical clinical recording:
        baseline wander (a sinusoid of 0.05-0.45 Hz and up to 0.15 mV per
        lead, plus breathing at 0.15-0.35 Hz, up to 0.1 mV), white
        noise (3-20 uV) and bursts of muscle noise (up to 50 uV). Each
        record draws its own levels. Noise enters the independent leads I,
        II and V1-V6, as at the electrodes. ``0`` gives the clean signal.
    powerline : {None, 50, 60}, default=None
        Mains frequency of an optional powerline interference (up to 40 uV).
        It is left out when it lies at or above the Nyquist frequency, as the
        recorder's anti-aliasing filter would remove it.
    class_prior : dict, default=None
        Overrides of the default frequency of each finding, keyed by
        abbreviation or SNOMED-CT code. The four rhythms ``NSR``, ``SB``,
        ``STach``, ``AF`` (defaults 0.32, 0.20, 0.20, 0.28) are relative
        weights: every record has exactly one. The others are probabilities:
        ``IAVB`` (0.20) among sinus-rhythm records, ``CRBBB`` (0.14) and
        ``LBBB`` (0.08) exclusive, ``LAD`` (0.14) and ``RAD`` (0.08)
        exclusive, ``PVC`` (0.14), ``LQT`` (0.12), ``TInv`` (0.14).
    verbose : int, default=0
        Show a progress bar over batches of records when positive.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw; the same seed gives the same data set.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The layout of :func:`~sklearn_ecg.datasets.load_physionet`:

        X : ndarray of shape (n_records, 12, n_times), float32
            Signals in mV, leads in :data:`~sklearn_ecg.leads.LEAD_NAMES` order.
        y : ndarray of shape (n_records, 12), uint8
            Multi-hot labels over ``classes``.
        classes : ndarray of str
            SNOMED-CT codes of the 12 classes, all scored in 2020, in the
            order of the official weight matrix.
        class_names : ndarray of str
            Their abbreviations.
        records : ndarray of str
            Names ``"SYN00001"``, ...
        leads : ndarray of str
            Lead names.
        leads_present : ndarray of shape (n_records, 12), bool
            All True: every record has the 12 leads.
        groups : ndarray of str
            The records (one record per simulated patient).
        folds : None
            No predefined folds.
        fs : float
            Sampling rate.
        metadata : dict of ndarray
            One value per record: ``record``, ``source`` ("", no folder),
            ``layout`` and ``database`` ("synthetic"), ``start`` (0.0),
            ``fs_original``, ``n_samples_original``,
            ``duration_original``, ``age``, ``sex`` ("Male"/"Female"),
            ``codes`` (tuples of codes), ``n_zero_leads`` (0), ``path``
            ("", no file), and the ground truth of the simulation:
            ``heart_rate`` (mean ventricular rate over the record, bpm),
            ``pr_ms`` (NaN in AF), ``qrs_ms`` (supraventricular beats),
            ``qt_ms`` (at the mean rate), ``axis_deg`` (frontal angle of
            the net QRS area vector).
        skipped : list
            Always empty.
        DESCR : str
            Description of the data set.

    Notes
    -----
    The model. The heart is one current dipole in Frank's coordinates. As in
    ECGSYN (McSharry et al., IEEE TBME 2003) and its 3-D form (Sameni et
    al., EURASIP JASP 2007), each wave is a sum of Gaussian bumps with their
    own dipole vectors: two for the P wave (right then left atrium), three for
    the QRS (septum, free wall, base) and two for an asymmetric T wave. Unlike
    ECGSYN the bumps sit on an explicit beat schedule, so PR, QRS and QT are
    exact parameters. Leads I and II are the frontal projections at 0 and 60
    degrees, III, aVR, aVL and aVF are derived from them (Einthoven's and
    Goldberger's equations hold exactly, noise included, since noise enters
    the independent leads I, II, V1-V6 as at real electrodes), and V1-V6 use
    Dower's matrix. Each record draws its own heart position (frontal axis,
    rotation in the horizontal plane), wave amplitudes and electrode gains;
    each beat its amplitude (breathing) and small changes in duration.

    The classes, as simulated:

    - NSR: sinus rhythm at 63-97 bpm with respiratory sinus arrhythmia, a
      P wave before every QRS. SB: the same at 40-56 bpm. STach: 105-150 bpm.
    - AF: irregularly irregular RR intervals (log-normal, coefficient of
      variation 10-28 %) at 65-140 bpm, no P waves, fibrillatory waves of
      4.5-8 Hz and 20-120 uV, largest in V1 and the inferior leads.
    - IAVB: PR 215-330 ms (otherwise 125-195 ms); sinus rhythm only.
    - CRBBB: QRS 125-160 ms whose late forces point right and forward
      (rsR' in V1, wide S in I and V6), T discordant in V1-V3.
    - LBBB: QRS 130-170 ms, no septal q, broad notched R in I, aVL and V6,
      QS in V1, T discordant to the QRS. Otherwise QRS lasts 75-105 ms.
    - PVC: one to a few early (50-68 % of the RR, at least 0.32 s), wide
      (140-190 ms) beats of a fixed ectopic focus with a discordant T and no
      P wave, followed by a compensatory pause; at least one falls in the
      middle 70 % of the record.
    - LAD: frontal QRS axis -85 to -40 degrees; RAD: 100 to 160; otherwise
      -20 to 80.
    - LQT: QTc (Bazett) 480-560 ms; otherwise 370-440 ms (10 ms longer in
      women). QT follows each preceding RR interval, and a QRS wider than
      100 ms (block, ectopic beat) lengthens it by the excess, as in life:
      QTc separates the classes among narrow-QRS records only.
    - TInv: the T wave turned so that it is inverted in the anterior
      (V1-V4), inferior (II, III, aVF) or lateral (I, aVL, V4-V6) leads.

    Lead gains are set so that the median peak-to-peak amplitude of each
    lead is within a third of that of the 2020 challenge records; the
    recorder's anti-aliasing filter is a Gaussian low-pass of 0.4 sample.

    Limitations. One dipole cannot produce non-dipolar content (in real
    ECGs a few percent of the signal); beat morphology depends on heart rate
    only through QT; an axis deviation rotates the whole QRS loop rather
    than modelling a fascicular block; there are no ST changes, P-wave
    abnormalities, atrial flutter, blocks beyond first degree, pacing,
    electrode misplacement or recording artefacts beyond the noise above;
    the secondary T changes of bundle-branch blocks are not labelled TInv
    (as in clinical practice); findings other than the exclusive pairs are
    drawn independently, so rare combinations (LBBB with RAD) occur; age
    and sex are independent of the findings except for the QTc of women.
    Records much shorter than two seconds may show no beat of a labelled
    finding (PVC, irregular RR).

    Examples
    --------
    >>> from sklearn_ecg.datasets import make_synthetic_ecg
    >>> data = make_synthetic_ecg(20, random_state=0)
    >>> data.X.shape, data.X.dtype
    ((20, 12, 1000), dtype('float32'))
    >>> data.y.shape
    (20, 12)
    >>> data.class_names[:4].tolist()
    ['IAVB', 'AF', 'CRBBB', 'LAD']

    The ground truth of the simulation agrees with the labels:

    >>> slow = data.y[:, data.class_names.tolist().index("SB")] == 1
    >>> bool((data.metadata["heart_rate"][slow] < 60).all())
    True
    """
    n_records, fs, n_times, prior = _check_params(n_records, fs, duration, noise, powerline, class_prior)
    rng = np.random.default_rng(draw_seed(random_state))
    found = _draw_findings(n_records, prior, rng)
    body = _draw_physiology(found, rng)
    beats = _beat_schedule(body, found, n_times / fs, rng)
    X = np.empty((n_records, len(LEAD_NAMES), n_times), dtype=np.float32)
    batch = max(1, 500_000 // n_times)
    starts = range(0, n_records, batch)
    noise_seeds = rng.integers(0, 2**63 - 1, size=len(starts))
    for start, seed in tqdm(zip(starts, noise_seeds), total=len(starts), disable=not verbose, unit="batch"):
        part = slice(start, start + batch)
        X[part] = _simulate(_take(body, part), _take(beats, part), n_times, fs, noise, powerline, seed)
    return _as_bunch(X, found, body, beats, fs, n_times)


def _check_params(n_records, fs, duration, noise, powerline, class_prior):
    """Validate the arguments; return them normalised, with the full class prior."""
    if not isinstance(n_records, numbers.Integral) or isinstance(n_records, bool) or n_records < 1:
        raise ValueError(f"n_records must be a positive integer, got {n_records!r}.")
    for name, value in (("fs", fs), ("duration", duration)):
        if not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    n_times = int(round(duration * fs))
    if n_times < 1:
        raise ValueError(f"duration * fs must give at least one sample, got {duration} s at {fs} Hz.")
    if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}.")
    if powerline is not None and powerline not in _LINE_FREQUENCIES:
        raise ValueError(f"powerline must be None, 50 or 60, got {powerline!r}.")
    return int(n_records), float(fs), n_times, _check_prior(class_prior)


def _check_prior(class_prior):
    """Merge user overrides, keyed by abbreviation or code, into the default prior."""
    prior = dict(_DEFAULT_PRIOR)
    by_code = {code: name for name, code in _CODES.items()}
    for key, value in (class_prior or {}).items():
        name = by_code.get(str(key), key)
        if name not in prior:
            raise ValueError(f"Unknown class {key!r} in class_prior; expected one of {sorted(prior)} or their codes.")
        if not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"class_prior[{key!r}] must be a number in [0, 1], got {value!r}.")
        prior[name] = float(value)
    if sum(prior[name] for name in _RHYTHMS) <= 0:
        raise ValueError(f"class_prior needs a positive weight for at least one rhythm of {_RHYTHMS}.")
    for first, second in _EXCLUSIVE:
        if prior[first] + prior[second] > 1:
            raise ValueError(f"{first} and {second} exclude each other: their priors must sum to at most 1.")
    return prior


def _draw_findings(n, prior, rng):
    """Boolean array of each finding over the records, honouring exclusivity."""
    weights = np.array([prior[name] for name in _RHYTHMS])
    rhythm = rng.choice(len(_RHYTHMS), size=n, p=weights / weights.sum())
    found = {name: rhythm == i for i, name in enumerate(_RHYTHMS)}
    found["IAVB"] = ~found["AF"] & (rng.random(n) < prior["IAVB"])
    for first, second in _EXCLUSIVE:
        u = rng.random(n)
        found[first], found[second] = u < prior[first], (u >= prior[first]) & (u < prior[first] + prior[second])
    for name in ("PVC", "LQT", "TInv"):
        found[name] = rng.random(n) < prior[name]
    return found


def _uniform_by(found, ranges, default, rng):
    """Draw per record from the range of its finding, or from ``default``."""
    n = len(found["NSR"])
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    if default is not None:
        low[:], high[:] = default
    for name, (lo, hi) in ranges.items():
        low[found[name]], high[found[name]] = lo, hi
    return rng.uniform(low, high)


def _draw_physiology(found, rng):
    """Per-record parameters of the heart, the body and the recording."""
    n = len(found["NSR"])
    female = rng.random(n) < 0.5
    body = {
        "age": np.clip(np.rint(rng.normal(60, 15, n)), 18, 95),
        "female": female,
        "heart_rate": _uniform_by(found, _HEART_RATE, None, rng),
        "pr": np.where(found["AF"], np.nan, _uniform_by(found, *_PR, rng)),
        "qrs": _uniform_by(found, *_QRS, rng),
        "qtc": _uniform_by(found, *_QTC, rng) + 0.01 * female,
        "axis": _uniform_by(found, *_AXIS, rng),
        "p_span": rng.uniform(0.08, 0.11, n),
        "pvc_span": rng.uniform(0.14, 0.19, n),
        "pvc_rate": rng.uniform(0.04, 0.2, n),
        "af_spread": rng.uniform(0.10, 0.28, n),
        "resp_freq": rng.uniform(0.15, 0.35, n),
        "resp_phase": rng.uniform(0, 2 * np.pi, n),
        "rsa": rng.uniform(0.0, 0.05, n),
        "rr_jitter": rng.uniform(0.005, 0.02, n),
        "f_amp": rng.uniform(0.02, 0.12, n),
        "f_freq": rng.uniform(4.5, 8.0, n),
        "f_phase": rng.uniform(0, 2 * np.pi, (n, 3)),
        "f_direction": _unit(_FIBRILLATION_DIRECTION + 0.25 * rng.standard_normal((n, 3))),
        "lead_gain": _lead_gains(n, rng),
    }
    body.update(_wave_vectors(found, body, rng))
    return body


def _lead_gains(n, rng):
    """Electrode gains: one for the limb leads (keeping Einthoven's law), one per chest lead."""
    limb = _LIMB_GAIN * rng.lognormal(0, 0.08, (n, 1))
    return np.hstack([limb, limb, _CHEST_GAIN * rng.lognormal(0, 0.1, (n, 6))])


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _wave_vectors(found, body, rng):
    """Shapes and dipole vectors of every wave of every record."""
    n = len(found["NSR"])
    turn = np.radians(np.clip(rng.normal(0, 12, n), -30, 30))
    conduction = found["CRBBB"] * 1 + found["LBBB"] * 2
    qrs = np.stack(_dipole.QRS_TEMPLATES)[conduction]
    qrs_vectors = _dipole.orient(qrs[..., 1], qrs[..., 2:] * rng.lognormal(0, 0.2, (n, 1, 1)), turn, body["axis"])
    p_vectors = _dipole.orient(
        np.broadcast_to(_dipole.P_WAVE[:, 1], (n, 2)),
        _dipole.P_WAVE[:, 2:] * rng.lognormal(0, 0.2, (n, 1, 1)),
        turn,
        rng.uniform(35, 70, n),
    )
    t_direction = _t_direction(found, qrs, qrs_vectors, turn, rng)
    pvc_vectors, pvc_t_direction = _ectopic_vectors(n, rng)
    return {
        "qrs_shape": qrs[..., :2],
        "qrs_vectors": qrs_vectors,
        "p_vectors": p_vectors,
        "t_vectors": _t_vectors(t_direction, rng.uniform(0.25, 0.5, n)),
        "pvc_vectors": pvc_vectors,
        "pvc_t_vectors": _t_vectors(pvc_t_direction, rng.uniform(0.4, 0.7, n)),
    }


def _t_vectors(direction, amplitude):
    """Vectors of the two T-wave bumps, ``(n, 2, 3)``, from unit directions."""
    return _dipole.T_SHAPE[:, 2, None] * direction[:, None, :] * amplitude[:, None, None]


def _ectopic_vectors(n, rng):
    """QRS vectors of a ventricular focus anywhere in the heart (two bumps,
    the second turned a little: a wide, bizarre complex) and the direction
    of its T wave, discordant to the QRS."""
    first = _unit(rng.standard_normal((n, 3)))
    second = _unit(first + 0.7 * rng.standard_normal((n, 3)))
    vectors = np.stack([first, 0.7 * second], axis=1) * rng.uniform(1.0, 1.8, (n, 1, 1))
    widths = np.broadcast_to(_dipole.PVC_SHAPE[:, 1], (n, 2))
    return vectors, -_unit(_dipole.net_area(widths, vectors))


def _t_direction(found, qrs, qrs_vectors, turn, rng):
    """Unit T-wave vector: normal, inverted in a lead group (TInv), or
    discordant to the late QRS forces of a bundle-branch block."""
    n = len(turn)
    t_axis = np.radians(rng.uniform(15, 70, n))
    normal = np.stack([np.cos(t_axis), np.sin(t_axis), np.full(n, -0.45)], axis=1)
    # An inversion is named by the leads that show it, so its direction is
    # fixed in the frame of the chest leads, not turned with the heart.
    region = rng.integers(len(_TINV_DIRECTIONS), size=n)
    inverted = _TINV_DIRECTIONS[region] + 0.1 * rng.standard_normal((n, 3))
    normal = np.einsum("nij,nj->ni", _dipole.rotation_y(turn), normal)
    direction = np.where(found["TInv"][:, None], inverted, normal)
    late = qrs[..., 0] > _dipole.TERMINAL_QRS
    secondary = -_dipole.net_area(qrs[..., 1] * late, qrs_vectors)
    block = (found["CRBBB"] | found["LBBB"]) & ~found["TInv"]
    return _unit(np.where(block[:, None], secondary, direction))


def _beat_schedule(body, found, duration, rng):
    """QRS onset of every beat, its preceding RR interval and whether it is ectopic."""
    n = len(body["heart_rate"])
    n_beats = int(np.ceil((duration + 2 * _PAD) / _MIN_RR)) + 1
    rr0 = 60.0 / body["heart_rate"]
    k = np.arange(n_beats)
    breathing = np.sin(2 * np.pi * body["resp_freq"][:, None] * k * rr0[:, None] + body["resp_phase"][:, None])
    sinus = 1 + body["rsa"][:, None] * breathing + body["rr_jitter"][:, None] * rng.standard_normal((n, n_beats))
    spread = body["af_spread"][:, None]
    irregular = rng.lognormal(-(spread**2) / 2, spread, (n, n_beats))
    rr = np.maximum(rr0[:, None] * np.where(found["AF"][:, None], irregular, sinus), _MIN_RR)
    onset = -_PAD - rng.uniform(0, 1, (n, 1)) * rr0[:, None] + np.cumsum(rr, axis=1)
    ectopic = _ectopic_beats(found["PVC"], onset, duration, body["pvc_rate"], rng)
    # A premature beat comes early; the next beat keeps its time, leaving a
    # compensatory pause, since the ectopic focus does not reset the sinus node.
    previous = _previous(onset, rr0)
    onset = np.where(ectopic, previous + _coupling(onset - previous, rng), onset)
    present = onset < duration + _PAD
    return {
        "onset": onset,
        "rr_prev": onset - _previous(onset, rr0),
        "present": present,
        "ectopic": ectopic & present,
        "mean_rr": _mean_rr(onset, present, duration),
        "modulation": 1 + 0.05 * breathing + 0.02 * rng.standard_normal((n, n_beats)),
        "stretch": np.clip(1 + 0.02 * rng.standard_normal((n, n_beats)), 0.94, 1.06),
    }


def _previous(onset, rr0):
    """Onset of each beat's predecessor (one nominal RR before the first)."""
    return np.concatenate([onset[:, :1] - rr0[:, None], onset[:, :-1]], axis=1)


def _coupling(rr, rng):
    """Coupling interval of premature beats: 50-68 % of the RR interval, but
    no sooner than 0.32 s (or 80 % of a shorter RR) after the preceding QRS."""
    return np.maximum(rng.uniform(0.5, 0.68, rr.shape) * rr, np.minimum(0.32, 0.8 * rr))


def _mean_rr(onset, present, duration):
    """Mean RR interval of the beats inside the record (of the whole
    simulated schedule when fewer than two fall inside)."""
    inside = present & (onset >= 0) & (onset < duration)
    use = np.where(inside.sum(axis=1, keepdims=True) >= 2, inside, True)
    first = np.where(use, onset, np.inf).min(axis=1)
    last = np.where(use, onset, -np.inf).max(axis=1)
    return (last - first) / (use.sum(axis=1) - 1)


def _ectopic_beats(has_pvc, onset, duration, rate, rng):
    """Choose premature beats: isolated (never two in a row), at least one
    in the middle of the record of every PVC record."""
    n, n_beats = onset.shape
    ectopic = has_pvc[:, None] & (rng.random((n, n_beats)) < rate[:, None])
    ectopic[:, 0] = False
    ectopic[:, 1:] &= ~ectopic[:, :-1]
    middle = (onset > 0.15 * duration) & (onset < 0.85 * duration)
    middle[:, 0] = False
    chosen = np.argmax(rng.random((n, n_beats)) * middle, axis=1)
    forced = np.flatnonzero(has_pvc & middle.any(axis=1))
    ectopic[forced, chosen[forced] - 1] = False
    ectopic[forced, np.minimum(chosen[forced] + 1, n_beats - 1)] = False
    ectopic[forced, chosen[forced]] = True
    return ectopic


def _take(arrays, part):
    return {name: value[part] for name, value in arrays.items()}


def _simulate(body, beats, n_times, fs, noise, powerline, seed):
    """The 12 leads of a batch of records, float32."""
    n = len(body["heart_rate"])
    dipole = _dipole.render(_wave_bumps(body, beats), n, n_times, fs)
    _add_fibrillation(dipole, body, fs)
    independent = _dipole.project(dipole, body["lead_gain"])
    if noise > 0:
        independent += _recording_noise(independent.shape, fs, noise, powerline, np.random.default_rng(seed))
    return _dipole.twelve_leads(independent)


def _wave_bumps(body, beats):
    """Gaussian bumps of the P, QRS and T waves of normal and ectopic beats."""
    onset, rr_prev, stretch, gain = beats["onset"], beats["rr_prev"], beats["stretch"], beats["modulation"]
    normal, ectopic = beats["present"] & ~beats["ectopic"], beats["ectopic"]
    qrs = body["qrs"][:, None] * stretch
    p_span = body["p_span"][:, None] * stretch
    pvc_span = body["pvc_span"][:, None] * np.ones_like(onset)
    # Repolarisation lasts QTc * sqrt(RR) (Bazett) after a normal-width QRS;
    # a wider QRS, blocked or ectopic, delays the whole T wave by its excess.
    repolarisation = body["qtc"][:, None] * np.sqrt(np.clip(rr_prev, _MIN_RR, 2.0))
    t_span = 0.5 * repolarisation
    qt = repolarisation + _widening(qrs)
    pvc_qt = repolarisation + _widening(pvc_span)
    n = len(onset)
    p_shape = np.broadcast_to(_dipole.P_WAVE[:, :2], (n, 2, 2))
    t_shape = np.broadcast_to(_dipole.T_SHAPE[:, :2], (n, 2, 2))
    pvc_shape = np.broadcast_to(_dipole.PVC_SHAPE, (n, 2, 2))
    has_p = normal & ~np.isnan(body["pr"])[:, None]
    return [
        _dipole.wave_bumps(onset - body["pr"][:, None], p_span, p_shape, body["p_vectors"], gain, has_p),
        _dipole.wave_bumps(onset, qrs, body["qrs_shape"], body["qrs_vectors"], gain, normal),
        _dipole.wave_bumps(onset + qt - t_span, t_span, t_shape, body["t_vectors"], gain, normal),
        _dipole.wave_bumps(onset, pvc_span, pvc_shape, body["pvc_vectors"], gain, ectopic),
        _dipole.wave_bumps(onset + pvc_qt - t_span, t_span, t_shape, body["pvc_t_vectors"], gain, ectopic),
    ]


def _widening(qrs):
    """How much a QRS of duration ``qrs`` (s) exceeds a normal 100 ms one."""
    return np.maximum(qrs - _NORMAL_QRS, 0)


def _add_fibrillation(dipole, body, fs):
    """Add fibrillatory waves to the records in atrial fibrillation (those without a PR).

    A wandering rate (+- 0.6 Hz around the record's own) with a second
    harmonic and a slow amplitude modulation, along one atrial direction.
    """
    af = np.flatnonzero(np.isnan(body["pr"]))
    if not af.size:
        return
    t = np.arange(dipole.shape[-1]) / fs
    phase = body["f_phase"][af, :, None]
    rate = body["f_freq"][af, None] + 0.6 * np.sin(2 * np.pi * 0.12 * t + phase[:, 0])
    cycle = 2 * np.pi * np.cumsum(rate, axis=1) / fs + phase[:, 1]
    envelope = body["f_amp"][af, None] * (1 + 0.3 * np.sin(2 * np.pi * 0.2 * t + phase[:, 2]))
    wave = envelope * (np.sin(cycle) + 0.35 * np.sin(2 * cycle))
    dipole[af] += body["f_direction"][af, :, None] * wave[:, None, :]


def _recording_noise(shape, fs, scale, powerline, rng):
    """Baseline wander, white and muscle noise (and mains) on the independent leads, float32."""
    n, n_leads, n_times = shape
    t = (np.arange(n_times) / fs).astype(np.float32)

    def level(low, high, size=(n, 1, 1)):
        return (scale * rng.uniform(low, high, size)).astype(np.float32)

    def sine(freq_low, freq_high, size):
        freq = rng.uniform(freq_low, freq_high, size).astype(np.float32)
        return np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, size).astype(np.float32))

    wander = level(0, 0.15, (n, n_leads, 1)) * sine(0.05, 0.45, (n, n_leads, 1))
    # breathing moves the chest under every electrode at once, by different amounts
    breathing = level(0, 0.1) * rng.uniform(-1, 1, (n, n_leads, 1)).astype(np.float32) * sine(0.15, 0.35, (n, 1, 1))
    bursts = np.maximum(sine(0.05, 0.3, (n, 1, 1)), 0) ** 2
    per_lead = rng.uniform(0.5, 1.5, (n, n_leads, 1)).astype(np.float32)
    sigma = level(0.003, 0.02) + level(0, 0.05) * per_lead * bursts
    total = wander + breathing + sigma * rng.standard_normal(shape, dtype=np.float32)
    if powerline is not None and powerline < fs / 2:
        mains = np.sin(2 * np.pi * powerline * t + rng.uniform(0, 2 * np.pi, (n, 1, 1)).astype(np.float32))
        total += level(0, 0.04, (n, n_leads, 1)) * mains
    return total


def _as_bunch(X, found, body, beats, fs, n_times):
    """Assemble the data set in the layout of ``load_physionet``."""
    n = len(X)
    table = scored_classes(2020)
    ours = set(_CODES.values())
    classes = np.array([code for code in table.classes if code in ours])
    by_code = {code: name for name, code in _CODES.items()}
    y = np.column_stack([found[by_code[code]] for code in classes]).astype(np.uint8)
    names = code_names()
    heart_rate = 60.0 / beats["mean_rr"]
    records = np.array([f"SYN{i:05d}" for i in range(1, n + 1)])
    metadata = {
        "record": records,
        "source": np.full(n, ""),
        "layout": np.full(n, "synthetic"),
        "start": np.zeros(n),
        "database": np.full(n, "synthetic"),
        "fs_original": np.full(n, fs),
        "n_samples_original": np.full(n, n_times, dtype=np.int64),
        "duration_original": np.full(n, n_times / fs),
        "age": body["age"],
        "sex": np.where(body["female"], "Female", "Male"),
        "codes": _code_tuples(y, classes),
        "n_zero_leads": np.zeros(n, dtype=np.int64),
        "path": np.full(n, ""),
        "heart_rate": heart_rate,
        "pr_ms": 1000 * body["pr"],
        "qrs_ms": 1000 * body["qrs"],
        "qt_ms": 1000 * (body["qtc"] * np.sqrt(60.0 / heart_rate) + _widening(body["qrs"])),
        "axis_deg": body["axis"],
    }
    return Bunch(
        X=X,
        y=y,
        classes=classes,
        class_names=np.array([names[code] for code in classes]),
        records=records,
        leads=np.array(LEAD_NAMES),
        leads_present=np.ones((len(records), len(LEAD_NAMES)), dtype=bool),
        groups=records.copy(),
        folds=None,
        fs=fs,
        metadata=metadata,
        skipped=[],
        DESCR=_DESCR.format(n=n, fs=fs, duration=n_times / fs),
    )


def _code_tuples(y, classes):
    codes = np.empty(len(y), dtype=object)
    codes[:] = [tuple(str(code) for code in classes[row.astype(bool)]) for row in y]
    return codes


_DESCR = """Synthetic 12-lead ECGs ({n} records, {fs:g} Hz, {duration:g} s), made by
sklearn_ecg.datasets.make_synthetic_ecg from a cardiac dipole model: a
sum-of-Gaussians vectorcardiogram (P, QRS, T) on a simulated beat schedule,
projected onto Einthoven's limb leads and Dower's chest leads, plus baseline
wander, white and muscle noise. Labels: 12 classes scored in the 2020
PhysioNet/CinC challenge (SNOMED-CT codes): NSR, SB, STach, AF, IAVB, CRBBB,
LBBB, PVC, LAD, RAD, LQT, TInv; one rhythm per record. Ground-truth heart
rate, PR, QRS, QT and frontal axis are in ``metadata``.
"""
