import math

import pytest
import torch
import torch.nn.functional as F

from sklearn_ecg.nn import ArcMarginHead, IdentificationNetwork, build_encoder


def _angles(head, embeddings):
    cosine = F.normalize(embeddings) @ F.normalize(head.centres).T
    return torch.arccos(cosine.clamp(-1, 1))


def test_the_true_identity_is_widened_by_the_margin_and_the_others_are_not():
    torch.manual_seed(0)
    head = ArcMarginHead(8, 5, scale=10.0, margin=0.3)
    embeddings, identities = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    theta = _angles(head, embeddings)
    logits = head(embeddings, identities)
    plain = head(embeddings)
    torch.testing.assert_close(plain, 10.0 * torch.cos(theta), atol=1e-5, rtol=1e-5)
    true = torch.zeros_like(plain, dtype=torch.bool).scatter(1, identities[:, None], True)
    torch.testing.assert_close(logits[~true], plain[~true])
    small = theta[true] < math.pi - 0.3  # where cos(theta + m) still decreases
    torch.testing.assert_close(logits[true][small], 10.0 * torch.cos(theta[true][small] + 0.3), atol=1e-4, rtol=1e-4)


def test_beyond_pi_minus_margin_the_logit_keeps_decreasing():
    head = ArcMarginHead(2, 2, scale=1.0, margin=0.5)
    with torch.no_grad():
        head.centres.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    angles = torch.linspace(2.5, math.pi, 20)  # past pi - 0.5
    embeddings = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    logits = head(embeddings, torch.zeros(20, dtype=torch.long))[:, 0]
    assert (logits.diff() < 0).all()
    assert (logits < head(embeddings)[:, 0]).all()


def test_cross_entropy_through_the_head_trains_the_encoder():
    torch.manual_seed(0)
    network = IdentificationNetwork(build_encoder("xresnet1d", "tiny", 3), n_identities=4)
    x, identities = torch.randn(8, 3, 64), torch.arange(4).repeat(2)
    loss = F.cross_entropy(network(x, identities), identities)
    loss.backward()
    first_layer = next(network.encoder.parameters())
    assert first_layer.grad.abs().sum() > 0 and network.head.centres.grad.abs().sum() > 0
    assert network(x).shape == (8, 4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_logits_are_float32_whatever_the_embeddings(dtype):
    head = ArcMarginHead(8, 3)
    assert head(torch.randn(4, 8, dtype=dtype), torch.tensor([0, 1, 2, 0])).dtype == torch.float32
