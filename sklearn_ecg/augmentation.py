"""Training-time augmentations of batches of signals or spectrograms.

These are applied per batch inside the estimators' torch training loops
(random lead masking for lead-agnostic models, the views of self-knowledge
distillation). They are never a step of a :class:`~sklearn.pipeline.Pipeline`
and never touch validation or test data.

Every augmentation is a small picklable object called as
``augmentation(x, generator)``:

- ``x`` is a batch of time series ``(batch, n_leads, n_times)`` or of
  spectrograms ``(batch, n_leads, n_freqs, n_frames)``, on any device;
- all randomness comes from ``generator`` (a ``torch.Generator``, on the
  CPU or on ``x``'s device), so the same seed gives the same output; a
  generator on ``x``'s device avoids moving random values between devices;
- the result is a new tensor of the shape, dtype and device of ``x``;
  ``x`` itself is never modified.

Time runs along the last axis (samples, or frames of a spectrogram), leads
along axis 1. Random draws are made for the whole batch at once.
"""

import torch

__all__ = [
    "Compose",
    "FrequencyCutout",
    "GaussianNoise",
    "LeadTimeCutout",
    "RandomLeadMasking",
    "RandomResizedCrop",
    "SpectrogramTimeCrop",
    "TimeCutout",
]


class _Augmentation:
    """Shared repr and batch validation."""

    _min_ndim = 3

    def __repr__(self):
        params = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({params})"

    def _check(self, x):
        if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
            raise TypeError(f"{type(self).__name__} expects a floating point torch.Tensor, got "
                            f"{type(x).__name__} {getattr(x, 'dtype', '')}.")
        if x.ndim < self._min_ndim or x.shape[-1] < 1:
            raise ValueError(f"{type(self).__name__} expects a batch of at least {self._min_ndim} dimensions "
                             f"with a non-empty last axis, got shape {tuple(x.shape)}.")


def _check_range(value, name, low, high):
    """A (min, max) pair within [low, high]."""
    try:
        first, second = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max), got {value!r}.") from None
    if not low <= first <= second <= high:
        raise ValueError(f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}.")
    return first, second


def _uniform(generator, shape, bounds, x):
    """Uniform draws in ``bounds``, made on the generator's device, moved to x's."""
    low, high = bounds
    draws = torch.rand(shape, generator=generator, device=generator.device)
    return (low + (high - low) * draws).to(device=x.device)


def _runs(x, fraction, generator, min_length):
    """Random runs along the last axis, one per entry of ``fraction``.

    Each run covers ``round(fraction * n)`` of the ``n`` positions (at least
    ``min_length``), starting uniformly where it fits. Returns ``(starts,
    lengths)`` as integer tensors on x's device, of the shape of ``fraction``.
    """
    n = x.shape[-1]
    lengths = torch.clamp(torch.round(fraction * n), min_length, n)
    offsets = _uniform(generator, fraction.shape, (0.0, 1.0), x)
    starts = torch.minimum(torch.floor(offsets * (n - lengths + 1)), n - lengths)
    return starts.long(), lengths.long()


def _inside(x, starts, lengths):
    """Mask of positions ``starts <= t < starts + lengths`` along the last axis.

    ``starts`` and ``lengths`` have the shape of x's leading axes (or a
    prefix of them); the mask broadcasts against ``x``.
    """
    t = torch.arange(x.shape[-1], device=x.device)
    starts = starts.reshape(starts.shape + (1,) * (x.ndim - starts.ndim))
    lengths = lengths.reshape(starts.shape)
    return (t >= starts) & (t < starts + lengths)


class RandomLeadMasking(_Augmentation):
    """Zero each lead of each item independently with probability ``p``.

    Random lead masking of Oh et al. (2022): zeroed leads stay at their
    index, so that a model learns to work on any subset of the leads.

    Parameters
    ----------
    p : float, default=0.5
        Probability that a lead is zeroed.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import RandomLeadMasking
    >>> x = torch.ones(4, 12, 100)
    >>> y = RandomLeadMasking(p=0.5)(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool(((y == 0) | (y == 1)).all()), bool((x == 1).all())
    (torch.Size([4, 12, 100]), True, True)
    """

    _min_ndim = 2

    def __init__(self, p=0.5):
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p!r}.")
        self.p = p

    def __call__(self, x, generator):
        self._check(x)
        masked = _uniform(generator, x.shape[:2], (0.0, 1.0), x) < self.p
        masked = masked.reshape(x.shape[:2] + (1,) * (x.ndim - 2))
        return torch.where(masked, torch.zeros((), dtype=x.dtype, device=x.device), x)


class RandomResizedCrop(_Augmentation):
    """Crop a random stretch of each item and stretch it back to full length.

    A fraction of the samples drawn uniformly from ``scale`` (per item,
    shared by its leads) is cut out and resized to the original length by
    linear interpolation.

    Parameters
    ----------
    scale : (float, float), default=(0.5, 1.0)
        Range of the kept fraction, within (0, 1].

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import RandomResizedCrop
    >>> x = torch.linspace(0, 1, 250).repeat(8, 12, 1)
    >>> y = RandomResizedCrop(scale=(0.5, 1.0))(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool((y[:, :, 1:] >= y[:, :, :-1]).all())
    (torch.Size([8, 12, 250]), True)
    """

    def __init__(self, scale=(0.5, 1.0)):
        _check_range(scale, "scale", 1e-9, 1.0)
        self.scale = scale

    def __call__(self, x, generator):
        self._check(x)
        n = x.shape[-1]
        starts, lengths = _runs(x, _uniform(generator, x.shape[:1], self.scale, x), generator, 1)
        # Output sample j reads the crop at start + j (length - 1) / (n - 1).
        dtype = torch.promote_types(x.dtype, torch.float32)
        step = (lengths - 1).to(dtype) / max(n - 1, 1)
        position = starts[:, None] + step[:, None] * torch.arange(n, device=x.device, dtype=dtype)
        left = torch.clamp(torch.floor(position).long(), 0, n - 1)
        right = torch.clamp(left + 1, max=n - 1)
        weight = (position - left).to(x.dtype).reshape(x.shape[:1] + (1,) * (x.ndim - 2) + (n,))
        return _gather_last(x, left) * (1 - weight) + _gather_last(x, right) * weight


class LeadTimeCutout(_Augmentation):
    """Zero a random stretch of each lead, independently per lead.

    Parameters
    ----------
    scale : (float, float), default=(0.2, 0.4)
        Range of the zeroed fraction of the samples, drawn per lead.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import LeadTimeCutout
    >>> y = LeadTimeCutout(scale=(0.2, 0.2))(torch.ones(2, 12, 100), torch.Generator().manual_seed(0))
    >>> (y == 0).sum(dim=-1).unique()
    tensor([20])
    """

    def __init__(self, scale=(0.2, 0.4)):
        _check_range(scale, "scale", 0.0, 1.0)
        self.scale = scale

    def __call__(self, x, generator):
        self._check(x)
        starts, lengths = _runs(x, _uniform(generator, x.shape[:2], self.scale, x), generator, 0)
        return _zero_runs(x, starts, lengths)


class GaussianNoise(_Augmentation):
    """Add Gaussian noise with a standard deviation drawn per item.

    Parameters
    ----------
    sigma : (float, float), default=(0.005, 0.025)
        Range of the noise's standard deviation, in the units of ``x``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import GaussianNoise
    >>> y = GaussianNoise(sigma=(0.01, 0.01))(torch.zeros(4, 12, 1000), torch.Generator().manual_seed(0))
    >>> round(float(y.std()), 3)
    0.01
    """

    def __init__(self, sigma=(0.005, 0.025)):
        _check_range(sigma, "sigma", 0.0, float("inf"))
        self.sigma = sigma

    def __call__(self, x, generator):
        self._check(x)
        sigma = _uniform(generator, x.shape[:1], self.sigma, x)
        noise = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
        return x + noise.to(x.device) * sigma.to(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))


class SpectrogramTimeCrop(_Augmentation):
    """Keep a random run of frames, moved to the start, and zero the rest.

    Parameters
    ----------
    scale : (float, float), default=(0.6, 1.0)
        Range of the kept fraction of the frames, drawn per item.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import SpectrogramTimeCrop
    >>> x = torch.arange(1.0, 11.0).repeat(2, 12, 13, 1)
    >>> SpectrogramTimeCrop(scale=(0.5, 0.5))(x, torch.Generator().manual_seed(1))[:, 0, 0]
    tensor([[3., 4., 5., 6., 7., 0., 0., 0., 0., 0.],
            [5., 6., 7., 8., 9., 0., 0., 0., 0., 0.]])
    """

    def __init__(self, scale=(0.6, 1.0)):
        _check_range(scale, "scale", 1e-9, 1.0)
        self.scale = scale

    def __call__(self, x, generator):
        self._check(x)
        n = x.shape[-1]
        starts, lengths = _runs(x, _uniform(generator, x.shape[:1], self.scale, x), generator, 1)
        index = torch.clamp(starts[:, None] + torch.arange(n, device=x.device), max=n - 1)
        return _zero_runs(_gather_last(x, index), lengths, n - lengths)


class TimeCutout(_Augmentation):
    """Zero a random run of frames (all leads and frequencies) per item.

    Parameters
    ----------
    scale : (float, float), default=(0.1, 0.35)
        Range of the zeroed fraction of the frames.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import TimeCutout
    >>> y = TimeCutout(scale=(0.2, 0.2))(torch.ones(2, 12, 13, 20), torch.Generator().manual_seed(0))
    >>> (y == 0).all(dim=(1, 2)).sum(dim=1)  # zeroed frames per item
    tensor([4, 4])
    """

    def __init__(self, scale=(0.1, 0.35)):
        _check_range(scale, "scale", 0.0, 1.0)
        self.scale = scale

    def __call__(self, x, generator):
        self._check(x)
        starts, lengths = _runs(x, _uniform(generator, x.shape[:1], self.scale, x), generator, 0)
        return _zero_runs(x, starts, lengths)


class FrequencyCutout(_Augmentation):
    """Zero one random band of frequencies (all leads and frames) per item.

    Parameters
    ----------
    max_width : int, default=3
        Widest band, in frequency bins; the width is drawn uniformly from
        ``1 .. max_width`` (at most the number of bins).

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import FrequencyCutout
    >>> y = FrequencyCutout(max_width=3)(torch.ones(8, 12, 13, 21), torch.Generator().manual_seed(0))
    >>> width = (y == 0).all(dim=(1, 3)).sum(dim=1)
    >>> bool(((width >= 1) & (width <= 3)).all())
    True
    """

    _min_ndim = 4

    def __init__(self, max_width=3):
        if isinstance(max_width, bool) or int(max_width) != max_width or max_width < 1:
            raise ValueError(f"max_width must be a positive integer, got {max_width!r}.")
        self.max_width = max_width

    def __call__(self, x, generator):
        self._check(x)
        n_freqs = x.shape[-2]
        widest = min(int(self.max_width), n_freqs)
        draws = _uniform(generator, (2, x.shape[0]), (0.0, 1.0), x)
        widths = 1 + torch.floor(draws[0] * widest).clamp(max=widest - 1)
        starts = torch.floor(draws[1] * (n_freqs - widths + 1)).clamp(max=n_freqs - widths)
        # The band along the frequency axis: move it last for _inside.
        band = _inside(x.transpose(-1, -2), starts.long(), widths.long()).transpose(-1, -2)
        return torch.where(band, torch.zeros((), dtype=x.dtype, device=x.device), x)


class Compose:
    """Apply augmentations one after the other.

    Parameters
    ----------
    augmentations : sequence of callables
        Each called as ``augmentation(x, generator)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.augmentation import Compose, GaussianNoise, RandomLeadMasking
    >>> augment = Compose([GaussianNoise(), RandomLeadMasking(p=1.0)])
    >>> bool((augment(torch.ones(2, 12, 50), torch.Generator().manual_seed(0)) == 0).all())
    True
    """

    def __init__(self, augmentations):
        self.augmentations = list(augmentations)
        for augmentation in self.augmentations:
            if not callable(augmentation):
                raise TypeError(f"Augmentations must be callables (x, generator) -> x, got {augmentation!r}.")

    def __call__(self, x, generator):
        for augmentation in self.augmentations:
            x = augmentation(x, generator)
        return x.clone() if not self.augmentations else x

    def __repr__(self):
        return f"Compose({self.augmentations!r})"


def _gather_last(x, index):
    """``x[b, ..., index[b, j]]``: per-item positions along the last axis."""
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    gathered = torch.gather(flat, -1, index[:, None, :].expand(-1, flat.shape[1], -1))
    return gathered.reshape(x.shape[:-1] + (index.shape[-1],))


def _zero_runs(x, starts, lengths):
    """Copy of ``x`` with the runs ``[starts, starts + lengths)`` of the last axis zeroed."""
    return torch.where(_inside(x, starts, lengths), torch.zeros((), dtype=x.dtype, device=x.device), x)
