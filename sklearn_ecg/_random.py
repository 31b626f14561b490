"""Seeding torch from scikit-learn's ``random_state`` without global state."""

import numpy as np
from sklearn.utils import check_random_state


def draw_seed(random_state):
    """Draw a 63-bit integer seed from an int, RandomState or None."""
    return int(check_random_state(random_state).randint(0, 2**63 - 1, dtype=np.int64))


def torch_generator(random_state, device="cpu"):
    """Return a ``torch.Generator`` on ``device`` seeded from ``random_state``.

    Code that takes randomness from such a generator (never from torch's
    global one) gives the same result for the same seed and leaves the
    caller's global random state untouched.
    """
    import torch  # here, so that numpy-only users of draw_seed don't pay torch's import

    generator = torch.Generator(device=device)
    generator.manual_seed(draw_seed(random_state))
    return generator
