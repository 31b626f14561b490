"""The ECG transformer of the lead-agnostic paper (wav2vec 2.0's encoder for 12-lead ECGs)."""

import math

import torch
import torch.nn.functional as F
from torch import nn

# Model sizes. "paper" is the encoder of Oh et al. (2022), fairseq-signals'
# ecg_transformer. "small" and "tiny" train on a 2-core CPU on 5 s segments
# at 100 Hz; their shorter positional convolution spans about as many
# frames as such a segment has with the paper's strides (31).
ECG_TRANSFORMER_PRESETS = {
    "tiny": dict(conv_channels=64, width=64, n_layers=2, n_heads=4, ffn_width=256, pos_conv_kernel=32),
    "small": dict(conv_channels=128, width=128, n_layers=4, n_heads=4, ffn_width=512, pos_conv_kernel=32),
    "paper": dict(conv_channels=256, width=768, n_layers=12, n_heads=12, ffn_width=3072, pos_conv_kernel=128),
}
"""Constructor arguments of :class:`ECGTransformer` by size preset."""


class _ConvFeatureExtractor(nn.Sequential):
    """Strided convolutions without padding, GELU, group norm on the first layer only."""

    def __init__(self, in_channels, channels, kernel_sizes, strides):
        layers = []
        for i, (kernel_size, stride) in enumerate(zip(kernel_sizes, strides)):
            conv = nn.Conv1d(in_channels if i == 0 else channels, channels, kernel_size, stride=stride, bias=False)
            nn.init.kaiming_normal_(conv.weight)
            # One group per channel: each channel is normalised over time, as
            # in wav2vec 2.0's "default" extractor.
            norm = [nn.GroupNorm(channels, channels)] if i == 0 else []
            layers.append(nn.Sequential(conv, *norm, nn.GELU()))
        super().__init__(*layers)


class _ConvPositionalEncoding(nn.Module):
    """Grouped convolution over frames, weight-normalised per kernel position, then GELU.

    The weight is ``gain * direction / norm(direction)``, the norm taken
    over output and input channels at each kernel position (wav2vec 2.0's
    ``weight_norm(dim=2)``). It is written out rather than taken from
    ``torch.nn.utils.parametrizations``, whose modules cannot be pickled.
    """

    def __init__(self, width, kernel_size, groups):
        super().__init__()
        direction = torch.empty(width, width // groups, kernel_size)
        nn.init.normal_(direction, mean=0.0, std=math.sqrt(4.0 / (kernel_size * width)))
        self.direction = nn.Parameter(direction)
        self.gain = nn.Parameter(direction.norm(dim=(0, 1), keepdim=True))
        self.bias = nn.Parameter(torch.zeros(width))
        self.groups = groups

    def forward(self, x):
        """(batch, frames, width) -> (batch, frames, width)."""
        weight = self.gain * self.direction / self.direction.norm(dim=(0, 1), keepdim=True)
        kernel_size = weight.shape[-1]
        h = F.conv1d(x.transpose(1, 2), weight, self.bias, padding=kernel_size // 2, groups=self.groups)
        # An even kernel with padding k // 2 yields one frame too many.
        return F.gelu(h[..., :x.shape[1]]).transpose(1, 2)


class ECGTransformer(nn.Module):
    """Convolutional feature extractor, positional convolution and transformer encoder.

    The encoder of wav2vec 2.0 as fairseq-signals adapts it to ECGs (Oh et
    al., CHIL 2022): strided convolutions turn the leads into frames of
    ``conv_channels`` features (:attr:`feature_extractor`), a layer norm
    (:attr:`feature_norm`) and a linear projection
    (:attr:`feature_projection`) bring them to the model width, then
    :meth:`contextualize` adds a convolutional positional encoding, applies
    a layer norm and dropout, and runs the post-norm transformer layers (a
    layer norm after each block).

    Parameters
    ----------
    in_channels : int, default=12
        Number of input leads.
    conv_channels : int, default=256
        Channels of every extractor convolution.
    conv_kernels : tuple of int, default=(2, 2, 2, 2)
        Kernel size of each extractor convolution.
    conv_strides : tuple of int, default=(2, 2, 2, 2)
        Stride of each extractor convolution: total stride 16, so a 5 s
        segment at 500 Hz (2,500 samples) gives 156 frames of 32 ms. At
        100 Hz, ``(2, 2, 1, 1)`` gives frames of 40 ms (123 per 5 s) and the
        paper's strides 31 frames of 160 ms.
    width : int, default=768
        Model width (embedding size).
    n_layers : int, default=12
        Transformer layers.
    n_heads : int, default=12
        Attention heads; must divide ``width``.
    ffn_width : int, default=3072
        Hidden size of the feed-forward blocks.
    dropout : float, default=0.1
        Dropout of the transformer's input, attention weights, residual
        branches and feed-forward activations (fairseq-signals has no
        dropout on the activations; torch's layer applies the same rate).
    pos_conv_kernel : int, default=128
        Kernel size of the positional convolution, in frames. The paper's
        128 spans most of its 156 frames; use a shorter one for short
        sequences.
    pos_conv_groups : int, default=16
        Groups of the positional convolution; must divide ``width``.

    Attributes
    ----------
    out_features : int
        Embedding size, ``width``.
    conv_channels : int
        Features per extractor frame.
    feature_extractor : torch.nn.Module
        (batch, leads, times) -> (batch, conv_channels, frames).
    feature_norm : torch.nn.LayerNorm
        Normalises each frame's extractor features (last axis).
    feature_projection : torch.nn.Module
        Linear map from ``conv_channels`` to ``width`` (the identity when
        they are equal).

    See Also
    --------
    build_ecg_transformer : The presets.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import ECGTransformer
    >>> encoder = ECGTransformer(conv_channels=32, width=32, n_layers=1, n_heads=2,
    ...                          ffn_width=64, pos_conv_kernel=8, pos_conv_groups=4)
    >>> encoder(torch.zeros(3, 12, 2500)).shape  # 156 frames of 32 features
    torch.Size([3, 156, 32])
    >>> encoder.embed(torch.zeros(3, 12, 2500)).shape
    torch.Size([3, 32])
    """

    def __init__(
        self,
        in_channels=12,
        *,
        conv_channels=256,
        conv_kernels=(2, 2, 2, 2),
        conv_strides=(2, 2, 2, 2),
        width=768,
        n_layers=12,
        n_heads=12,
        ffn_width=3072,
        dropout=0.1,
        pos_conv_kernel=128,
        pos_conv_groups=16,
    ):
        super().__init__()
        if len(conv_kernels) != len(conv_strides) or not conv_strides:
            raise ValueError(
                f"conv_kernels {conv_kernels} and conv_strides {conv_strides} must be non-empty "
                "and of the same length (one entry per convolution)."
            )
        for name, value, divisor in (("n_heads", n_heads, width), ("pos_conv_groups", pos_conv_groups, width)):
            if divisor % value:
                raise ValueError(f"{name}={value} must divide width={width}.")
        self.in_channels = in_channels
        self.conv_channels, self.out_features = conv_channels, width
        self.conv_kernels, self.conv_strides = tuple(conv_kernels), tuple(conv_strides)
        self.feature_extractor = _ConvFeatureExtractor(in_channels, conv_channels, conv_kernels, conv_strides)
        self.feature_norm = nn.LayerNorm(conv_channels)
        self.feature_projection = nn.Linear(conv_channels, width) if conv_channels != width else nn.Identity()
        self.positional_encoding = _ConvPositionalEncoding(width, pos_conv_kernel, pos_conv_groups)
        self.input_norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            width, n_heads, ffn_width, dropout, activation="gelu", batch_first=True, norm_first=False,
        )
        self.layers = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.layers.apply(_init_bert_params)

    def n_frames(self, n_times):
        """Number of frames the extractor makes of ``n_times`` samples (0 if too short)."""
        for kernel, stride in zip(self.conv_kernels, self.conv_strides):
            n_times = max(0, (n_times - kernel) // stride + 1)
        return n_times

    def contextualize(self, frames):
        """Transformer output (batch, frames, width) of projected frames (batch, frames, width)."""
        x = frames + self.positional_encoding(frames)
        return self.layers(self.dropout(self.input_norm(x)))

    def forward(self, x):
        """Frame embeddings (batch, frames, width) of ``x`` of shape (batch, leads, times)."""
        self._check_input(x)
        features = self.feature_norm(self.feature_extractor(x).transpose(1, 2))
        return self.contextualize(self.feature_projection(features))

    def embed(self, x):
        """Segment embeddings (batch, width): the mean of :meth:`forward` over frames."""
        return self.forward(x).mean(dim=1)

    def _check_input(self, x):
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"ECGTransformer expects (batch, {self.in_channels}, times), got shape {tuple(x.shape)}."
            )
        if self.n_frames(x.shape[-1]) < 1:
            raise ValueError(
                f"{x.shape[-1]} samples are too few for the extractor (kernels {self.conv_kernels}, "
                f"strides {self.conv_strides}); it needs at least one frame."
            )


def _init_bert_params(module):
    # BERT's initialisation, as fairseq's transformer encoder applies it.
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.MultiheadAttention):
        nn.init.normal_(module.in_proj_weight, std=0.02)


def build_ecg_transformer(size="paper", in_channels=12, **params):
    """Build an :class:`ECGTransformer` from a size preset.

    Parameters
    ----------
    size : {"tiny", "small", "paper"}, default="paper"
        ``"paper"``: 12 layers of width 768 (feed-forward 3,072, 12 heads),
        extractor of 256 channels, positional kernel 128, as in Oh et al.
        (2022). ``"small"``: 4 layers of width 128 (128 extractor channels).
        ``"tiny"``: 2 layers of width 64 (64 extractor channels). Both small
        presets use a positional kernel of 32 frames.
    in_channels : int, default=12
        Number of input leads.
    **params
        Other :class:`ECGTransformer` arguments, overriding the preset, e.g.
        ``conv_strides=(2, 2, 1, 1)`` for 100 Hz input.

    Returns
    -------
    encoder : ECGTransformer

    Examples
    --------
    >>> from sklearn_ecg.nn import build_ecg_transformer
    >>> encoder = build_ecg_transformer("tiny", conv_strides=(2, 2, 1, 1))
    >>> encoder.out_features, encoder.n_frames(500)
    (64, 123)
    """
    if size not in ECG_TRANSFORMER_PRESETS:
        raise ValueError(f"Unknown size {size!r}; expected one of {sorted(ECG_TRANSFORMER_PRESETS)}.")
    return ECGTransformer(in_channels, **{**ECG_TRANSFORMER_PRESETS[size], **params})
