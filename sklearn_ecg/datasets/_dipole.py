"""A cardiac dipole model: a sum-of-Gaussians vectorcardiogram seen by 12 leads.

The heart is a single current dipole ``d(t)`` in Frank's coordinates: ``x``
towards the patient's left, ``y`` towards the feet, ``z`` towards the back.
Each wave (P, QRS, T) is a few Gaussian bumps in time, each with its own 3-D
direction, as in the ECGSYN model of McSharry et al. (IEEE TBME 2003) and its
vectorcardiographic extension by Sameni et al. (EURASIP JASP 2007). Here the
bumps are placed on an explicit beat schedule (onset and duration of every
wave) rather than by integrating ECGSYN's phase ODE, so that intervals such
as PR, QRS and QT are exact, known parameters.

A lead sees ``d(t)`` through its lead vector: the limb leads I and II lie in
the frontal plane at 0 and 60 degrees (Einthoven's triangle) and III, aVR,
aVL, aVF are derived from them as an electrocardiograph does; the precordial
leads V1-V6 use the rows of Dower's matrix (Dower et al., J Electrocardiol
1980), which maps a Frank vectorcardiogram to the chest leads.
"""

import numpy as np

# Wave templates. Each row is one Gaussian: centre and width as fractions of
# the wave's duration (centre +- 2.5 widths stays within [0, 1], so the
# duration is the wave's extent), then its dipole vector in mV.
P_WAVE = np.array(
    [
        [0.35, 0.14, 0.05, 0.12, -0.06],  # right atrium: anterior, inferior
        [0.65, 0.14, 0.08, 0.06, 0.07],  # left atrium: leftward, posterior
    ]
)
QRS_NORMAL = np.array(
    [
        [0.18, 0.07, -0.10, 0.03, -0.16],  # septum, left to right: q in I/V6, r in V1
        [0.48, 0.11, 1.10, 0.55, 0.70],  # left ventricular free wall: R
        [0.78, 0.08, -0.30, -0.25, 0.30],  # basal segments: terminal s
    ]
)
QRS_RBBB = np.array(
    [
        [0.12, 0.05, -0.10, 0.03, -0.16],  # septum as normal: r in V1
        [0.32, 0.08, 1.00, 0.50, 0.65],  # left ventricle on time: S in V1
        [0.74, 0.10, -0.50, 0.05, -0.75],  # late right ventricle: R' in V1, wide S in I/V6
    ]
)
QRS_LBBB = np.array(
    [
        [0.16, 0.06, 0.25, 0.05, 0.05],  # septum right to left: no septal q
        [0.40, 0.11, 1.30, 0.35, 1.15],  # slow left ventricle, first peak
        [0.72, 0.10, 1.35, 0.05, 1.20],  # ... second peak: notched broad R, QS in V1
    ]
)
QRS_TEMPLATES = (QRS_NORMAL, QRS_RBBB, QRS_LBBB)
"""Supraventricular QRS templates, indexed by conduction: normal, RBBB, LBBB."""

PVC_SHAPE = np.array([[0.33, 0.13], [0.68, 0.12]])
"""Centres and widths of the two bumps of a ventricular ectopic QRS."""

T_SHAPE = np.array([[0.45, 0.16, 0.6], [0.68, 0.12, 0.55]])
"""Centres, widths and weights of the two bumps of an asymmetric T wave."""

TERMINAL_QRS = 0.55
"""QRS bumps centred later than this fraction make the terminal forces that
a bundle-branch block's discordant T wave opposes."""

_COS60, _SIN60 = 0.5, np.sqrt(3) / 2
LEAD_VECTORS = np.array(
    [
        [1.0, 0.0, 0.0],  # I
        [_COS60, _SIN60, 0.0],  # II
        [-0.515, 0.157, -0.917],  # V1 (Dower)
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
    ]
)
"""Lead vectors of the 8 independent leads I, II, V1-V6 (rows), Frank x, y, z."""


def rotation_y(angle):
    """Rotations about the vertical axis (horizontal plane), ``(n, 3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        [np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2
    )


def rotation_z(angle):
    """Rotations about the antero-posterior axis (frontal plane), ``(n, 3, 3)``.

    A positive angle turns a vector from lead I towards aVF, the clinical
    sense of the frontal axis.
    """
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2
    )


def net_area(widths, vectors):
    """Net area vector of Gaussian bumps (up to the common factor sqrt(2 pi) x duration).

    widths : (n, m), vectors : (n, m, 3) -> (n, 3).
    """
    return np.einsum("nm,nmk->nk", widths, vectors)


def frontal_angle(vector):
    """Frontal-plane angle in degrees (0 = lead I, +90 = aVF) of ``(..., 3)`` vectors."""
    return np.degrees(np.arctan2(vector[..., 1], vector[..., 0]))


def orient(widths, vectors, turn, axis_deg):
    """Turn bumps in the horizontal plane, then rotate them so that their net
    area vector has frontal angle ``axis_deg``.

    widths : (n, m), vectors : (n, m, 3), turn : (n,) radians, axis_deg : (n,).
    """
    turned = np.einsum("nij,nmj->nmi", rotation_y(turn), vectors)
    current = frontal_angle(net_area(widths, turned))
    return np.einsum("nij,nmj->nmi", rotation_z(np.radians(axis_deg - current)), turned)


def wave_bumps(onset, span, shape, vectors, gain, present):
    """Gaussian bumps of one wave over every beat of every record.

    Parameters
    ----------
    onset, span, gain : ndarray of shape (n, n_beats)
        Start time and duration (s) of the wave at each beat, and an amplitude factor.
    shape : ndarray of shape (n, m, 2)
        Centre and width of each bump, as fractions of the duration.
    vectors : ndarray of shape (n, m, 3)
        Dipole vector of each bump, in mV.
    present : ndarray of bool, shape (n, n_beats)
        Beats that have this wave.

    Returns
    -------
    bumps : tuple of (record, centre, width, vector) arrays, one row per bump.
    """
    rec, beat = np.nonzero(present)
    centre = onset[rec, beat, None] + shape[rec, :, 0] * span[rec, beat, None]
    width = shape[rec, :, 1] * span[rec, beat, None]
    vector = gain[rec, beat, None, None] * vectors[rec]
    m = shape.shape[1]
    return np.repeat(rec, m), centre.ravel(), width.ravel(), vector.reshape(-1, 3)


def render(families, n_records, n_times, fs):
    """Sum Gaussian bumps into a dipole signal of shape ``(n_records, 3, n_times)``.

    ``families`` is a list of bump tuples from :func:`wave_bumps`; each is
    evaluated over its own window of +- 4 widths, so narrow QRS bumps do not
    pay for the width of T waves. The recorder's anti-aliasing filter is
    modelled as a Gaussian low-pass of 0.4 sample: convolving keeps each bump a
    Gaussian, wider and lower with the same area, so that sampling even at
    100 Hz does not alias the QRS.
    """
    dipole = np.zeros((3, n_records * n_times))
    for rec, centre, width, vector in families:
        if not rec.size:
            continue
        wide = np.sqrt(width**2 + (0.4 / fs) ** 2)
        vector = vector * (width / wide)[:, None]
        half = int(np.ceil(4 * wide.max() * fs))
        index = np.rint(centre * fs).astype(np.int64)[:, None] + np.arange(-half, half + 1)
        inside = (index >= 0) & (index < n_times)
        shape = np.exp(-0.5 * ((index / fs - centre[:, None]) / wide[:, None]) ** 2)[inside]
        flat = (rec[:, None] * n_times + index)[inside]
        weight = np.repeat(vector, inside.sum(1), axis=0)
        for k in range(3):
            dipole[k] += np.bincount(flat, shape * weight[:, k], n_records * n_times)
    return dipole.reshape(3, n_records, n_times).transpose(1, 0, 2)


def project(dipole, lead_gain):
    """Leads I, II, V1-V6 ``(n, 8, n_times)`` seen by electrodes of gain ``(n, 8)``."""
    return np.einsum("nl,lk,nkt->nlt", lead_gain, LEAD_VECTORS, dipole, optimize=True).astype(np.float32)


def twelve_leads(independent):
    """Derive the 12 standard leads from I, II, V1-V6, as an electrocardiograph does.

    Einthoven's law III = II - I and Goldberger's augmented leads hold
    exactly, whatever noise the independent leads carry.
    """
    lead_i, lead_ii = independent[:, 0], independent[:, 1]
    limb = np.stack(
        [lead_i, lead_ii, lead_ii - lead_i, -(lead_i + lead_ii) / 2, lead_i - lead_ii / 2, lead_ii - lead_i / 2],
        axis=1,
    )
    return np.concatenate([limb, independent[:, 2:]], axis=1)
