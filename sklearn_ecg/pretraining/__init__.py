"""Label-free pretraining of ECG encoders."""

from ._contrastive import ContrastivePretrainer
from ._self_kd import SelfKDPretrainer

__all__ = ["ContrastivePretrainer", "SelfKDPretrainer"]
