"""The development data of the benchmarks as arrays: from ../shared, or from one npz file made from it.

Every record at 100 Hz, first 10 s (zero-padded). Keys: ``physionet_X``,
``physionet_y``, ``physionet_classes`` (24 merged scored classes of 2020),
``ptbxl_X``, ``ptbxl_y``, ``ptbxl_classes`` (PTB-XL's superdiagnostic
task), ``ptbxl_folds``, ``ludb_X`` (unlabelled). The npz (written by
``bench_label_efficiency.py --export-npz``) carries the data to a machine
without ../shared.
"""

import warnings
from pathlib import Path

import numpy as np

from sklearn_ecg.datasets import load_folders, load_physionet, load_ptbxl

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FS, DURATION = 100, 10.0


def load_shared():
    """The arrays of the npz layout, read from ../shared (100 Hz, 10 s)."""
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn_ecg.datasets")
    physionet = load_physionet(DATA / "physionet2020-dev", fs=FS, duration=DURATION)
    ptbxl = load_ptbxl(DATA / "ptbxl-dev", labels="superdiagnostic", fs=FS, duration=DURATION)
    ludb = load_folders([DATA / "ludb-dev"], labels=None, fs=FS, duration=DURATION)
    return {
        "physionet_X": physionet.X, "physionet_y": physionet.y, "physionet_classes": physionet.classes,
        "ptbxl_X": ptbxl.X, "ptbxl_y": ptbxl.y, "ptbxl_classes": ptbxl.classes, "ptbxl_folds": ptbxl.folds,
        "ludb_X": ludb.X,
    }


def load_data(npz=None):
    """The arrays from ``npz``, or from ../shared when it is None."""
    if npz is None:
        if not (DATA / "physionet2020-dev").is_dir():
            raise SystemExit(f"{DATA} not found: give --data-npz (made by --export-npz where ../shared exists)")
        return load_shared()
    with np.load(npz, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
