"""Challenge records (loaders), challenge output files (writer, reader), and a synthetic 12-lead ECG."""

from ._outputs import read_challenge_output, write_challenge_outputs
from ._physionet import load_physionet, read_record
from ._synthetic import make_synthetic_ecg

__all__ = [
    "load_physionet",
    "make_synthetic_ecg",
    "read_challenge_output",
    "read_record",
    "write_challenge_outputs",
]
