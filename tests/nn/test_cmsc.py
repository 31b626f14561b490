import math

import pytest
import torch

from sklearn_ecg.nn import cmsc_loss


def test_hand_computed_value():
    first = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    second = torch.tensor([[3.0, 0.0], [1.0, 0.0]])  # norms do not matter
    # Cosines [[1, 1], [0, 0]] / 0.1. Rows: positives (0, 0) and (1, 1) each
    # have half the row's mass: log 2. Columns [[10, 0], [10, 0]]:
    # log(1 + e^-10) and log(1 + e^10).
    columns = (math.log1p(math.exp(-10)) + math.log1p(math.exp(10))) / 2
    expected = (math.log(2) + columns) / 2
    assert float(cmsc_loss(first, second)) == pytest.approx(expected, rel=1e-6)


def test_pairs_with_one_id_are_all_positives():
    first = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    logits = first @ first.T / 0.1
    # Every entry positive: the mean of -log_softmax over all of them.
    expected = -torch.log_softmax(logits, dim=1).mean()
    torch.testing.assert_close(cmsc_loss(first, first, torch.tensor([4, 4])), expected)


def test_symmetric_and_zero_for_one_pair():
    generator = torch.Generator().manual_seed(0)
    first, second = torch.randn(5, 3, generator=generator), torch.randn(5, 3, generator=generator)
    torch.testing.assert_close(cmsc_loss(first, second), cmsc_loss(second, first))
    assert float(cmsc_loss(first[:1], second[:1])) == 0.0


def test_matched_pairs_score_below_mismatched_ones():
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    assert cmsc_loss(z, z + 0.01) < cmsc_loss(z, z.roll(1, dims=0))


def test_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"both be \(n_pairs, n_features\)"):
        cmsc_loss(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"ids must have shape \(3,\)"):
        cmsc_loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(2))
