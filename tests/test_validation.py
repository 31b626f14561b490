import numpy as np
import pytest

from sklearn_ecg._validation import (
    check_amplitude,
    check_signals,
    record_lengths,
    signal_amplitude,
    warn_short_records,
)


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


def _signals(scale=1.0, n=40, seed=0):
    return (scale * np.random.default_rng(seed).normal(size=(n, 12, 200))).astype(np.float32)


def test_amplitude_is_the_median_percentile_over_present_leads():
    X = _signals()
    expected = np.median(np.quantile(np.abs(X), 0.99, axis=-1))
    X[:10, 6:] = 0  # absent leads are left out, not counted as zero amplitude
    assert signal_amplitude(X) == pytest.approx(expected, rel=0.05)
    assert signal_amplitude(np.zeros((3, 12, 50), np.float32)) is None
    many = np.concatenate([_signals(n=300), _signals(1e3, n=300, seed=1)])  # at most 256 records, spread
    assert signal_amplitude(many) == pytest.approx(signal_amplitude(many[::2]), rel=0.5)


class _Fitted:
    pass


@pytest.mark.parametrize("scale, message", [
    (1000.0, "1000 times larger.*ADC counts instead of mV"),  # µV, or counts at 1000/mV
    (200.0, "200 times larger.*a gain not applied"),
    (11.0, "11 times larger"),
    (1e-3, "1000 times smaller.*V instead of mV"),
])
def test_amplitude_far_from_that_of_fit_warns_naming_the_cause(scale, message):
    estimator = _Fitted()
    check_amplitude(estimator, _signals(), reset=True)
    with pytest.warns(UserWarning, match=f"given to _Fitted are {message}"):
        check_amplitude(estimator, _signals(scale), reset=False)


@pytest.mark.parametrize("scale", [1.0, 5.0, 0.2])
def test_amplitude_within_an_order_of_magnitude_is_quiet(scale, recwarn):
    estimator = _Fitted()
    check_amplitude(estimator, _signals(), reset=True)
    check_amplitude(estimator, _signals(scale, n=2, seed=1), reset=False)
    check_amplitude(_Fitted(), _signals(1e3), reset=False)  # fitted before amplitudes were recorded
    assert not recwarn.list


def test_record_lengths_end_at_the_last_nonzero_sample_of_any_lead():
    X = np.zeros((3, 2, 10), np.float32)
    X[0, 1, 6] = 1.0
    X[1, 0, 0] = -2.0
    X[2, :, :] = 1.0
    np.testing.assert_array_equal(record_lengths(X), [7, 1, 10])
    np.testing.assert_array_equal(record_lengths(np.zeros((1, 1, 4), np.float32)), [0])
    np.testing.assert_array_equal(record_lengths(np.ones((2, 3, 4, 5), np.float32)), [5, 5])  # spectrograms


def test_records_shorter_than_half_a_window_warn_naming_how_many(recwarn):
    X = np.ones((5, 12, 300), np.float32)
    X[:2, :, 124:] = 0  # zero-padded to the array's length
    with pytest.warns(UserWarning, match=r"2 of 5 records are shorter than half a window \(fewer than 125 of 250"):
        warn_short_records(X, 250)
    recwarn.clear()
    warn_short_records(X[2:], 250)
    X[:2, :, 124] = 1  # 125 samples: half a window
    warn_short_records(X, 250)
    assert not recwarn.list
