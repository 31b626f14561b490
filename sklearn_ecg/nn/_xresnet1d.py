"""XResNet1d: the time-series encoder (fastai's XResNet, one-dimensional)."""

import torch
from torch import nn


def _conv_bn(in_channels, out_channels, kernel_size, stride=1, *, relu=True, zero_bn=False):
    # "Same" padding keeps a length-1 input at length 1 through every layer,
    # so the encoder accepts records of any length.
    layers = [
        nn.Conv1d(
            in_channels, out_channels, kernel_size, stride=stride,
            padding=kernel_size // 2, bias=False,
        ),
        nn.BatchNorm1d(out_channels),
    ]
    if zero_bn:
        # A zero-initialised last norm makes every residual block start as the
        # identity (fastai's trick for stable training of deep ResNets).
        nn.init.zeros_(layers[1].weight)
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _AvgPool1d(nn.AvgPool1d):
    """``nn.AvgPool1d``; pairs (kernel and stride 2, ``ceil_mode``) averaged by slicing, ~8 times faster on a CPU.

    The same values: a last sample without a partner is its own mean,
    ``(x + x) / 2 == x`` exactly.
    """

    def forward(self, x):
        if self.kernel_size != (2,) or self.stride != (2,) or self.padding != (0,) or not self.ceil_mode:
            return super().forward(x)
        if x.shape[-1] % 2:
            x = torch.cat([x, x[..., -1:]], dim=-1)
        return (x[..., 0::2] + x[..., 1::2]) * 0.5


class _ResBlock1d(nn.Module):
    """Residual block: bottleneck (1-k-1 convs) when ``expansion > 1``, else two k convs."""

    def __init__(self, in_channels, width, expansion, kernel_size, stride):
        super().__init__()
        out_channels = width * expansion
        if expansion == 1:
            self.convs = nn.Sequential(
                _conv_bn(in_channels, width, kernel_size, stride),
                _conv_bn(width, out_channels, kernel_size, relu=False, zero_bn=True),
            )
        else:
            self.convs = nn.Sequential(
                _conv_bn(in_channels, width, 1),
                _conv_bn(width, width, kernel_size, stride),
                _conv_bn(width, out_channels, 1, relu=False, zero_bn=True),
            )
        shortcut = []
        if stride != 1:
            # ceil_mode keeps odd (and length-1) inputs aligned with the
            # strided convolution branch.
            shortcut.append(_AvgPool1d(stride, ceil_mode=True))
        if in_channels != out_channels:
            shortcut.append(_conv_bn(in_channels, out_channels, 1, relu=False))
        self.shortcut = nn.Sequential(*shortcut)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.convs(x) + self.shortcut(x))


class XResNet1d(nn.Module):
    """One-dimensional XResNet encoder with concat pooling.

    Stem of three convolutions (the first with stride 2) and a max pool,
    residual stages (the first at stride 1, the others at stride 2), then
    max and average pooling over time, concatenated. Global pooling makes
    the embedding independent of the input length; "same" padding lets
    inputs as short as one sample through.

    Parameters
    ----------
    in_channels : int, default=12
        Number of input leads.
    stem : tuple of int, default=(32, 32, 64)
        Output channels of the three stem convolutions.
    blocks : tuple of int, default=(3, 4, 6, 3)
        Residual blocks per stage.
    widths : tuple of int, default=(64, 64, 64, 64)
        Inner width of each stage; a stage outputs ``width * expansion``
        channels.
    expansion : int, default=4
        4 gives bottleneck blocks (XResNet-50 style), 1 gives basic blocks.
    kernel_size : int, default=5
        Kernel size of the stem and of the blocks' temporal convolutions.

    Attributes
    ----------
    out_features : int
        Embedding size, ``2 * widths[-1] * expansion``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import XResNet1d
    >>> encoder = XResNet1d(in_channels=3, stem=(8, 8, 16), blocks=(1,), widths=(8,), expansion=1)
    >>> encoder(torch.zeros(2, 3, 50)).shape
    torch.Size([2, 16])
    """

    def __init__(
        self,
        in_channels=12,
        *,
        stem=(32, 32, 64),
        blocks=(3, 4, 6, 3),
        widths=(64, 64, 64, 64),
        expansion=4,
        kernel_size=5,
    ):
        super().__init__()
        if len(blocks) != len(widths):
            raise ValueError(f"blocks {blocks} and widths {widths} must have the same length.")
        channels = (in_channels,) + tuple(stem)
        self.stem = nn.Sequential(
            *(
                _conv_bn(channels[i], channels[i + 1], kernel_size, stride=2 if i == 0 else 1)
                for i in range(len(stem))
            ),
            nn.MaxPool1d(3, stride=2, padding=1),
        )
        stages = []
        in_ch = stem[-1]
        for stage, (n_blocks, width) in enumerate(zip(blocks, widths)):
            for block in range(n_blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(_ResBlock1d(in_ch, width, expansion, kernel_size, stride))
                in_ch = width * expansion
        self.stages = nn.Sequential(*stages)
        self.in_channels = in_channels
        self.out_features = 2 * in_ch

    def forward(self, x):
        """Embed ``x`` of shape (batch, leads, times) into (batch, out_features)."""
        h = self.stages(self.stem(x))
        return torch.cat([h.amax(dim=-1), h.mean(dim=-1)], dim=1)
