"""sklearn-ecg: scikit-learn compatible multi-label arrhythmia classification from ECGs."""

__version__ = "0.1.0.dev0"
