"""SE-ResNet: the spectrogram encoder (ResNet with squeeze-excitation, 2-D)."""

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn2d(in_channels, out_channels, kernel_size, stride=1, *, relu=True):
    # "Same" padding keeps a 1 x 1 input at 1 x 1, so spectrograms of any
    # number of frequencies and frames go through.
    layers = [
        nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride,
            padding=kernel_size // 2, bias=False,
        ),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _SqueezeExcitation(nn.Module):
    """Channel attention: global average, bottleneck MLP, sigmoid gate."""

    def __init__(self, channels, reduction):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        # The gate's 1 x 1 convolutions of 1 x 1 maps, computed as the matrix
        # products they are: on a CPU, a convolution call costs ~100 times
        # their arithmetic. The modules stay, for their weights.
        _, squeeze, _, excite, _ = self.gate
        h = F.relu(F.linear(x.mean(dim=(-2, -1)), squeeze.weight.flatten(1), squeeze.bias))
        return x * torch.sigmoid(F.linear(h, excite.weight.flatten(1), excite.bias))[:, :, None, None]


class _MaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d``, on a CPU computed in channels-last layout (about 10 times faster there)."""

    def forward(self, x):
        if x.device.type != "cpu":
            return super().forward(x)
        return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()


class _SEBasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride, reduction):
        super().__init__()
        self.convs = nn.Sequential(
            _conv_bn2d(in_channels, out_channels, 3, stride),
            _conv_bn2d(out_channels, out_channels, 3, relu=False),
            _SqueezeExcitation(out_channels, reduction),
        )
        if stride != 1 or in_channels != out_channels:
            self.shortcut = _conv_bn2d(in_channels, out_channels, 1, stride, relu=False)
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.convs(x) + self.shortcut(x))


class SEResNet(nn.Module):
    """Squeeze-excitation ResNet over (frequency, frame) with leads as channels.

    A 7 x 7 stride-2 stem convolution and max pool, stages of basic blocks
    with squeeze-excitation (the first stage at stride 1, the others at
    stride 2), then global average pooling. Global pooling makes the
    embedding independent of the number of frames; "same" padding lets
    inputs as small as one frequency by one frame through.

    Parameters
    ----------
    in_channels : int, default=12
        Number of input leads.
    stem : int, default=64
        Output channels of the stem convolution.
    blocks : tuple of int, default=(3, 4, 6, 3)
        Basic blocks per stage (SE-ResNet34).
    widths : tuple of int, default=(64, 128, 256, 512)
        Output channels of each stage.
    reduction : int, default=16
        Squeeze-excitation reduction ratio.

    Attributes
    ----------
    out_features : int
        Embedding size, ``widths[-1]``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import SEResNet
    >>> encoder = SEResNet(in_channels=2, stem=8, blocks=(1,), widths=(16,), reduction=4)
    >>> encoder(torch.zeros(3, 2, 13, 21)).shape
    torch.Size([3, 16])
    """

    def __init__(
        self,
        in_channels=12,
        *,
        stem=64,
        blocks=(3, 4, 6, 3),
        widths=(64, 128, 256, 512),
        reduction=16,
    ):
        super().__init__()
        if len(blocks) != len(widths):
            raise ValueError(f"blocks {blocks} and widths {widths} must have the same length.")
        self.stem = nn.Sequential(
            _conv_bn2d(in_channels, stem, 7, stride=2),
            _MaxPool2d(3, stride=2, padding=1),
        )
        stages = []
        in_ch = stem
        for stage, (n_blocks, width) in enumerate(zip(blocks, widths)):
            for block in range(n_blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(_SEBasicBlock(in_ch, width, stride, reduction))
                in_ch = width
        self.stages = nn.Sequential(*stages)
        self.in_channels = in_channels
        self.out_features = in_ch

    def forward(self, x):
        """Embed ``x`` of shape (batch, leads, freqs, frames) into (batch, out_features)."""
        return self.stages(self.stem(x)).mean(dim=(-2, -1))
