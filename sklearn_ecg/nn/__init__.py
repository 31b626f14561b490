"""PyTorch building blocks: encoders, front ends, gated fusion, self-knowledge
distillation (DINO), lead-agnostic contrastive pretraining (wav2vec 2.0 and CMSC)
and identity embeddings (ArcFace).

Encoders map a batch of time series ``(batch, leads, times)``
(:class:`XResNet1d`) or spectrograms ``(batch, leads, freqs, frames)``
(:class:`SEResNet`) to fixed-size embeddings, whatever the input length.
:class:`ECGTransformer` maps time series to frame embeddings
``(batch, frames, width)`` and embeds a segment by their mean
(:class:`MeanOverFrames` makes it an encoder of that interface).
Front ends (:class:`STFTMagnitude`, :class:`StandardizeLeads`,
:class:`SelectColumns`) prepare a branch's input; :class:`GatedFusionHead`
and :class:`MultiBranchNetwork` fuse the branches. The stateless kernels
(STFT, crops, sliding windows, segment pairs) are in
:mod:`sklearn_ecg.nn.functional`.
"""

from ._arcface import ArcMarginHead, IdentificationNetwork
from ._cmsc import cmsc_loss
from ._contrastive import ContrastivePretrainingNetwork
from ._dino import DINOHead, DINOLoss, SelfDistillation
from ._ecg_transformer import (
    ECG_TRANSFORMER_PRESETS,
    ECGTransformer,
    build_ecg_transformer,
)
from ._factory import ENCODER_PRESETS, build_encoder, load_encoder_state
from ._front_ends import SelectColumns, StandardizeLeads, STFTMagnitude
from ._fusion import GatedFusionHead, MultiBranchNetwork
from ._pooling import MeanOverFrames
from ._quantizer import GumbelVectorQuantizer
from ._se_resnet import SEResNet
from ._wav2vec2 import Wav2Vec2Objective, sample_negative_indices, span_mask
from ._xresnet1d import XResNet1d

__all__ = [
    "ArcMarginHead",
    "ECG_TRANSFORMER_PRESETS",
    "ENCODER_PRESETS",
    "ContrastivePretrainingNetwork",
    "DINOHead",
    "DINOLoss",
    "ECGTransformer",
    "GatedFusionHead",
    "GumbelVectorQuantizer",
    "IdentificationNetwork",
    "MeanOverFrames",
    "MultiBranchNetwork",
    "SEResNet",
    "STFTMagnitude",
    "SelectColumns",
    "SelfDistillation",
    "StandardizeLeads",
    "Wav2Vec2Objective",
    "XResNet1d",
    "build_ecg_transformer",
    "build_encoder",
    "cmsc_loss",
    "load_encoder_state",
    "sample_negative_indices",
    "span_mask",
]
