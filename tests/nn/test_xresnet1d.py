import pytest
import torch
from torch import nn

from sklearn_ecg.nn import XResNet1d, build_encoder


@pytest.mark.parametrize("size", ["tiny", "small", "paper"])
def test_any_length_gives_fixed_embedding(size):
    encoder = build_encoder("xresnet1d", size, in_channels=3)
    for n_times in [1, 2, 7, 250]:
        out = encoder(torch.randn(2, 3, n_times))
        assert out.shape == (2, encoder.out_features)
        assert torch.isfinite(out).all()


def test_paper_architecture_matches_methods():
    encoder = build_encoder("xresnet1d", "paper", in_channels=12)
    first = encoder.stem[0][0]
    assert (first.in_channels, first.out_channels, first.kernel_size, first.stride) == (12, 32, (5,), (2,))
    stem_convs = [m for m in encoder.stem.modules() if isinstance(m, nn.Conv1d)]
    assert [c.out_channels for c in stem_convs] == [32, 32, 64]
    assert len(encoder.stages) == 3 + 4 + 6 + 3
    # Every stage narrowed to 64 x 4 = 256 channels; concat pooling doubles it.
    assert {block.convs[-1][0].out_channels for block in encoder.stages} == {256}
    assert encoder.out_features == 512


def test_embedding_is_concat_of_max_and_mean_pooling():
    encoder = build_encoder("xresnet1d", "tiny", in_channels=2).eval()
    x = torch.randn(3, 2, 100)
    with torch.no_grad():
        features = encoder.stages(encoder.stem(x))
        out = encoder(x)
    half = encoder.out_features // 2
    torch.testing.assert_close(out[:, :half], features.amax(-1))
    torch.testing.assert_close(out[:, half:], features.mean(-1))


def test_residual_blocks_start_as_identity_branch():
    encoder = XResNet1d(in_channels=1, stem=(4, 4, 8), blocks=(2,), widths=(8,), expansion=1)
    block = encoder.stages[1]
    x = torch.randn(2, 8, 20).relu()
    # Zero-initialised last norm: the residual branch adds nothing at first.
    torch.testing.assert_close(block(x), x)


def test_blocks_and_widths_must_match():
    with pytest.raises(ValueError, match="same length"):
        XResNet1d(blocks=(1, 1), widths=(8,))


@pytest.mark.parametrize("n_times", [1, 2, 7, 8, 63])
def test_shortcut_pool_gives_torchs_average_exactly(n_times):
    from sklearn_ecg.nn._xresnet1d import _AvgPool1d

    x = torch.randn(3, 4, n_times)
    assert torch.equal(_AvgPool1d(2, ceil_mode=True)(x), nn.AvgPool1d(2, ceil_mode=True)(x))
    # Other settings fall back to torch's own pooling.
    assert torch.equal(_AvgPool1d(3, ceil_mode=True)(x), nn.AvgPool1d(3, ceil_mode=True)(x))
