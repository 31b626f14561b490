"""Encoder presets, a factory, and strict weight loading."""

from ._se_resnet import SEResNet
from ._xresnet1d import XResNet1d

_ENCODERS = {"xresnet1d": XResNet1d, "se_resnet": SEResNet}

# "paper" is the architecture of METHODS.md (512-d embeddings). "small" keeps
# four stages at a quarter of the compute, for a few hundred records on a
# CPU; "tiny" trains in seconds and is meant for tests and examples.
ENCODER_PRESETS = {
    "xresnet1d": {
        "tiny": dict(stem=(16, 16, 32), blocks=(1, 1), widths=(32, 32), expansion=1),
        "small": dict(stem=(16, 16, 32), blocks=(1, 1, 1, 1), widths=(32, 32, 32, 32), expansion=4),
        "paper": dict(stem=(32, 32, 64), blocks=(3, 4, 6, 3), widths=(64, 64, 64, 64), expansion=4),
    },
    "se_resnet": {
        "tiny": dict(stem=16, blocks=(1, 1), widths=(16, 32), reduction=4),
        "small": dict(stem=32, blocks=(1, 1, 1, 1), widths=(32, 64, 128, 256), reduction=16),
        "paper": dict(stem=64, blocks=(3, 4, 6, 3), widths=(64, 128, 256, 512), reduction=16),
    },
}
"""Constructor arguments of each encoder family (``"xresnet1d"``, ``"se_resnet"``) by size preset."""


def build_encoder(kind="xresnet1d", size="paper", in_channels=12):
    """Build an encoder from a preset.

    Parameters
    ----------
    kind : {"xresnet1d", "se_resnet"}, default="xresnet1d"
        ``"xresnet1d"`` embeds time series (batch, leads, times);
        ``"se_resnet"`` embeds spectrograms (batch, leads, freqs, frames).
    size : {"tiny", "small", "paper"}, default="paper"
        ``"paper"``: the architectures of the multimodal self-KD paper
        (XResNet1d-50 narrowed to 256 channels with concat pooling, and
        SE-ResNet34), both 512-d. ``"small"``: four stages with one block
        each (256-d), for a few hundred records on a CPU. ``"tiny"``: two
        stages with one block each (64-d and 32-d), trains in seconds.
    in_channels : int, default=12
        Number of input leads.

    Returns
    -------
    encoder : torch.nn.Module
        Maps a batch to embeddings of size ``encoder.out_features``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import build_encoder
    >>> encoder = build_encoder("xresnet1d", "tiny", in_channels=12)
    >>> encoder(torch.zeros(4, 12, 250)).shape == (4, encoder.out_features)
    True
    """
    if kind not in ENCODER_PRESETS:
        raise ValueError(f"Unknown encoder kind {kind!r}; expected one of {sorted(ENCODER_PRESETS)}.")
    presets = ENCODER_PRESETS[kind]
    if size not in presets:
        raise ValueError(f"Unknown encoder size {size!r}; expected one of {sorted(presets)}.")
    return _ENCODERS[kind](in_channels, **presets[size])


def load_encoder_state(encoder, state_dict):
    """Load weights into ``encoder`` strictly, with a clear error on mismatch.

    Every parameter and buffer must match by name and shape: a partial or
    misnamed load would otherwise leave random weights in place without a
    word (the flaw METHODS.md notes in the paper's public code).

    Parameters
    ----------
    encoder : torch.nn.Module
        Freshly built encoder of the architecture the weights come from.
    state_dict : dict
        Weights, e.g. ``other_encoder.state_dict()``.

    Returns
    -------
    encoder : torch.nn.Module
        The same module, with the weights loaded.

    Raises
    ------
    ValueError
        If names or shapes differ, listing the first differences.

    Examples
    --------
    >>> from sklearn_ecg.nn import build_encoder, load_encoder_state
    >>> source = build_encoder("se_resnet", "tiny", in_channels=12)
    >>> target = load_encoder_state(build_encoder("se_resnet", "tiny", in_channels=12),
    ...                             source.state_dict())
    """
    own = encoder.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    mismatched = sorted(
        f"{key}: {tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}"
        for key in set(own) & set(state_dict)
        if state_dict[key].shape != own[key].shape
    )
    if missing or unexpected or mismatched:
        raise ValueError(
            "The weights do not fit this encoder: "
            f"{len(missing)} missing (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]}), "
            f"{len(mismatched)} with another shape (e.g. {mismatched[:3]}). "
            "Build the encoder with the same kind, size and in_channels as the source."
        )
    encoder.load_state_dict(state_dict, strict=True)
    return encoder
