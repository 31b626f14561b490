"""PyTorch building blocks: ECG encoders and self-knowledge distillation (DINO).

Encoders map a batch of time series ``(batch, leads, times)``
(:class:`XResNet1d`) or spectrograms ``(batch, leads, freqs, frames)``
(:class:`SEResNet`) to fixed-size embeddings, whatever the input length.
"""

from ._dino import DINOHead, DINOLoss, SelfDistillation
from ._factory import ENCODER_PRESETS, build_encoder, load_encoder_state
from ._se_resnet import SEResNet
from ._xresnet1d import XResNet1d

__all__ = [
    "DINOHead",
    "DINOLoss",
    "ENCODER_PRESETS",
    "SEResNet",
    "SelfDistillation",
    "XResNet1d",
    "build_encoder",
    "load_encoder_state",
]
