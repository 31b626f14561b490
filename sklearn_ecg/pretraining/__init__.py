"""Label-free pretraining of ECG encoders."""

from ._self_kd import SelfKDPretrainer

__all__ = ["SelfKDPretrainer"]
