"""Gate fusion of modality embeddings, and the multi-branch network around it.

The fusion of the multimodal self-KD paper (Phan et al. 2022): each branch
turns the same input into one embedding (a front end such as an STFT, then
an encoder), a softmax gate weighs the embeddings per sample, and a linear
head maps the weighted concatenation to one logit per class.
"""

import torch
from torch import nn


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
    >>> from sklearn_ecg.nn import GatedFusionHead
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
    >>> from sklearn_ecg.nn import GatedFusionHead, MultiBranchNetwork, build_encoder
    >>> from sklearn_ecg.preprocessing import STFTSpectrogram
    >>> time, spectrogram = build_encoder("xresnet1d", "tiny"), build_encoder("se_resnet", "tiny")
    >>> network = MultiBranchNetwork(
    ...     [time, spectrogram],
    ...     GatedFusionHead([time.out_features, spectrogram.out_features], n_classes=24),
    ...     front_ends=[torch.nn.Identity(), STFTSpectrogram().to_torch()])
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
