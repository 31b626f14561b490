"""skorch plumbing of contrastive pretraining: the network, its loss and its train step.

Private to :class:`~sklearn_ecg.pretraining.ContrastivePretrainer`, which
builds the net inside ``fit``.
"""

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_device

from ..base import SeededNet
from ..nn import ContrastivePretrainingNetwork, MeanOverFrames, build_ecg_transformer, build_encoder

# What each objective reports besides the total loss, per batch and epoch.
W2V_TERMS = ("w2v", "diversity", "feature_penalty", "w2v_accuracy", "code_perplexity", "temperature")
CMSC_TERMS = ("cmsc",)


def objective_terms(objective):
    """Names of the values ``objective`` reports besides ``loss``."""
    return {"w2v": W2V_TERMS, "cmsc": CMSC_TERMS, "w2v+cmsc": W2V_TERMS + CMSC_TERMS}[objective]


def _bare_encoder(kind, size, in_channels, conv_strides):
    if kind == "transformer":
        return build_ecg_transformer(size, in_channels, conv_strides=tuple(conv_strides))
    return build_encoder(kind, size, in_channels)


def build_segment_encoder(kind, size, in_channels, conv_strides):
    """A preset encoder embedding a segment ``(batch, leads, times)`` as ``(batch, features)``.

    ``"transformer"``: an :class:`~sklearn_ecg.nn.ECGTransformer` with the
    extractor strides ``conv_strides``, its frames averaged
    (:class:`~sklearn_ecg.nn.MeanOverFrames`); ``"xresnet1d"``: the
    XResNet1d preset.
    """
    return as_segment_encoder(_bare_encoder(kind, size, in_channels, conv_strides), kind)


def as_segment_encoder(encoder, kind):
    """``encoder`` of family ``kind`` as a segment encoder: a transformer's frames are averaged."""
    return MeanOverFrames(encoder) if kind == "transformer" else encoder


def build_contrastive_network(kind, size, in_channels, conv_strides, objective, **params):
    """The pretraining network around a fresh encoder (the net's ``module``).

    It holds the bare transformer, whose frames wav2vec 2.0 masks; CMSC
    embeds a segment by the mean over frames, as
    :func:`build_segment_encoder`'s encoder does.
    """
    return ContrastivePretrainingNetwork(_bare_encoder(kind, size, in_channels, conv_strides), objective, **params)


class TotalLoss(torch.nn.Module):
    """Criterion reading the total loss the network computed."""

    def forward(self, out):
        return out["loss"]


class ContrastiveNet(SeededNet):
    """skorch net whose train step is one step of contrastive pretraining on segment pairs.

    ``module`` builds a :class:`~sklearn_ecg.nn.ContrastivePretrainingNetwork`
    and ``criterion`` a :class:`TotalLoss`. The data are the pairs (X) and
    the record of each pair (y): pairs of one record are all positives of
    each other in CMSC. Every random draw of the network (lead masks, span
    masks, negatives, Gumbel noise) comes from ``generator``. Each loss
    term and diagnostic is recorded per batch in the history.
    """

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        pairs, ids = unpack_data(batch)
        out = self.module_(to_device(pairs, self.device), self.generator, to_device(ids, self.device))
        loss = self.get_loss(out, training=True)
        loss.backward()
        for name, value in out.items():
            if name != "loss":
                self.history.record_batch(name, float(value.detach()))
        return {"loss": loss, "y_pred": out}

    def get_loss(self, y_pred, y_true=None, X=None, training=False):
        return self.criterion_(y_pred)
