"""CMSC: contrastive multi-segment coding (adjacent segments of a record are positives)."""

import torch
import torch.nn.functional as F


def cmsc_loss(first, second, ids=None, *, temperature=0.1, eps=1e-8):
    """Symmetric InfoNCE between the embeddings of first and second segments.

    Both sets are L2-normalised; ``logits[i, j]`` is the cosine similarity
    of ``first[i]`` and ``second[j]`` over ``temperature``. Pairs ``(i, j)``
    with the same id are positives. The loss is half the mean, over
    positives, of ``-log_softmax`` along rows, plus half the same along
    columns (Kiyasseh et al., 2021, as fairseq-signals computes it).

    Parameters
    ----------
    first, second : torch.Tensor of shape (n_pairs, n_features)
        Embeddings of segment 0 and segment 1 of each pair.
    ids : torch.Tensor of shape (n_pairs,), default=None
        Record (or patient) of each pair; pairs of one record are all
        positives of each other. None: every pair is its own record.
    temperature : float, default=0.1
    eps : float, default=1e-8
        Smallest norm divided by, for all-zero embeddings.

    Returns
    -------
    loss : torch.Tensor
        Scalar; 0 for a single pair.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import cmsc_loss
    >>> z = torch.eye(3)
    >>> float(cmsc_loss(z, z)) < float(cmsc_loss(z, z.roll(1, dims=0)))
    True
    """
    if first.ndim != 2 or first.shape != second.shape:
        raise ValueError(
            f"first and second must both be (n_pairs, n_features), got {tuple(first.shape)} and "
            f"{tuple(second.shape)}."
        )
    if ids is None:
        ids = torch.arange(len(first), device=first.device)
    elif ids.shape != first.shape[:1]:
        raise ValueError(f"ids must have shape ({len(first)},), got {tuple(ids.shape)}.")
    logits = F.normalize(first, dim=1, eps=eps) @ F.normalize(second, dim=1, eps=eps).T / temperature
    positive = ids[:, None] == ids[None, :]
    by_row = -F.log_softmax(logits, dim=1)[positive].mean()
    by_column = -F.log_softmax(logits.T, dim=1)[positive.T].mean()
    return (by_row + by_column) / 2
