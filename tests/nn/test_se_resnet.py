import pytest
import torch

from sklearn_ecg.nn import SEResNet, build_encoder


@pytest.mark.parametrize("size", ["tiny", "small", "paper"])
def test_any_spectrogram_size_gives_fixed_embedding(size):
    encoder = build_encoder("se_resnet", size, in_channels=4)
    for shape in [(1, 1), (1, 5), (13, 2), (13, 21)]:
        out = encoder(torch.randn(2, 4, *shape))
        assert out.shape == (2, encoder.out_features)
        assert torch.isfinite(out).all()


def test_paper_architecture_matches_methods():
    encoder = build_encoder("se_resnet", "paper", in_channels=12)
    assert encoder.stem[0][0].in_channels == 12
    assert len(encoder.stages) == 3 + 4 + 6 + 3
    widths = [block.convs[1][0].out_channels for block in encoder.stages]
    assert widths == [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3
    squeeze = encoder.stages[-1].convs[2].gate[1]
    assert (squeeze.in_channels, squeeze.out_channels) == (512, 512 // 16)
    assert encoder.out_features == 512


def test_squeeze_excitation_gates_channels_between_zero_and_one():
    encoder = SEResNet(in_channels=1, stem=8, blocks=(1,), widths=(8,), reduction=2)
    se = encoder.stages[0].convs[2]
    x = torch.randn(3, 8, 5, 6)
    gate = se.gate(x)
    assert gate.shape == (3, 8, 1, 1)
    assert ((gate > 0) & (gate < 1)).all()
    torch.testing.assert_close(se(x), x * gate)


def test_blocks_and_widths_must_match():
    with pytest.raises(ValueError, match="same length"):
        SEResNet(blocks=(1,), widths=(8, 16))


def test_stem_pool_and_squeeze_excitation_compute_what_their_modules_define():
    from torch import nn

    from sklearn_ecg.nn._se_resnet import _MaxPool2d, _SqueezeExcitation

    x = torch.randn(5, 16, 7, 11)
    assert torch.equal(_MaxPool2d(3, stride=2, padding=1)(x), nn.MaxPool2d(3, stride=2, padding=1)(x))
    excitation = _SqueezeExcitation(16, reduction=4)
    torch.testing.assert_close(excitation(x), x * excitation.gate(x), rtol=1e-6, atol=1e-6)
