"""Lead-agnostic contrastive pretraining: wav2vec 2.0 and/or CMSC, with random lead masking."""

import torch
from torch import nn

from ..augmentation import RandomLeadMasking
from ._cmsc import cmsc_loss
from ._ecg_transformer import ECGTransformer
from ._wav2vec2 import Wav2Vec2Objective

OBJECTIVES = ("w2v+cmsc", "w2v", "cmsc")


class ContrastivePretrainingNetwork(nn.Module):
    """An encoder and the losses of Oh et al. (CHIL 2022) on pairs of adjacent segments.

    A batch holds pairs of consecutive segments of records. In training,
    each lead of each segment is first zeroed with probability
    ``lead_mask_prob`` (random lead masking; the 12-lead layout is kept).
    Then, by ``objective``:

    - ``"w2v"``: :class:`Wav2Vec2Objective` on every segment (the encoder
      must be an :class:`ECGTransformer`);
    - ``"cmsc"``: :func:`cmsc_loss` between the embeddings of the first and
      second segments (any encoder that embeds a segment: its ``embed``
      method if it has one, else its output of shape (batch, features));
    - ``"w2v+cmsc"``: both, CMSC on the mean over frames of the
      transformer's output of the masked input, as fairseq-signals does.

    Total: ``w2v + diversity_weight * diversity + feature_penalty_weight *
    feature_penalty + cmsc_weight * cmsc``.

    Parameters
    ----------
    encoder : torch.nn.Module
        :class:`ECGTransformer` (any objective) or another segment encoder
        such as :class:`XResNet1d` (``"cmsc"`` only).
    objective : {"w2v+cmsc", "w2v", "cmsc"}, default="w2v+cmsc"
    lead_mask_prob : float, default=0.5
        Probability that a lead of a training segment is zeroed; 0 turns
        random lead masking off. Not applied in evaluation mode.
    cmsc_temperature : float, default=0.1
    cmsc_weight : float, default=1.0
    diversity_weight : float, default=0.1
    feature_penalty_weight : float, default=10.0
    projection_dim : int or None, default=None
        If set, CMSC compares the embeddings after a projection head
        (linear, ReLU, linear to ``projection_dim``; SimCLR's head), which
        is then dropped with the objective. None: the embeddings
        themselves, as the paper. Needs ``encoder.out_features``.
    **wav2vec2_params
        Arguments of :class:`Wav2Vec2Objective` other than the sizes, e.g.
        ``mask_prob=0.65``, ``n_negatives=100``, ``codebook_entries=320``;
        only with a wav2vec 2.0 objective.

    Attributes
    ----------
    encoder : torch.nn.Module
        The encoder being pretrained (what a downstream model keeps).
    wav2vec2 : Wav2Vec2Objective or None
        Parts used only in pretraining; None for ``"cmsc"``.
    projection : torch.nn.Module or None
        The CMSC projection head, used only in pretraining.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import ContrastivePretrainingNetwork, build_ecg_transformer
    >>> network = ContrastivePretrainingNetwork(
    ...     build_ecg_transformer("tiny"), "w2v+cmsc", codebook_entries=16, code_dim=32, final_dim=32)
    >>> out = network(torch.randn(4, 2, 12, 1000), torch.Generator().manual_seed(0))
    >>> out["loss"].backward()
    >>> sorted(out)
    ['cmsc', 'code_perplexity', 'diversity', 'feature_penalty', 'loss', 'temperature', 'w2v', 'w2v_accuracy']
    >>> network.embed(torch.randn(3, 12, 1000)).shape
    torch.Size([3, 64])
    """

    def __init__(
        self,
        encoder,
        objective="w2v+cmsc",
        *,
        lead_mask_prob=0.5,
        cmsc_temperature=0.1,
        cmsc_weight=1.0,
        diversity_weight=0.1,
        feature_penalty_weight=10.0,
        projection_dim=None,
        **wav2vec2_params,
    ):
        super().__init__()
        if objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {objective!r}; expected one of {OBJECTIVES}.")
        uses_w2v = objective != "cmsc"
        if uses_w2v and not isinstance(encoder, ECGTransformer):
            raise TypeError(
                f"objective={objective!r} needs an ECGTransformer encoder (wav2vec 2.0 masks its frames); "
                f"got {type(encoder).__name__}. Use objective='cmsc' with other encoders."
            )
        if projection_dim is not None and objective == "w2v":
            raise ValueError("projection_dim is a CMSC head; objective='w2v' has no CMSC term.")
        if wav2vec2_params and not uses_w2v:
            raise TypeError(f"objective='cmsc' takes no wav2vec 2.0 arguments, got {sorted(wav2vec2_params)}.")
        self.encoder = encoder
        self.objective = objective
        self.wav2vec2 = (
            Wav2Vec2Objective(encoder.conv_channels, encoder.out_features, **wav2vec2_params)
            if uses_w2v else None
        )
        self.projection = None
        if projection_dim is not None:
            width = encoder.out_features
            self.projection = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, projection_dim))
        self.lead_masking = RandomLeadMasking(lead_mask_prob) if lead_mask_prob else None
        self.cmsc_temperature = cmsc_temperature
        self.cmsc_weight = cmsc_weight
        self.diversity_weight = diversity_weight
        self.feature_penalty_weight = feature_penalty_weight

    def embed(self, x):
        """Segment embeddings (batch, features) of ``x`` of shape (batch, leads, times)."""
        embed = getattr(self.encoder, "embed", self.encoder)
        embeddings = embed(x)
        if embeddings.ndim != 2:
            raise ValueError(
                f"The encoder must embed a segment as a vector (batch, features) or have an embed "
                f"method; it returned shape {tuple(embeddings.shape)}."
            )
        return embeddings

    def forward(self, pairs, generator, ids=None):
        """Loss terms of a batch of segment pairs.

        Parameters
        ----------
        pairs : torch.Tensor of shape (batch, 2, leads, times)
            Consecutive segments: ``pairs[:, 0]`` precede ``pairs[:, 1]``.
        generator : torch.Generator
            Source of every random draw (lead masks, span masks, negatives,
            Gumbel noise), on the CPU or on the pairs' device. Dropout uses
            torch's global generator.
        ids : torch.Tensor of shape (batch,), default=None
            Record (or patient) of each pair, when a batch may hold several
            pairs of one record: CMSC then counts them all as positives.

        Returns
        -------
        out : dict of str to torch.Tensor
            ``loss`` (the total, to minimise); ``cmsc`` with a CMSC
            objective; ``w2v``, ``diversity``, ``feature_penalty``,
            ``w2v_accuracy``, ``code_perplexity`` and ``temperature`` with
            a wav2vec 2.0 objective (see :class:`Wav2Vec2Objective`).
        """
        self._check_pairs(pairs)
        batch = pairs.shape[0]
        segments = pairs.reshape((2 * batch,) + pairs.shape[2:])
        if self.training and self.lead_masking is not None:
            segments = self.lead_masking(segments, generator)
        out = {}
        if self.wav2vec2 is not None:
            out = self.wav2vec2(self.encoder, segments, generator)
            context = out.pop("context")
            loss = (out["w2v"] + self.diversity_weight * out["diversity"]
                    + self.feature_penalty_weight * out["feature_penalty"])
        else:
            loss = torch.zeros((), device=pairs.device)
        if self.objective != "w2v":
            embeddings = context.mean(dim=1) if self.wav2vec2 is not None else self.embed(segments)
            if self.projection is not None:
                embeddings = self.projection(embeddings)
            embeddings = embeddings.reshape(batch, 2, -1)
            out["cmsc"] = cmsc_loss(embeddings[:, 0], embeddings[:, 1], ids, temperature=self.cmsc_temperature)
            loss = loss + self.cmsc_weight * out["cmsc"]
        out["loss"] = loss
        return out

    def _check_pairs(self, pairs):
        n_leads = getattr(self.encoder, "in_channels", pairs.shape[2] if pairs.ndim == 4 else None)
        if pairs.ndim != 4 or pairs.shape[1] != 2 or pairs.shape[2] != n_leads:
            raise ValueError(
                f"pairs must have shape (batch, 2, {n_leads}, times): two consecutive segments of "
                f"{n_leads} leads per item; got {tuple(pairs.shape)}."
            )
