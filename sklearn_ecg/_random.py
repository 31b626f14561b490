"""Seeding from scikit-learn's ``random_state`` without touching global random state.

Everything random in sklearn-ecg draws from a generator seeded here: numpy
``RandomState`` instances (``check_random_state``), torch generators
(:func:`torch_generator`), and, for the module constructors that can only
draw from torch's global generator, a forked copy of it
(:func:`seeded_torch`).
"""

import contextlib

import numpy as np
from sklearn.utils import check_random_state

# Seeds of scikit-learn random_state parameters, as scikit-learn draws them
# for its own sub-estimators (``randint(np.iinfo(np.int32).max)``).
SKLEARN_SEED_BITS = 31
_SEED_BITS = {SKLEARN_SEED_BITS, 63}


def draw_seed(random_state, *, bits=63):
    """Draw an integer seed from an int, RandomState or None.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As scikit-learn's ``random_state``; a RandomState advances.
    bits : {63, 31}, default=63
        63: a seed for torch or numpy generators. 31 (``SKLEARN_SEED_BITS``):
        a seed for a ``random_state`` parameter, drawn as scikit-learn seeds
        its sub-estimators, in ``[0, 2**31 - 1)``.

    Returns
    -------
    seed : int
    """
    if bits not in _SEED_BITS:
        raise ValueError(f"bits must be one of {sorted(_SEED_BITS)}; got {bits!r}.")
    return int(check_random_state(random_state).randint(0, 2**bits - 1, dtype=np.int64))


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


@contextlib.contextmanager
def seeded_torch(seed):
    """Make torch's global CPU generator produce the stream of ``seed`` inside the block.

    Module constructors draw their initial weights from the global
    generator; forking it (and restoring it on exit) gives reproducible
    weights without changing the caller's random state. Only the CPU
    generator is forked: modules are built on the CPU and moved afterwards.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        yield
