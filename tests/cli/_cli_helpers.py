"""Helpers of the command-line tests: challenge records on disk, one-line errors."""

import numpy as np
import scipy.io

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.leads import LEAD_NAMES

FS, DURATION = 100, 5


def write_records(folder, n_records, *, seed=0, codes=None):
    """Synthetic ECGs as challenge records: NAME.hea + NAME.mat, 1000 counts per mV."""
    folder.mkdir(parents=True, exist_ok=True)
    data = make_synthetic_ecg(n_records, fs=FS, duration=DURATION, random_state=seed)
    n_samples = data.X.shape[-1]
    for i, (signal, labels) in enumerate(zip(data.X, data.y)):
        name = f"S{seed}{i:04d}"
        dx = codes if codes is not None else ",".join(data.classes[labels == 1])
        lines = [f"{name} 12 {FS} {n_samples}"]
        lines += [f"{name}.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in LEAD_NAMES]
        (folder / f"{name}.hea").write_text("\n".join([*lines, f"#Dx: {dx}"]) + "\n")
        scipy.io.savemat(folder / f"{name}.mat", {"val": np.round(signal * 1000).astype(np.int16)})
    return folder


def one_line_error(capsys, prefix="sklearn-ecg: error:"):
    err = without_absent_class_warnings(capsys.readouterr().err).strip()
    assert err.startswith(prefix), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err




def without_absent_class_warnings(err):
    """``err`` less the warnings about the scored classes that the synthetic records lack (12 of 24)."""
    return "".join(line for line in err.splitlines(keepends=True) if "have no positive record" not in line)


def files_under(folder):
    """Paths of everything under ``folder``, relative to it."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))
