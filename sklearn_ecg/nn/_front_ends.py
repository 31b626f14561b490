"""Front ends: torch modules that prepare a branch's input before its encoder.

The torch counterparts of the signal transformers (STFT magnitudes,
per-lead standardisation), applied to every training crop inside the
fused network, and the column selection of feature input.
"""

import torch
from torch import nn

from .functional import stft_hop_and_nfft, stft_magnitude, stft_window


class STFTMagnitude(nn.Module):
    """Front end turning signals ``(batch, leads, times)`` into STFT magnitudes.

    Differentiable and computed on the input's device, so that a
    spectrogram encoder can be fine-tuned on random crops of the signal.
    The options are those of :func:`~sklearn_ecg.nn.functional.stft_magnitude`,
    all required; :meth:`STFTSpectrogram.to_torch()
    <sklearn_ecg.preprocessing.STFTSpectrogram.to_torch>` builds this module
    with a transformer's options (by default the paper's).

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import STFTMagnitude
    >>> stft = STFTMagnitude(nperseg=25, noverlap=12, nfft=None, window="hann", log=False, eps=1e-6)
    >>> stft(torch.zeros(2, 12, 250)).shape
    torch.Size([2, 12, 13, 21])
    """

    def __init__(self, *, nperseg, noverlap, nfft, window, log, eps):
        super().__init__()
        stft_hop_and_nfft(nperseg, noverlap, nfft)  # bad options fail here, not at the first batch
        stft_window(window, nperseg)
        self.options = {"nperseg": nperseg, "noverlap": noverlap, "nfft": nfft, "window": window, "log": log,
                        "eps": eps}

    def forward(self, x):
        """Magnitudes of shape (batch, leads, freqs, frames)."""
        return stft_magnitude(x, **self.options)

    def extra_repr(self):
        return ", ".join(f"{key}={value!r}" for key, value in self.options.items())


class StandardizeLeads(nn.Module):
    """Front end subtracting a mean and dividing by a scale, per lead.

    The torch counterpart of a fitted
    :class:`~sklearn_ecg.preprocessing.LeadStandardizer` (see its
    :meth:`~sklearn_ecg.preprocessing.LeadStandardizer.to_torch`), for
    signals ``(batch, leads, times)`` or spectrograms ``(batch, leads,
    freqs, frames)``. Every lead is standardised, all-zero ones included.

    Parameters
    ----------
    mean, scale : array-like of shape (n_leads,)

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import StandardizeLeads
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
    >>> from sklearn_ecg.nn import SelectColumns
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
