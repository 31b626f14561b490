"""Signal transformers (resampling, lead selection, spectrograms, filtering,
standardization, cropping) and the window utilities of the training loops."""

from ._filter import BandpassFilter
from ._lead_masker import LeadMasker
from ._resample import Resampler
from ._spectrogram import STFTSpectrogram, stft_magnitude
from ._standardize import LeadStandardizer
from ._windows import WindowCropper, aggregate_windows, random_crops, segment_pairs, sliding_windows

__all__ = [
    "BandpassFilter",
    "LeadMasker",
    "LeadStandardizer",
    "Resampler",
    "STFTSpectrogram",
    "WindowCropper",
    "aggregate_windows",
    "random_crops",
    "segment_pairs",
    "sliding_windows",
    "stft_magnitude",
]
