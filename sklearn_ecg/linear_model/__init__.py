"""Linear classifiers on fixed random features of ECG signals."""

from ._minirocket_ridge import MiniRocketRidgeClassifier

__all__ = ["MiniRocketRidgeClassifier"]
