import pytest
import torch

from sklearn_ecg.nn import GatedFusionHead, MultiBranchNetwork, SelectColumns, build_encoder
from sklearn_ecg.preprocessing import STFTSpectrogram


def _embeddings(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(6, 5, generator=generator), torch.randn(6, 3, generator=generator)]



def test_gate_follows_the_formula_of_the_paper():
    torch.manual_seed(0)
    head = GatedFusionHead([5, 3], n_classes=4, hidden_features=7)
    h_t, h_s = _embeddings()
    logits, weights = head([h_t, h_s])
    # g = softmax(W_g [h_t; h_s] + b_g); z = [g1 h_t; g2 h_s]; W2 (W1 z + b1) + b2
    h = torch.cat([h_t, h_s], dim=1)
    g = torch.softmax(h @ head.gate.weight.T + head.gate.bias, dim=1)
    z = torch.cat([g[:, :1] * h_t, g[:, 1:] * h_s], dim=1)
    expected = (z @ head.hidden.weight.T + head.hidden.bias) @ head.output.weight.T + head.output.bias
    torch.testing.assert_close(weights, g)
    torch.testing.assert_close(logits, expected)
    assert (weights > 0).all() and torch.allclose(weights.sum(dim=1), torch.ones(6))



def test_gate_weights_differ_between_samples():
    torch.manual_seed(0)
    _, weights = GatedFusionHead([5, 3], n_classes=2)(_embeddings())
    assert weights[:, 0].std() > 0



def test_concat_head_has_no_gate_and_unit_weights():
    torch.manual_seed(0)
    head = GatedFusionHead([5, 3], n_classes=4, gate=False)
    assert head.gate is None
    h_t, h_s = _embeddings()
    logits, weights = head([h_t, h_s])
    torch.testing.assert_close(logits, head.output(head.hidden(torch.cat([h_t, h_s], dim=1))))
    torch.testing.assert_close(weights, torch.ones(6, 2))



def test_network_routes_each_branch_through_its_front_end():
    torch.manual_seed(0)
    network = MultiBranchNetwork(
        [torch.nn.Identity(), torch.nn.Identity()],
        GatedFusionHead([2, 1], n_classes=3),
        front_ends=[SelectColumns([0, 2]), SelectColumns([1])],
    )
    x = torch.randn(4, 3)
    logits, _ = network(x)
    torch.testing.assert_close(logits, network.head([x[:, [0, 2]], x[:, [1]]])[0])



def test_network_refuses_mismatched_branch_counts():
    with pytest.raises(ValueError, match="must match"):
        MultiBranchNetwork([torch.nn.Identity()], GatedFusionHead([2, 1], n_classes=3))



def test_paper_branches_give_logits_for_any_signal_length():
    torch.manual_seed(0)
    time, spectrogram = build_encoder("xresnet1d", "tiny", 12), build_encoder("se_resnet", "tiny", 12)
    network = MultiBranchNetwork(
        [time, spectrogram],
        GatedFusionHead([time.out_features, spectrogram.out_features], n_classes=5, hidden_features=8),
        front_ends=[torch.nn.Identity(), STFTSpectrogram().to_torch()],
    ).eval()
    for n_times in (100, 250):
        logits, weights = network(torch.randn(2, 12, n_times))
        assert logits.shape == (2, 5) and weights.shape == (2, 2)
