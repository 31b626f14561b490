import pytest
import torch

from sklearn_ecg.nn import GumbelVectorQuantizer


def test_evaluation_picks_one_codebook_entry_per_group():
    quantizer = GumbelVectorQuantizer(8, n_groups=2, n_entries=5, code_dim=6).eval()
    x = torch.randn(4, 7, 8)
    with torch.no_grad():
        out = quantizer(x, torch.Generator())
        chosen = quantizer.logits(x).reshape(4, 7, 2, 5).argmax(-1)
    codes = out["codes"]
    assert codes.shape == (4, 7, 6)
    assert torch.equal(out["indices"], chosen)
    for group in range(2):
        expected = quantizer.codebook[group][chosen[..., group]]
        torch.testing.assert_close(codes[..., 3 * group:3 * group + 3], expected)


def test_temperature_decays_per_training_call_down_to_its_floor():
    quantizer = GumbelVectorQuantizer(4, n_entries=3, code_dim=2, temperature=(2.0, 0.5, 0.5))
    x, generator = torch.randn(2, 3, 4), torch.Generator().manual_seed(0)
    used = [float(quantizer(x, generator)["temperature"]) for _ in range(4)]
    assert used == [2.0, 1.0, 0.5, 0.5]
    quantizer.eval()
    quantizer(x, generator)
    assert int(quantizer.n_updates) == 4
    assert "n_updates" in quantizer.state_dict()


def test_paper_defaults():
    quantizer = GumbelVectorQuantizer(256)
    assert quantizer.codebook.shape == (2, 320, 128) and quantizer.n_codes == 640
    assert quantizer.temperature == (2.0, 0.5, 0.999995)


def test_training_is_seeded_and_passes_gradients_straight_through():
    quantizer = GumbelVectorQuantizer(8, n_entries=16, code_dim=4)
    x = torch.randn(5, 6, 8)
    first = quantizer(x, torch.Generator().manual_seed(3))["codes"]
    second = quantizer(x, torch.Generator().manual_seed(3))["codes"]
    torch.testing.assert_close(first, second)
    first.pow(2).sum().backward()
    assert quantizer.logits.weight.grad.abs().sum() > 0


def test_perplexities():
    quantizer = GumbelVectorQuantizer(8, n_groups=2, n_entries=16, code_dim=4).eval()
    with torch.no_grad():
        same = quantizer(torch.ones(1, 10, 8), torch.Generator())
        varied = quantizer(torch.randn(50, 10, 8), torch.Generator())
    # One entry per group used: perplexity 1 per group.
    assert float(same["code_perplexity"]) == pytest.approx(2.0, abs=1e-4)
    assert 2.0 < float(varied["code_perplexity"]) <= 32.0
    assert 2.0 < float(varied["prob_perplexity"]) <= 32.0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="multiple of n_groups"):
        GumbelVectorQuantizer(8, n_groups=3, code_dim=4)
    with pytest.raises(ValueError, match="temperature"):
        GumbelVectorQuantizer(8, temperature=(0.5, 2.0, 0.9))
