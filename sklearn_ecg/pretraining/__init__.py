"""Label-free pretraining of ECG encoders, pretrained encoders kept for reuse, and identity embeddings."""

from ._arcface import ArcFaceEmbedder
from ._contrastive import ContrastivePretrainer
from ._encoders import PretrainedEncoders, load_encoders, read_encoders_header, save_encoders
from ._self_kd import SelfKDPretrainer

__all__ = [
    "ArcFaceEmbedder",
    "ContrastivePretrainer",
    "PretrainedEncoders",
    "SelfKDPretrainer",
    "load_encoders",
    "read_encoders_header",
    "save_encoders",
]
