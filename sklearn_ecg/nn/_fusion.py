"""Gate fusion of modality embeddings, and the multi-branch network around it.

The fusion of the multimodal self-KD paper (Phan et al. 2022): each branch
turns the same input into one embedding (a front end such as an STFT, then
an encoder), a softmax gate weighs the embeddings per sample, and a linear
head maps the weighted concatenation to one logit per class.
"""

import torch
from torch import nn

from ..preprocessing import stft_magnitude


class GatedFusionHead(nn.Module):
    """Weigh embeddings with a per-sample softmax gate, then classify them.

    With ``h = [h_1; ...; h_B]`` the concatenated embeddings of the ``B``
    branches: ``g = softmax(W_g h + b_g)``, ``z = [g_1 h_1; ...; g_B h_B]``
    and ``logits = W_2 (W_1 z + b_1) + b_2``, as in METHODS.md (no
    non-linearity between the two linear layers, as in the paper). With
    ``gate=False`` the embeddings are concatenated as they are (``g = 1``),
    the ablation baseline.

    Parameters
    ----------
    in_features : sequence of int
        Embedding size of each branch.
    n_classes : int
        Number of outputs (logits).
    hidden_features : int, default=512
        Output size of ``W_1``.
    gate : bool, default=True
        Weigh the branches with the gate; False concatenates them.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn._fusion import GatedFusionHead
    >>> head = GatedFusionHead([8, 4], n_classes=3, hidden_features=16)
    >>> logits, weights = head([torch.zeros(5, 8), torch.zeros(5, 4)])
    >>> logits.shape, weights.shape
    (torch.Size([5, 3]), torch.Size([5, 2]))
    >>> bool(torch.allclose(weights.sum(dim=1), torch.ones(5)))
    True
    """

    def __init__(self, in_features, n_classes, hidden_features=512, gate=True):
        super().__init__()
        self.in_features = tuple(int(size) for size in in_features)
        total = sum(self.in_features)
        self.gate = nn.Linear(total, len(self.in_features)) if gate else None
        self.hidden = nn.Linear(total, hidden_features)
        self.output = nn.Linear(hidden_features, n_classes)

    def forward(self, embeddings):
        """Logits ``(batch, n_classes)`` and gate weights ``(batch, n_branches)``.

        The weights are all ones without a gate.
        """
        h = torch.cat(list(embeddings), dim=1)
        if self.gate is None:
            weights = h.new_ones(h.shape[0], len(self.in_features))
            z = h
        else:
            weights = torch.softmax(self.gate(h), dim=1)
            sizes = torch.tensor(self.in_features, device=h.device)
            z = h * weights.repeat_interleave(sizes, dim=1)
        return self.output(self.hidden(z)), weights


class STFTMagnitude(nn.Module):
    """Front end turning signals ``(batch, leads, times)`` into STFT magnitudes.

    Differentiable and computed on the input's device, so that a
    spectrogram encoder can be fine-tuned on random crops of the signal.
    The parameters are those of
    :class:`~sklearn_ecg.preprocessing.STFTSpectrogram`; see
    :func:`~sklearn_ecg.preprocessing.stft_magnitude`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn._fusion import STFTMagnitude
    >>> STFTMagnitude(nperseg=25, noverlap=12)(torch.zeros(2, 12, 250)).shape
    torch.Size([2, 12, 13, 21])
    """

    def __init__(self, *, nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6):
        super().__init__()
        self.options = dict(nperseg=nperseg, noverlap=noverlap, nfft=nfft, window=window, log=log, eps=eps)

    def forward(self, x):
        """Magnitudes of shape (batch, leads, freqs, frames)."""
        return stft_magnitude(x, **self.options)

    def extra_repr(self):
        return ", ".join(f"{key}={value!r}" for key, value in self.options.items())


class StandardizeLeads(nn.Module):
    """Front end subtracting a mean and dividing by a scale, per lead.

    The torch counterpart of a fitted
    :class:`~sklearn_ecg.preprocessing.LeadStandardizer`, for signals
    ``(batch, leads, times)`` or spectrograms ``(batch, leads, freqs,
    frames)``.

    Parameters
    ----------
    mean, scale : array-like of shape (n_leads,)

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn._fusion import StandardizeLeads
    >>> StandardizeLeads([1.0, 0.0], [2.0, 1.0])(torch.ones(1, 2, 3))
    tensor([[[0., 0., 0.],
             [1., 1., 1.]]])
    """

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        """``(x - mean) / scale`` along axis 1."""
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.reshape(shape)) / self.scale.reshape(shape)


class SelectColumns(nn.Module):
    """Front end keeping some columns of a batch of feature vectors.

    Parameters
    ----------
    columns : sequence of int
        Indices of the columns to keep, in order.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn._fusion import SelectColumns
    >>> SelectColumns([2, 0])(torch.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 1.]])
    """

    def __init__(self, columns):
        super().__init__()
        # A buffer, so that the indices follow the module to its device.
        self.register_buffer("columns", torch.as_tensor(list(columns), dtype=torch.long))

    def forward(self, x):
        """Columns ``columns`` of ``x`` (batch, n_features)."""
        return x.index_select(1, self.columns)


class MultiBranchNetwork(nn.Module):
    """Branches that each embed the same input, fused by a :class:`GatedFusionHead`.

    Branch ``i`` computes ``encoders[i](front_ends[i](x))``; the head fuses
    the embeddings. For the paper's model, one branch is an XResNet1d on
    the signal and the other an SE-ResNet on its STFT magnitude
    (:class:`STFTMagnitude`); for pre-computed embeddings, the front ends
    select each modality's columns (:class:`SelectColumns`) and the
    encoders are identities.

    Parameters
    ----------
    encoders : sequence of torch.nn.Module
        One per branch, each mapping its front end's output to ``(batch,
        head.in_features[i])``.
    head : GatedFusionHead
    front_ends : sequence of torch.nn.Module or None, default=None
        One per branch; None gives identities.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import build_encoder
    >>> from sklearn_ecg.nn._fusion import GatedFusionHead, MultiBranchNetwork, STFTMagnitude
    >>> time, spectrogram = build_encoder("xresnet1d", "tiny"), build_encoder("se_resnet", "tiny")
    >>> network = MultiBranchNetwork(
    ...     [time, spectrogram],
    ...     GatedFusionHead([time.out_features, spectrogram.out_features], n_classes=24),
    ...     front_ends=[torch.nn.Identity(), STFTMagnitude()])
    >>> logits, weights = network(torch.zeros(2, 12, 250))
    >>> logits.shape, weights.shape
    (torch.Size([2, 24]), torch.Size([2, 2]))
    """

    def __init__(self, encoders, head, front_ends=None):
        super().__init__()
        encoders = list(encoders)
        front_ends = [nn.Identity() for _ in encoders] if front_ends is None else list(front_ends)
        if not (len(encoders) == len(front_ends) == len(head.in_features)):
            raise ValueError(
                f"Got {len(encoders)} encoders, {len(front_ends)} front ends and a head for "
                f"{len(head.in_features)} branches; they must match."
            )
        self.encoders = nn.ModuleList(encoders)
        self.front_ends = nn.ModuleList(front_ends)
        self.head = head

    def forward(self, x):
        """Logits ``(batch, n_classes)`` and gate weights ``(batch, n_branches)``."""
        return self.head([encoder(front(x)) for front, encoder in zip(self.front_ends, self.encoders)])
