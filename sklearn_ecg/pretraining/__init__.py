"""Label-free pretraining of ECG encoders, and pretrained encoders kept for reuse."""

from ._contrastive import ContrastivePretrainer
from ._encoders import PretrainedEncoders, load_encoders, read_encoders_header, save_encoders
from ._self_kd import SelfKDPretrainer

__all__ = [
    "ContrastivePretrainer",
    "PretrainedEncoders",
    "SelfKDPretrainer",
    "load_encoders",
    "read_encoders_header",
    "save_encoders",
]
