"""ECG records (loaders for challenge folders, PTB-XL, LUDB and pools of them),
challenge output files (writer, reader), and a synthetic 12-lead ECG."""

from ._folders import detect_layout, load_folders
from ._ludb import load_ludb
from ._outputs import read_challenge_output, write_challenge_outputs
from ._physionet import load_physionet
from ._ptbxl import load_ptbxl
from ._signals import read_record
from ._synthetic import make_synthetic_ecg

__all__ = [
    "detect_layout",
    "load_folders",
    "load_ludb",
    "load_physionet",
    "load_ptbxl",
    "make_synthetic_ecg",
    "read_challenge_output",
    "read_record",
    "write_challenge_outputs",
]
