"""Multi-label classification by gated fusion of ECG modalities (time series and spectrogram)."""

from ._classifier import GatedFusionClassifier

__all__ = ["GatedFusionClassifier"]
