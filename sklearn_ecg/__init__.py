"""sklearn-ecg: scikit-learn compatible multi-label arrhythmia classification from ECGs.

The main parts are importable from the top level; each also lives in its
subpackage (``sklearn_ecg.preprocessing``, ``sklearn_ecg.pretraining``,
``sklearn_ecg.fusion``, ``sklearn_ecg.ensemble``, ``sklearn_ecg.datasets``,
``sklearn_ecg.metrics``, ``sklearn_ecg.model_selection``).
"""

import importlib

__version__ = "0.1.0.dev0"

# Imported on first use, so that ``import sklearn_ecg.datasets`` or
# ``sklearn_ecg.metrics`` does not pay for torch.
_PUBLIC = {
    "Resampler": "preprocessing",
    "LeadMasker": "preprocessing",
    "STFTSpectrogram": "preprocessing",
    "LeadStandardizer": "preprocessing",
    "BandpassFilter": "preprocessing",
    "WindowCropper": "preprocessing",
    "SelfKDPretrainer": "pretraining",
    "ContrastivePretrainer": "pretraining",
    "GatedFusionClassifier": "fusion",
    "FeatureFusionClassifier": "fusion",
    "MultilabelVotingClassifier": "ensemble",
    "MultilabelStratifiedKFold": "model_selection",
    "MultilabelThresholdTuner": "model_selection",
    "load_physionet": "datasets",
    "make_synthetic_ecg": "datasets",
    "make_cinc_scorers": "metrics",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        module = importlib.import_module(f".{_PUBLIC[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
