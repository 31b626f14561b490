"""Gumbel-softmax vector quantiser (wav2vec 2.0's targets)."""

import torch
import torch.nn.functional as F
from torch import nn


def _rand(shape, generator, device):
    """Uniform draws made on the generator's device, moved to ``device``."""
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


class GumbelVectorQuantizer(nn.Module):
    """Quantise frames to one entry per codebook group, by a straight-through Gumbel softmax.

    Each frame is mapped to ``n_groups * n_entries`` logits; in training a
    Gumbel softmax at the current temperature picks one entry per group
    (hard one-hot forward, soft gradient backward), in evaluation the
    largest logit does. The chosen entries, ``code_dim // n_groups``
    features each, are concatenated. The temperature starts at
    ``temperature[0]`` and is multiplied by ``temperature[2]`` after every
    training call, down to ``temperature[1]``.

    Parameters
    ----------
    in_features : int
        Features per input frame.
    n_groups : int, default=2
        Codebooks.
    n_entries : int, default=320
        Entries per codebook.
    code_dim : int, default=256
        Size of a quantised frame; must be a multiple of ``n_groups``.
    temperature : (float, float, float), default=(2.0, 0.5, 0.999995)
        Start, floor and per-update decay of the Gumbel softmax temperature.

    Attributes
    ----------
    n_updates : torch.Tensor
        Training calls so far (a buffer, saved with the weights).

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import GumbelVectorQuantizer
    >>> quantizer = GumbelVectorQuantizer(16, n_groups=2, n_entries=8, code_dim=6)
    >>> out = quantizer(torch.randn(3, 5, 16), torch.Generator().manual_seed(0))
    >>> out["codes"].shape, float(out["temperature"])
    (torch.Size([3, 5, 6]), 2.0)
    >>> 1 <= float(out["code_perplexity"]) <= 16
    True
    """

    def __init__(self, in_features, n_groups=2, n_entries=320, code_dim=256, temperature=(2.0, 0.5, 0.999995)):
        super().__init__()
        if code_dim % n_groups:
            raise ValueError(f"code_dim={code_dim} must be a multiple of n_groups={n_groups}.")
        start, floor, decay = temperature
        if not 0 < floor <= start or not 0 < decay <= 1:
            raise ValueError(f"temperature must be (start, floor, decay) with 0 < floor <= start and "
                             f"0 < decay <= 1, got {temperature!r}.")
        self.n_groups, self.n_entries = n_groups, n_entries
        self.temperature = tuple(temperature)
        self.codebook = nn.Parameter(torch.empty(n_groups, n_entries, code_dim // n_groups))
        nn.init.uniform_(self.codebook)
        self.logits = nn.Linear(in_features, n_groups * n_entries)
        nn.init.normal_(self.logits.weight, mean=0.0, std=1.0)
        nn.init.zeros_(self.logits.bias)
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    @property
    def n_codes(self):
        """Number of entries over all groups, the maximum of the perplexities."""
        return self.n_groups * self.n_entries

    def current_temperature(self):
        """The Gumbel softmax temperature after :attr:`n_updates` training calls."""
        start, floor, decay = self.temperature
        return max(start * decay ** int(self.n_updates), floor)

    def forward(self, x, generator):
        """Quantise ``x`` of shape (..., in_features).

        Parameters
        ----------
        x : torch.Tensor of shape (..., in_features)
            Frames.
        generator : torch.Generator
            Source of the Gumbel noise (used in training only), on the CPU
            or on ``x``'s device.

        Returns
        -------
        out : dict
            ``codes`` (..., code_dim); ``indices`` (..., n_groups), the
            entry chosen in each group; ``prob_perplexity``, the perplexity
            of the softmax probabilities averaged over frames, summed over
            groups (the diversity loss maximises it); ``code_perplexity``,
            the same of the chosen entries; ``temperature`` used.
        """
        logits = self.logits(x).reshape(-1, self.n_groups, self.n_entries).float()
        hard = F.one_hot(logits.argmax(-1), self.n_entries).to(logits.dtype)
        temperature = self.current_temperature()
        if self.training:
            uniform = _rand(logits.shape, generator, logits.device)
            gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1 - 1e-7)))
            soft = torch.softmax((logits + gumbel) / temperature, dim=-1)
            onehot = F.one_hot(soft.argmax(-1), self.n_entries).to(soft.dtype) - soft.detach() + soft
            self.n_updates += 1
        else:
            onehot = hard
        codes = torch.einsum("ngv,gvd->ngd", onehot.to(x.dtype), self.codebook)
        return {
            "codes": codes.reshape(x.shape[:-1] + (-1,)),
            "indices": onehot.detach().argmax(-1).reshape(x.shape[:-1] + (self.n_groups,)),
            "prob_perplexity": _perplexity(torch.softmax(logits, dim=-1).mean(dim=0)),
            "code_perplexity": _perplexity(hard.mean(dim=0)),
            "temperature": torch.tensor(temperature, device=logits.device),
        }


def _perplexity(probs):
    """exp(entropy) of each group's distribution (groups, entries), summed over groups."""
    return torch.exp(-(probs * torch.log(probs + 1e-7)).sum(dim=-1)).sum()
