"""Helpers of the command-line tests: challenge, WFDB, PTB-XL and LUDB records on disk, one-line errors."""

import numpy as np
import scipy.io
import wfdb

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.leads import LEAD_NAMES

FS, DURATION = 100, 5
# The paper's model (self-KD inside fit, one model, no blend), which pretrains
# and fine-tunes for one epoch in a second; the default pipeline has tests of its own.
PAPER = ["--pretrained", "selfkd", "--ensemble", "1", "--blend", "none"]


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


def write_wfdb(folder, name, signal, *, leads=LEAD_NAMES, comments=()):
    """A native WFDB record (NAME.hea + NAME.dat, format 16) of ``signal`` (n_leads, n_samples) in mV at FS."""
    folder.mkdir(parents=True, exist_ok=True)
    n_leads = len(leads)
    wfdb.wrsamp(name, fs=FS, units=["mV"] * n_leads, sig_name=list(leads), p_signal=np.asarray(signal, float).T,
                fmt=["16"] * n_leads, adc_gain=[1000.0] * n_leads, baseline=[0] * n_leads,
                comments=list(comments), write_dir=str(folder))


# PTB-XL statements: NORM, IMI and NDT give one superdiagnostic class each; SR none (a rhythm).
SCP_STATEMENTS = (
    ",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass\n"
    "NORM,normal ECG,1.0,,,NORM,NORM\n"
    "IMI,inferior myocardial infarction,1.0,,,MI,IMI\n"
    "NDT,non-diagnostic T abnormalities,1.0,1.0,,STTC,STTC\n"
    "SR,sinus rhythm,,,1.0,,\n"
)
PTBXL_CODES = ("NORM", "IMI", "NDT")


def write_ptbxl(root, n_records, *, n_folds=3, seed=0, rhythm_only=()):
    """A PTB-XL folder at 100 Hz: statements cycle through PTBXL_CODES, folds through 1..n_folds.

    Records ``rhythm_only`` (ecg_ids) have only the SR statement: no superdiagnostic class.
    Returns the ecg_ids with their folds.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "scp_statements.csv").write_text(SCP_STATEMENTS)
    signals = make_synthetic_ecg(n_records, fs=FS, duration=DURATION, random_state=seed).X
    rows = ["ecg_id,patient_id,age,sex,scp_codes,strat_fold,filename_lr,filename_hr"]
    folds = {}
    for i, signal in enumerate(signals):
        ecg_id = i + 1
        codes = "{'SR': 0.0}" if ecg_id in rhythm_only else f"{{'{PTBXL_CODES[i % 3]}': 100.0, 'SR': 0.0}}"
        folds[ecg_id] = i % n_folds + 1
        files = f"records100/00000/{ecg_id:05d}_lr,records500/00000/{ecg_id:05d}_hr"
        rows.append(f'{ecg_id},{1000 + i},60.0,{i % 2},"{codes}",{folds[ecg_id]},{files}')
        write_wfdb(root / "records100" / "00000", f"{ecg_id:05d}_lr", signal)
    (root / "ptbxl_database.csv").write_text("\n".join(rows) + "\n")
    return folds


LUDB_RHYTHMS = ("Sinus rhythm", "Sinus bradycardia", "Atrial fibrillation")


def write_ludb(root, n_records, *, seed=0):
    """A LUDB folder: lower-case lead names, rhythms cycling through LUDB_RHYTHMS."""
    signals = make_synthetic_ecg(n_records, fs=FS, duration=DURATION, random_state=seed).X
    rows = ["ID,Sex,Age,Rhythms"]
    for i, signal in enumerate(signals):
        rows.append(f'{i + 1},F,50,"{LUDB_RHYTHMS[i % 3]}."')
        write_wfdb(root / "data", str(i + 1), signal, leads=[lead.lower() for lead in LEAD_NAMES])
    (root / "ludb.csv").write_text("\n".join(rows) + "\n")
    return root
