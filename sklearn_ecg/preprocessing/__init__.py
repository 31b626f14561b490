"""Signal transformers: resampling, lead selection, spectrograms, filtering,
standardization, cropping.

The low-level kernels they share with the torch side (STFT magnitude,
crops, sliding windows) are in :mod:`sklearn_ecg.nn.functional`."""

from ._filter import BandpassFilter
from ._lead_masker import LeadMasker
from ._resample import Resampler, resampling_factors, resampling_filter
from ._spectrogram import STFTSpectrogram
from ._standardize import LeadStandardizer
from ._windows import WindowCropper

__all__ = [
    "BandpassFilter",
    "LeadMasker",
    "LeadStandardizer",
    "Resampler",
    "STFTSpectrogram",
    "WindowCropper",
    "resampling_factors",
    "resampling_filter",
]
