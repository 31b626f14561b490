"""ArcFace: an additive angular margin head for learning identity embeddings."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class ArcMarginHead(nn.Module):
    """Additive angular margin logits (ArcFace, Deng et al. 2019).

    Each identity has a learned unit centre; the logit of an embedding for
    an identity is ``scale * cos(theta)``, theta the angle between the
    normalised embedding and the centre. In training (``identities`` given)
    the true identity's angle is widened by ``margin`` radians, so that the
    cross-entropy of these logits pulls a record's embeddings together on
    the sphere and pushes the identities apart by at least the margin.

    Parameters
    ----------
    in_features : int
        Embedding size.
    n_identities : int
        Identities of the training data.
    scale : float, default=30.0
        Radius of the sphere (the logits' scale).
    margin : float, default=0.5
        Additive angular margin in radians.

    Examples
    --------
    >>> import torch
    >>> head = ArcMarginHead(8, 3)
    >>> embeddings, identities = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    >>> head(embeddings, identities).shape
    torch.Size([4, 3])
    >>> bool((head(embeddings, identities) <= head(embeddings)).all())  # the margin only lowers logits
    True
    """

    def __init__(self, in_features, n_identities, scale=30.0, margin=0.5):
        super().__init__()
        self.centres = nn.Parameter(torch.empty(n_identities, in_features))
        nn.init.xavier_uniform_(self.centres)
        self.scale = scale
        self.margin = margin

    def forward(self, embeddings, identities=None):
        """``(batch, n_identities)`` logits; with ``identities``, the true ones with the margin."""
        cosine = F.linear(F.normalize(embeddings.float()), F.normalize(self.centres.float()))
        if identities is None:
            return self.scale * cosine
        target = cosine.gather(1, identities[:, None])
        sine = (1.0 - target.square()).clamp_min(0.0).sqrt()
        widened = target * math.cos(self.margin) - sine * math.sin(self.margin)
        # Beyond pi - margin, cos(theta + margin) would rise again: ArcFace's
        # linear continuation keeps the logit decreasing in theta there.
        widened = torch.where(target > math.cos(math.pi - self.margin), widened,
                              target - math.sin(math.pi - self.margin) * self.margin)
        return self.scale * cosine.scatter(1, identities[:, None], widened)


class IdentificationNetwork(nn.Module):
    """An encoder and an :class:`ArcMarginHead`: windows ``(batch, leads, times)`` to identity logits.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch of windows to ``(batch, encoder.out_features)``.
    n_identities : int
    scale, margin : float
        Those of :class:`ArcMarginHead`.
    """

    def __init__(self, encoder, n_identities, scale=30.0, margin=0.5):
        super().__init__()
        self.encoder = encoder
        self.head = ArcMarginHead(encoder.out_features, n_identities, scale, margin)

    def forward(self, x, identities=None):
        return self.head(self.encoder(x), identities)
