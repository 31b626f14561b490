import numpy as np
import pytest

from sklearn_ecg._validation import check_signals


def test_2d_input_is_single_lead():
    X = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = check_signals(X)
    assert out.shape == (2, 1, 3) and out.dtype == np.float32
    assert check_signals(X, ndim=4).shape == (2, 1, 1, 3)


def test_read_only_input_is_not_copied_or_written():
    X = np.zeros((2, 12, 10), dtype=np.float32)
    X.setflags(write=False)
    out = check_signals(X, n_leads=12)
    assert np.shares_memory(out, X)


def test_integer_input_becomes_float():
    assert check_signals(np.ones((2, 1, 4), dtype=np.int16)).dtype == np.float32


@pytest.mark.parametrize(
    "X, kwargs, message",
    [
        (np.full((2, 12, 4), np.nan), {}, "NaN"),
        (np.full((2, 12, 4), np.inf), {}, "infinity"),
        (np.zeros((2, 3, 4, 5)), {}, r"got an array of shape \(2, 3, 4, 5\)"),
        (np.zeros((2, 11, 10)), {"n_leads": 12}, "11 leads"),
        (np.zeros((2, 12, 10)), {"min_times": 20}, "at least 20"),
        (np.zeros((2, 12, 10)), {"ndim": 4}, "n_freqs, n_frames"),
    ],
)
def test_bad_signals_get_a_clear_message(X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_signals(X, **kwargs)
