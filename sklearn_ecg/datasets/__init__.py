"""Loaders for PhysioNet/CinC challenge records and a synthetic 12-lead ECG generator."""

from ._physionet import load_physionet, read_record
from ._synthetic import make_synthetic_ecg

__all__ = ["load_physionet", "make_synthetic_ecg", "read_record"]
