"""Segment embeddings from an encoder that embeds frames."""

from torch import nn


class MeanOverFrames(nn.Module):
    """Embed a segment as the mean over frames of a frame encoder's output.

    Wraps an encoder mapping ``(batch, leads, times)`` to ``(batch, frames,
    features)``, such as :class:`ECGTransformer`, into one that maps it to
    ``(batch, features)``, the interface of :class:`XResNet1d` that
    :class:`MultiBranchNetwork` and the pretrainers' ``transform`` expect.

    Parameters
    ----------
    encoder : torch.nn.Module
        Frame encoder with an ``out_features`` attribute.

    Attributes
    ----------
    encoder : torch.nn.Module
        The wrapped encoder; its weights are this module's, under the
        prefix ``encoder.``.
    out_features : int
        Embedding size, that of ``encoder``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import MeanOverFrames, build_ecg_transformer
    >>> transformer = build_ecg_transformer("tiny")
    >>> embedder = MeanOverFrames(transformer).eval()
    >>> x = torch.randn(2, 12, 500)
    >>> embedder(x).shape
    torch.Size([2, 64])
    >>> bool(torch.allclose(embedder(x), transformer(x).mean(dim=1)))
    True
    """

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.out_features = encoder.out_features

    def forward(self, x):
        """Embeddings (batch, ``out_features``) of ``x`` (batch, leads, times)."""
        return self.encoder(x).mean(dim=1)
