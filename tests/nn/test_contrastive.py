import pickle

import pytest
import torch
from torch import nn

from sklearn_ecg.nn import ContrastivePretrainingNetwork, ECGTransformer, build_encoder

SMALL_W2V = dict(codebook_entries=16, code_dim=16, final_dim=16, n_negatives=20)


def _transformer(dropout=0.1):
    return ECGTransformer(conv_channels=16, width=16, n_layers=1, n_heads=2, ffn_width=32, dropout=dropout,
                          pos_conv_kernel=8, pos_conv_groups=4)


class _InputRecorder(nn.Module):
    """Encoder that keeps its last input and embeds by the mean over time."""

    in_channels = 12

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        self.seen = x.detach().clone()
        return self.scale * x.mean(dim=-1)


def test_total_is_the_papers_weighted_sum():
    network = ContrastivePretrainingNetwork(_transformer(), "w2v+cmsc", **SMALL_W2V)
    out = network(torch.randn(4, 2, 12, 800), torch.Generator().manual_seed(0))
    expected = out["w2v"] + 0.1 * out["diversity"] + 10 * out["feature_penalty"] + 1.0 * out["cmsc"]
    torch.testing.assert_close(out["loss"], expected)


@pytest.mark.parametrize("objective, keys", [
    ("w2v", {"w2v", "diversity", "feature_penalty"}),
    ("cmsc", {"cmsc"}),
])
def test_single_objectives_compute_only_their_terms(objective, keys):
    params = SMALL_W2V if objective == "w2v" else {}
    network = ContrastivePretrainingNetwork(_transformer(), objective, **params)
    out = network(torch.randn(3, 2, 12, 800), torch.Generator().manual_seed(0))
    assert keys <= set(out) and ("cmsc" in out) == (objective == "cmsc") and ("w2v" in out) == (objective == "w2v")
    assert out["loss"].requires_grad


def test_lead_masking_zeroes_leads_in_training_only():
    recorder = _InputRecorder()
    network = ContrastivePretrainingNetwork(recorder, "cmsc", lead_mask_prob=0.5)
    pairs = torch.ones(64, 2, 12, 10)
    network(pairs, torch.Generator().manual_seed(0))
    zeroed = (recorder.seen == 0).all(dim=-1)  # (segments, leads)
    assert recorder.seen.shape == (128, 12, 10)
    assert 0.4 < zeroed.float().mean() < 0.6
    assert not torch.equal(zeroed[0::2], zeroed[1::2])  # each segment its own leads
    network.eval()
    network(pairs, torch.Generator().manual_seed(0))
    assert (recorder.seen == 1).all()
    network = ContrastivePretrainingNetwork(recorder, "cmsc", lead_mask_prob=0.0)
    network(pairs, torch.Generator().manual_seed(0))
    assert (recorder.seen == 1).all()


def test_pairs_are_split_into_first_and_second_segments():
    recorder = _InputRecorder()
    network = ContrastivePretrainingNetwork(recorder, "cmsc", lead_mask_prob=0.0)
    pairs = torch.randn(3, 2, 12, 10)
    network(pairs, torch.Generator())
    torch.testing.assert_close(recorder.seen.reshape(3, 2, 12, 10), pairs)


def test_same_generator_same_losses():
    def losses(seed):
        torch.manual_seed(0)  # weights and dropout
        network = ContrastivePretrainingNetwork(_transformer(), **SMALL_W2V)
        return network(torch.ones(3, 2, 12, 800), torch.Generator().manual_seed(seed))

    first, again, other = losses(1), losses(1), losses(2)
    for key in first:
        torch.testing.assert_close(first[key], again[key])
    assert not torch.equal(first["loss"], other["loss"])


def test_xresnet_cmsc_overfits_a_tiny_batch():
    torch.manual_seed(0)
    network = ContrastivePretrainingNetwork(build_encoder("xresnet1d", "tiny"), "cmsc", lead_mask_prob=0.0)
    pairs = torch.randn(8, 2, 12, 100, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    history = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = network(pairs, generator)["loss"]
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    assert history[-1] < 0.5 * history[0]


def test_transformer_w2v_cmsc_loss_decreases_on_a_tiny_batch():
    torch.manual_seed(0)
    network = ContrastivePretrainingNetwork(_transformer(dropout=0.0), lead_mask_prob=0.0, input_dropout=0.0,
                                            target_dropout=0.0, **SMALL_W2V)
    pairs = torch.randn(4, 2, 12, 800, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    history = []
    for _ in range(40):
        optimizer.zero_grad()
        out = network(pairs, generator)
        out["loss"].backward()
        optimizer.step()
        history.append((out["loss"].item(), out["cmsc"].item()))
    first, last = torch.tensor(history[:5]).mean(0), torch.tensor(history[-5:]).mean(0)
    assert (last < 0.8 * first).all()


def test_projection_head_is_trained_by_cmsc_and_left_out_of_embeddings():
    encoder = build_encoder("xresnet1d", "tiny")
    network = ContrastivePretrainingNetwork(encoder, "cmsc", projection_dim=16)
    network(torch.randn(4, 2, 12, 100), torch.Generator().manual_seed(0))["loss"].backward()
    assert network.projection[-1].out_features == 16
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.projection.parameters())
    network.eval()
    x = torch.randn(3, 12, 100)
    with torch.no_grad():
        torch.testing.assert_close(network.embed(x), encoder(x))
    with pytest.raises(ValueError, match="projection_dim is a CMSC head"):
        ContrastivePretrainingNetwork(_transformer(), "w2v", projection_dim=16)


def test_embed_uses_the_encoders_segment_embedding():
    encoder = _transformer().eval()
    network = ContrastivePretrainingNetwork(encoder, "cmsc")
    x = torch.randn(2, 12, 300)
    with torch.no_grad():
        torch.testing.assert_close(network.embed(x), encoder.embed(x))


def test_pickles():
    network = ContrastivePretrainingNetwork(_transformer(), **SMALL_W2V).eval()
    pairs = torch.randn(2, 2, 12, 800)
    with torch.no_grad():
        expected = network(pairs, torch.Generator().manual_seed(0))["loss"]
        restored = pickle.loads(pickle.dumps(network))(pairs, torch.Generator().manual_seed(0))["loss"]
    torch.testing.assert_close(restored, expected)


def test_bad_arguments_and_input_are_named():
    with pytest.raises(ValueError, match="Unknown objective 'simclr'"):
        ContrastivePretrainingNetwork(_transformer(), "simclr")
    with pytest.raises(TypeError, match="needs an ECGTransformer encoder"):
        ContrastivePretrainingNetwork(build_encoder("xresnet1d", "tiny"), "w2v+cmsc")
    with pytest.raises(TypeError, match="takes no wav2vec 2.0 arguments"):
        ContrastivePretrainingNetwork(_transformer(), "cmsc", mask_prob=0.5)
    network = ContrastivePretrainingNetwork(build_encoder("xresnet1d", "tiny"), "cmsc")
    with pytest.raises(ValueError, match=r"pairs must have shape \(batch, 2, 12, times\)"):
        network(torch.randn(4, 12, 100), torch.Generator())
    with pytest.raises(ValueError, match=r"got \(4, 2, 6, 100\)"):
        network(torch.randn(4, 2, 6, 100), torch.Generator())
