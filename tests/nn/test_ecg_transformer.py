import pickle

import pytest
import torch
from torch import nn

from sklearn_ecg.nn import (
    ECG_TRANSFORMER_PRESETS,
    ECGTransformer,
    build_ecg_transformer,
    load_encoder_state,
)


def _small(**params):
    return ECGTransformer(**{**dict(conv_channels=16, width=16, n_layers=1, n_heads=2, ffn_width=32,
                                    pos_conv_kernel=8, pos_conv_groups=4), **params})


def test_paper_strides_give_156_frames_of_a_5s_segment_at_500hz():
    encoder = _small().eval()
    assert encoder.n_frames(2500) == 156
    with torch.no_grad():
        assert encoder(torch.randn(2, 12, 2500)).shape == (2, 156, 16)


@pytest.mark.parametrize("strides", [(2, 2, 2, 2), (2, 2, 1, 1), (5, 2, 2, 1)])
@pytest.mark.parametrize("n_times", [64, 500, 1001])
def test_n_frames_matches_the_output(strides, n_times):
    encoder = _small(conv_kernels=(2,) * len(strides), conv_strides=strides).eval()
    with torch.no_grad():
        assert encoder(torch.randn(1, 12, n_times)).shape[1] == encoder.n_frames(n_times)


def test_paper_preset_is_the_papers_architecture():
    encoder = build_ecg_transformer("paper")
    convs = [m for m in encoder.feature_extractor.modules() if isinstance(m, nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(256, 2, 2)] * 4
    norms = [i for i, block in enumerate(encoder.feature_extractor) if any(isinstance(m, nn.GroupNorm) for m in block)]
    assert norms == [0]
    assert all(any(isinstance(m, nn.GELU) for m in block) for block in encoder.feature_extractor)
    assert encoder.feature_projection.in_features == 256 and encoder.out_features == 768
    layers = encoder.layers.layers
    assert len(layers) == 12
    assert layers[0].linear1.out_features == 3072 and layers[0].self_attn.num_heads == 12
    assert not layers[0].norm_first and layers[0].dropout.p == 0.1
    positional = encoder.positional_encoding
    assert positional.direction.shape == (768, 768 // 16, 128) and positional.groups == 16


@pytest.mark.parametrize("size, layers, width", [("tiny", 2, 64), ("small", 4, 128)])
def test_small_presets(size, layers, width):
    encoder = build_ecg_transformer(size, in_channels=3, conv_strides=(2, 2, 1, 1))
    assert (len(encoder.layers.layers), encoder.out_features, encoder.in_channels) == (layers, width, 3)
    assert encoder.conv_strides == (2, 2, 1, 1)
    assert ECG_TRANSFORMER_PRESETS[size]["width"] == width


@pytest.mark.parametrize("kernel", [7, 8])
def test_positional_encoding_keeps_the_frame_count_and_normalises_its_weight(kernel):
    positional = _small(pos_conv_kernel=kernel).positional_encoding
    frames = torch.randn(2, 13, 16)
    with torch.no_grad():
        before = positional(frames)
        positional.direction.mul_(5.0)  # only the direction of the weight counts
        after = positional(frames)
    assert before.shape == frames.shape
    torch.testing.assert_close(after, before)


def test_frame_order_matters_through_the_positional_encoding():
    # Without a positional signal, self-attention is permutation equivariant.
    encoder = _small(dropout=0.0).eval()
    frames = torch.randn(1, 20, 16)
    reverse = torch.arange(19, -1, -1)
    with torch.no_grad():
        out = encoder.contextualize(frames)
        out_reversed = encoder.contextualize(frames[:, reverse])
    assert not torch.allclose(out[:, reverse], out_reversed, atol=1e-4)


def test_embed_is_the_mean_over_frames():
    encoder = _small().eval()
    x = torch.randn(3, 12, 300)
    with torch.no_grad():
        torch.testing.assert_close(encoder.embed(x), encoder(x).mean(dim=1))


def test_bad_input_and_arguments_are_named():
    encoder = _small()
    with pytest.raises(ValueError, match=r"expects \(batch, 12, times\)"):
        encoder(torch.randn(2, 8, 300))
    with pytest.raises(ValueError, match="15 samples are too few"):
        encoder(torch.randn(2, 12, 15))
    with pytest.raises(ValueError, match="n_heads=3 must divide width=16"):
        _small(n_heads=3)
    with pytest.raises(ValueError, match="same length"):
        _small(conv_kernels=(2, 2))
    with pytest.raises(ValueError, match="Unknown size 'huge'"):
        build_ecg_transformer("huge")


def test_pickles_and_loads_strictly_into_a_fresh_encoder():
    encoder = _small().eval()
    x = torch.randn(2, 12, 200)
    with torch.no_grad():
        expected = encoder(x)
        torch.testing.assert_close(pickle.loads(pickle.dumps(encoder))(x), expected)
        fresh = load_encoder_state(_small().eval(), encoder.state_dict())
        torch.testing.assert_close(fresh(x), expected)
