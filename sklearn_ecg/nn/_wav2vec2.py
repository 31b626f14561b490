"""wav2vec 2.0's objective: span masking, negatives, contrastive and auxiliary losses."""

import torch
import torch.nn.functional as F
from torch import nn

from ._quantizer import GumbelVectorQuantizer, _rand


def span_mask(shape, generator, *, mask_prob=0.65, span=10, min_spans=2, device=None):
    """Random spans of frames to mask, the same number of masked frames in every row.

    As wav2vec 2.0 (fairseq's ``compute_mask_indices``, static lengths,
    overlaps allowed): ``max(min_spans, int(mask_prob * n_frames / span + u))``
    span starts (``u`` uniform, one draw for the batch) are drawn without
    replacement per row, each masks ``span`` frames (cut at the end of the
    row); then rows with more masked frames than the least-masked one lose
    masked frames at random, so that every row has as many. At the paper's
    settings a row of 156 frames has about 49 % of them masked alone, 38 %
    in a batch of 32 rows.

    Parameters
    ----------
    shape : (int, int)
        ``(batch, n_frames)``.
    generator : torch.Generator
        Source of all draws.
    mask_prob : float, default=0.65
        Share of frames that start a span (before overlaps).
    span : int, default=10
        Frames per span.
    min_spans : int, default=2
        Fewest spans per row.
    device : torch.device, default=None
        Device of the mask; None: the generator's.

    Returns
    -------
    mask : torch.BoolTensor of shape (batch, n_frames)

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import span_mask
    >>> mask = span_mask((4, 156), torch.Generator().manual_seed(0))
    >>> mask.sum(dim=1).unique().numel()  # same count in every row
    1
    """
    batch, n_frames = shape
    device = generator.device if device is None else device
    n_spans = max(min_spans, int(mask_prob * n_frames / span + float(_rand((), generator, "cpu"))))
    # fairseq shortens the start range when the spans would not fit.
    n_starts = n_frames - span if n_frames - span > n_spans else n_spans + 1
    if n_starts > n_frames:
        raise ValueError(
            f"{n_frames} frames are too few for {n_spans} masked spans; use longer segments, smaller "
            "extractor strides, or fewer spans (min_spans)."
        )
    starts = _rand((batch, n_starts), generator, device).topk(n_spans, dim=1).indices
    positions = (starts[..., None] + torch.arange(span, device=device)).clamp(max=n_frames - 1)
    mask = torch.zeros(batch, n_frames, dtype=torch.bool, device=device)
    mask.scatter_(1, positions.reshape(batch, -1), True)
    n_masked = int(mask.sum(dim=1).min())
    # Keep n_masked of each row's masked frames, chosen at random.
    scores = torch.where(mask, _rand((batch, n_frames), generator, device), torch.tensor(-1.0, device=device))
    kept = scores.topk(n_masked, dim=1).indices
    return torch.zeros_like(mask).scatter_(1, kept, True)


def sample_negative_indices(batch, n_targets, n_negatives, generator, device=None):
    """For each target of each row, indices of other targets of the same row.

    Drawn uniformly with replacement among the row's ``n_targets - 1``
    other targets, so that a target is never its own negative (wav2vec
    2.0's sampling from the masked frames of the same sample).

    Parameters
    ----------
    batch, n_targets, n_negatives : int
        ``n_targets`` must be at least 2.
    generator : torch.Generator
        Source of the draws.
    device : torch.device, default=None
        Device of the result; None: the generator's.

    Returns
    -------
    indices : torch.LongTensor of shape (batch, n_targets, n_negatives)
        Values in ``[0, n_targets)``, never equal to the target's own index.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import sample_negative_indices
    >>> idx = sample_negative_indices(2, 5, 100, torch.Generator().manual_seed(0))
    >>> bool((idx != torch.arange(5)[:, None]).all())
    True
    """
    if n_targets < 2:
        raise ValueError(f"Negatives need at least 2 masked frames per row, got {n_targets}.")
    device = generator.device if device is None else device
    draws = _rand((batch, n_targets, n_negatives), generator, device)
    indices = torch.floor(draws * (n_targets - 1)).long().clamp(max=n_targets - 2)
    own = torch.arange(n_targets, device=device)[:, None]
    return indices + (indices >= own).long()


def _scale_gradient(x, scale):
    """``x`` in the forward pass, ``scale`` times its gradient in the backward pass."""
    return x if scale == 1 else x * scale + x.detach() * (1 - scale)


class Wav2Vec2Objective(nn.Module):
    """wav2vec 2.0's pretraining losses for an :class:`ECGTransformer`.

    The extractor's frames are layer-normalised; a copy (after
    ``target_dropout``) is quantised into the targets, the other is
    projected to the model width (after ``input_dropout``), spans of it are
    replaced by a learned mask embedding (:func:`span_mask`), and the
    transformer contextualises it. At each masked frame, the transformer
    output, projected to ``final_dim``, is compared by cosine similarity
    over ``logit_temperature`` with the frame's quantised target and with
    ``n_negatives`` targets of other masked frames of the same segment
    (:func:`sample_negative_indices`); the loss is the cross-entropy of
    picking the target. A negative equal to the target is ignored.

    This module holds the parts used only in pretraining (quantiser,
    projections, mask embedding); the encoder is passed to
    :meth:`forward`, so that its weights stay its own.

    Parameters
    ----------
    conv_channels : int
        Features per extractor frame of the encoder.
    width : int
        Model width of the encoder.
    mask_prob, mask_length, min_masks : float, int, int, default=0.65, 10, 2
        Span masking, see :func:`span_mask`.
    n_negatives : int, default=100
        Negatives per masked frame.
    logit_temperature : float, default=0.1
        Divides the cosine similarities.
    final_dim : int, default=256
        Size in which predictions and targets are compared.
    codebook_groups, codebook_entries, code_dim : int, default=2, 320, 256
        Quantiser, see :class:`GumbelVectorQuantizer`.
    quantizer_temperature : (float, float, float), default=(2.0, 0.5, 0.999995)
        Gumbel softmax temperature: start, floor, decay per training call.
    input_dropout, target_dropout : float, default=0.1, 0.1
        Dropout of the projected frames before masking and of the frames
        before quantisation (fairseq's ``dropout_input`` and
        ``dropout_features``).
    feature_grad_scale : float, default=0.1
        Multiplies the gradient that reaches the extractor (fairseq's
        ``feature_grad_mult``); the forward pass is unchanged.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import Wav2Vec2Objective, build_ecg_transformer
    >>> encoder = build_ecg_transformer("tiny")
    >>> objective = Wav2Vec2Objective(64, 64, codebook_entries=16, code_dim=32, final_dim=32)
    >>> out = objective(encoder, torch.randn(2, 12, 1000), torch.Generator().manual_seed(0))
    >>> sorted(k for k in out if out[k].ndim == 0)
    ['code_perplexity', 'diversity', 'feature_penalty', 'temperature', 'w2v', 'w2v_accuracy']
    >>> out["context"].shape  # transformer output of the masked input
    torch.Size([2, 62, 64])
    """

    def __init__(
        self,
        conv_channels,
        width,
        *,
        mask_prob=0.65,
        mask_length=10,
        min_masks=2,
        n_negatives=100,
        logit_temperature=0.1,
        final_dim=256,
        codebook_groups=2,
        codebook_entries=320,
        code_dim=256,
        quantizer_temperature=(2.0, 0.5, 0.999995),
        input_dropout=0.1,
        target_dropout=0.1,
        feature_grad_scale=0.1,
    ):
        super().__init__()
        self.mask_prob, self.mask_length, self.min_masks = mask_prob, mask_length, min_masks
        self.n_negatives = n_negatives
        self.logit_temperature = logit_temperature
        self.feature_grad_scale = feature_grad_scale
        self.quantizer = GumbelVectorQuantizer(
            conv_channels, codebook_groups, codebook_entries, code_dim, quantizer_temperature,
        )
        self.target_projection = nn.Linear(code_dim, final_dim)
        self.prediction_projection = nn.Linear(width, final_dim)
        self.mask_embedding = nn.Parameter(torch.empty(width).uniform_())
        self.input_dropout = nn.Dropout(input_dropout)
        self.target_dropout = nn.Dropout(target_dropout)

    def forward(self, encoder, x, generator):
        """Losses of a batch of segments.

        Parameters
        ----------
        encoder : ECGTransformer
            The encoder being pretrained.
        x : torch.Tensor of shape (batch, leads, times)
            Segments.
        generator : torch.Generator
            Source of the masks, negatives and Gumbel noise.

        Returns
        -------
        out : dict of torch.Tensor
            ``w2v`` (contrastive cross-entropy), ``diversity`` (``1 -
            prob_perplexity / n_codes``), ``feature_penalty`` (mean square
            of the extractor's output), ``w2v_accuracy`` (share of masked
            frames whose target scores highest), ``code_perplexity``,
            ``temperature``, and ``context``, the transformer output
            (batch, frames, width) of the masked input.
        """
        encoder._check_input(x)
        features = _scale_gradient(encoder.feature_extractor(x), self.feature_grad_scale)
        penalty = features.float().pow(2).mean()
        frames = encoder.feature_norm(features.transpose(1, 2))
        batch, n_frames, _ = frames.shape
        mask = span_mask(
            (batch, n_frames), generator, mask_prob=self.mask_prob, span=self.mask_length,
            min_spans=self.min_masks, device=x.device,
        )
        inputs = self.input_dropout(encoder.feature_projection(frames))
        inputs = torch.where(mask[..., None], self.mask_embedding.to(inputs.dtype), inputs)
        context = encoder.contextualize(inputs)
        n_masked = int(mask[0].sum())
        quantized = self.quantizer(self.target_dropout(frames)[mask].reshape(batch, n_masked, -1), generator)
        targets = self.target_projection(quantized["codes"])
        predictions = self.prediction_projection(context[mask].reshape(batch, n_masked, -1))
        logits = self._logits(predictions, targets, quantized["indices"], generator)
        flat = logits.reshape(-1, logits.shape[-1])
        zeros = torch.zeros(len(flat), dtype=torch.long, device=flat.device)
        return {
            "w2v": F.cross_entropy(flat, zeros),
            "diversity": 1 - quantized["prob_perplexity"] / self.quantizer.n_codes,
            "feature_penalty": penalty,
            "w2v_accuracy": (flat.detach().argmax(dim=1) == 0).float().mean(),
            "code_perplexity": quantized["code_perplexity"].detach(),
            "temperature": quantized["temperature"],
            "context": context,
        }

    def _logits(self, predictions, targets, codes, generator):
        """(batch, masked, 1 + n_negatives) scores, the target first.

        ``codes`` (batch, masked, groups) are the quantiser's entries of the
        targets: equal entries, equal targets.
        """
        batch, n_masked, _ = targets.shape
        indices = sample_negative_indices(batch, n_masked, self.n_negatives, generator, targets.device)
        # Cosines of every prediction with every target of its segment, then
        # the negatives' columns: (batch, masked, masked) is far smaller than
        # the negatives themselves (batch, masked, n_negatives, final_dim).
        cosines = F.normalize(predictions.float(), dim=-1, eps=1e-8) @ F.normalize(
            targets.float(), dim=-1, eps=1e-8).transpose(1, 2)
        logits = cosines / self.logit_temperature
        positive = logits.diagonal(dim1=1, dim2=2)[..., None]
        negatives = logits.gather(2, indices)
        # A negative quantised to the target's entries cannot be told apart.
        same = (codes[:, :, None] == codes[:, None, :]).all(dim=-1).gather(2, indices)
        return torch.cat([positive, negatives.masked_fill(same, float("-inf"))], dim=-1)
