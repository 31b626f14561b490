"""PyTorch building blocks: encoders, front ends, gated fusion and self-distillation.

Encoders map a batch of time series ``(batch, leads, times)``
(:class:`XResNet1d`) or spectrograms ``(batch, leads, freqs, frames)``
(:class:`SEResNet`) to fixed-size embeddings, whatever the input length.
Front ends (:class:`STFTMagnitude`, :class:`StandardizeLeads`,
:class:`SelectColumns`) prepare a branch's input; :class:`GatedFusionHead`
and :class:`MultiBranchNetwork` fuse the branches. The stateless kernels
(STFT, crops, sliding windows) are in :mod:`sklearn_ecg.nn.functional`.
"""

from ._dino import DINOHead, DINOLoss, SelfDistillation
from ._factory import ENCODER_PRESETS, build_encoder, load_encoder_state
from ._front_ends import SelectColumns, StandardizeLeads, STFTMagnitude
from ._fusion import GatedFusionHead, MultiBranchNetwork
from ._se_resnet import SEResNet
from ._xresnet1d import XResNet1d

__all__ = [
    "DINOHead",
    "DINOLoss",
    "ENCODER_PRESETS",
    "GatedFusionHead",
    "MultiBranchNetwork",
    "SEResNet",
    "STFTMagnitude",
    "SelectColumns",
    "SelfDistillation",
    "StandardizeLeads",
    "XResNet1d",
    "build_encoder",
    "load_encoder_state",
]
