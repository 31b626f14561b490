import numpy as np
import torch

from sklearn_ecg._random import draw_seed, torch_generator


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
