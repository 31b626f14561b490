import numpy as np
import pytest
import torch

from sklearn_ecg._random import SKLEARN_SEED_BITS, draw_seed, seeded_torch, torch_generator


def test_same_seed_same_stream_and_global_state_untouched():
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = torch.rand(5, generator=torch_generator(3))
    b = torch.rand(5, generator=torch_generator(3))
    c = torch.rand(5, generator=torch_generator(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert all(np.array_equal(x, y) for x, y in zip(np_state[1:2], np.random.get_state()[1:2]))


def test_random_state_instance_advances():
    rng = np.random.RandomState(0)
    assert draw_seed(rng) != draw_seed(rng)
    assert draw_seed(7) == draw_seed(7)


def test_sklearn_seeds_are_those_scikit_learn_draws_for_sub_estimators():
    ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
    drawn = [draw_seed(ours, bits=SKLEARN_SEED_BITS) for _ in range(5)]
    assert drawn == [theirs.randint(np.iinfo(np.int32).max) for _ in range(5)]
    with pytest.raises(ValueError, match="bits"):
        draw_seed(0, bits=32)


def test_seeded_torch_reproduces_weights_and_restores_global_state():
    state = torch.get_rng_state()
    with seeded_torch(7):
        first = torch.nn.Linear(4, 3).weight.detach().clone()
    with seeded_torch(7):
        second = torch.nn.Linear(4, 3).weight.detach().clone()
    with seeded_torch(8):
        other = torch.nn.Linear(4, 3).weight.detach().clone()
    assert torch.equal(first, second) and not torch.equal(first, other)
    assert torch.equal(torch.get_rng_state(), state)
