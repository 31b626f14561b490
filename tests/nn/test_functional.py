import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.nn.functional import (
    aggregate_windows,
    batched_forward,
    mean_window_embeddings,
    random_crops,
    segment_pairs,
    sliding_windows,
    stft_magnitude,
)
from sklearn_ecg.preprocessing import STFTSpectrogram


def _options(**changes):
    """The STFT options of STFTSpectrogram's defaults (the paper's), with changes."""
    options = STFTSpectrogram().get_params()
    del options["fs"]
    return {**options, **changes}


@settings(max_examples=30, deadline=None)
@given(
    n_times=st.integers(1, 400), nperseg=st.integers(1, 48), overlap=st.floats(0, 0.95),
    extra_fft=st.sampled_from([0, 3, 40]),
)
def test_shape_follows_the_frame_formula(n_times, nperseg, overlap, extra_fft):
    noverlap = min(int(overlap * nperseg), nperseg - 1)
    nfft = nperseg + extra_fft
    x = torch.zeros(2, 3, n_times)
    hop = nperseg - noverlap
    n_frames = int(np.ceil((n_times + 2 * (nperseg // 2) - nperseg) / hop)) + 1
    magnitude = stft_magnitude(x, **_options(nperseg=nperseg, noverlap=noverlap, nfft=nfft))
    assert magnitude.shape == (2, 3, nfft // 2 + 1, n_frames)



@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), a=st.floats(-100, 100), n_times=st.integers(1, 300))
def test_magnitude_is_non_negative_and_absolutely_homogeneous(seed, a, n_times):
    x = torch.as_tensor(np.random.default_rng(seed).normal(size=(2, 2, n_times)))
    magnitude = stft_magnitude(x, **_options())
    assert (magnitude >= 0).all()
    torch.testing.assert_close(stft_magnitude(a * x, **_options()), abs(a) * magnitude, rtol=1e-9, atol=1e-12)



def test_function_matches_transformer():
    X = np.random.default_rng(2).normal(size=(4, 12, 250)).astype(np.float32)
    options = _options(nperseg=16, noverlap=8, nfft=32, window="hamming", log=True, eps=1e-4)
    np.testing.assert_array_equal(
        STFTSpectrogram(**options).fit_transform(X), stft_magnitude(torch.from_numpy(X), **options).numpy()
    )



@pytest.mark.parametrize("nfft", [None, 128])
def test_gradient_is_finite_through_zero_spectra(nfft):
    # A zeroed lead (random lead masking) has magnitude 0 everywhere.
    x = torch.randn(2, 3, 60, dtype=torch.float64)
    x[:, 1] = 0
    x.requires_grad_(True)
    stft_magnitude(x, **_options(nfft=nfft)).sum().backward()
    assert torch.isfinite(x.grad).all()
    signal = torch.randn(1, 1, 30, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: stft_magnitude(v, **_options(nfft=nfft)), (signal,))



def test_non_float_tensors_are_rejected():
    with pytest.raises(TypeError, match="floating point"):
        stft_magnitude(torch.zeros(1, 1, 50, dtype=torch.int64), **_options())
    with pytest.raises(TypeError, match="floating point"):
        stft_magnitude(np.zeros((1, 1, 50)), **_options())



@pytest.mark.parametrize("kwargs, error, match", [
    (dict(noverlap=25), ValueError, "noverlap"),
    (dict(nperseg=0), ValueError, "nperseg"),
    (dict(nfft=10), ValueError, "nfft"),
    (dict(window=np.ones(3)), ValueError, "window"),
    (dict(window=np.zeros(25)), ValueError, "sum"),
])
def test_invalid_stft_options_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        stft_magnitude(torch.zeros(1, 1, 50), **_options(**kwargs))



@settings(max_examples=40, deadline=None)
@given(n_times=st.integers(1, 120), window=st.integers(1, 40), step=st.integers(1, 40), n_records=st.integers(1, 4))
def test_sliding_windows_cover_every_sample(n_times, window, step, n_records):
    X = np.random.default_rng(n_times).normal(size=(n_records, 2, n_times)).astype(np.float32)
    windows, record_index = sliding_windows(X, window, step)
    per_record = len(windows) // n_records
    assert windows.shape == (n_records * per_record, 2, window) and windows.dtype == np.float32
    np.testing.assert_array_equal(record_index, np.repeat(np.arange(n_records), per_record))
    if n_times < window:
        assert per_record == 1
        np.testing.assert_array_equal(windows[:, :, :n_times], X)
        assert not windows[:, :, n_times:].any()
        return
    # Recover each window's start from record 0 and check it is a slice of every record.
    starts = []
    for k in range(per_record):
        matches = [s for s in range(n_times - window + 1) if np.array_equal(X[0, :, s:s + window], windows[k])]
        starts.append(matches[0])
        for r in range(n_records):
            np.testing.assert_array_equal(windows[r * per_record + k], X[r, :, starts[-1]:starts[-1] + window])
    expected = list(range(0, n_times - window + 1, step))
    if expected[-1] != n_times - window:
        expected.append(n_times - window)
    assert starts == expected



def test_sliding_windows_reject_bad_arguments():
    with pytest.raises(ValueError, match="3-D"):
        sliding_windows(np.zeros((2, 10)), 4, 2)
    with pytest.raises(ValueError, match="step"):
        sliding_windows(np.zeros((2, 1, 10)), 4, 0)



@pytest.mark.parametrize("how, reduce", [("mean", np.mean), ("max", np.max)])
def test_aggregate_windows_matches_a_loop(how, reduce):
    rng = np.random.default_rng(0)
    record_index = rng.permutation(np.repeat(np.arange(5), [1, 3, 2, 4, 1]))  # unsorted
    values = rng.normal(size=(len(record_index), 3, 2)).astype(np.float32)
    aggregated = aggregate_windows(values, record_index, 5, how=how)
    expected = np.stack([reduce(values[record_index == r], axis=0) for r in range(5)])
    assert aggregated.dtype == np.float32
    np.testing.assert_allclose(aggregated, expected, rtol=1e-6, atol=1e-7)



def test_aggregated_sliding_windows_recover_a_per_record_mean():
    X = np.random.default_rng(1).normal(size=(6, 12, 100))
    windows, record_index = sliding_windows(X, 25, 25)
    np.testing.assert_allclose(aggregate_windows(windows.mean(axis=(1, 2)), record_index, 6), X.mean(axis=(1, 2)))



@pytest.mark.parametrize("record_index, match", [
    (np.array([0, 0, 2]), "Records \\[1\\] have no window"),
    (np.array([0, 1, 3]), "lie in"),
    (np.array([0, -1, 2]), "lie in"),
    (np.array([0.0, 1.0, 2.0]), "integers"),
])
def test_aggregate_windows_rejects_bad_record_index(record_index, match):
    with pytest.raises(ValueError, match=match):
        aggregate_windows(np.ones((3, 2)), record_index, 3)



@settings(max_examples=30, deadline=None)
@given(n_times=st.integers(1, 60), window=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_random_crops_are_windows_of_each_item(n_times, window, seed):
    x = torch.randn(5, 3, n_times, dtype=torch.float64)
    before = x.clone()
    crops = random_crops(x, window, torch.Generator().manual_seed(seed))
    assert crops.shape == (5, 3, window)
    torch.testing.assert_close(x, before, rtol=0, atol=0)
    torch.testing.assert_close(crops, random_crops(x, window, torch.Generator().manual_seed(seed)), rtol=0, atol=0)
    if n_times <= window:
        torch.testing.assert_close(crops[..., :n_times], x, rtol=0, atol=0)
        assert not crops[..., n_times:].any()
        return
    for item, crop in zip(x, crops):
        assert any(torch.equal(item[:, s:s + window], crop) for s in range(n_times - window + 1))



def test_random_crops_start_uniformly():
    x = torch.arange(10.0).repeat(4000, 1, 1)
    starts = random_crops(x, 7, torch.Generator().manual_seed(0))[:, 0, 0]
    counts = torch.bincount(starts.long(), minlength=4)
    assert len(counts) == 4 and (counts > 850).all()  # 1000 expected per start



def test_random_crops_reject_bad_input():
    with pytest.raises(ValueError, match="3-D"):
        random_crops(torch.zeros(2, 10), 4, torch.Generator())
    with pytest.raises(ValueError, match="window"):
        random_crops(torch.zeros(2, 1, 10), 0, torch.Generator())


@settings(max_examples=25, deadline=None)
@given(n_items=st.integers(1, 40), start=st.integers(0, 39), length=st.integers(1, 40), batch_size=st.integers(1, 16))
def test_batched_forward_gives_each_item_the_same_output_whatever_the_others(n_items, start, length, batch_size):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv1d(3, 8, 5), torch.nn.Flatten(), torch.nn.LazyLinear(4)).eval()
    x = torch.randn(n_items, 3, 20)
    with torch.no_grad():
        whole = batched_forward(module, x, batch_size)
        part = batched_forward(module, x[start:start + length], batch_size)
    assert whole.shape == (n_items, 4)
    torch.testing.assert_close(part, whole[start:start + length], rtol=0, atol=0)


def test_batched_forward_keeps_tuple_outputs():
    def two_outputs(x):
        return x.sum(dim=1), x * 2

    x = torch.arange(12.0).reshape(6, 2)
    total, doubled = batched_forward(two_outputs, x, 4)
    torch.testing.assert_close(total, x.sum(dim=1))
    torch.testing.assert_close(doubled, x * 2)
    with pytest.raises(ValueError, match="batch_size"):
        batched_forward(two_outputs, x, 0)


@settings(max_examples=50, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    segment_length=st.integers(1, 9),
)
def test_segment_pairs_are_consecutive_segments_of_each_record(lengths, segment_length):
    n_times = max(lengths)
    X = np.arange(len(lengths) * 2 * n_times, dtype=np.float32).reshape(len(lengths), 2, n_times)
    pairs, record_index, skipped = segment_pairs(X, segment_length, lengths=np.array(lengths))
    n_pairs = [length // (2 * segment_length) for length in lengths]
    assert pairs.shape == (sum(n_pairs), 2, 2, segment_length) and pairs.dtype == X.dtype
    np.testing.assert_array_equal(record_index, np.repeat(np.arange(len(lengths)), n_pairs))
    np.testing.assert_array_equal(skipped, [i for i, n in enumerate(n_pairs) if n == 0])
    for k, record in enumerate(record_index):
        start = 2 * segment_length * (k - np.searchsorted(record_index, record))
        np.testing.assert_array_equal(pairs[k, 0], X[record, :, start:start + segment_length])
        np.testing.assert_array_equal(pairs[k, 1], X[record, :, start + segment_length:start + 2 * segment_length])


def test_segment_pairs_of_ten_second_records_and_short_ones():
    X = np.zeros((3, 12, 1000), dtype=np.float32)
    pairs, record_index, skipped = segment_pairs(X, 500, lengths=np.array([1000, 999, 1000]))
    assert pairs.shape == (2, 2, 12, 500)
    np.testing.assert_array_equal(record_index, [0, 2])
    np.testing.assert_array_equal(skipped, [1])
    pairs, _, skipped = segment_pairs(X, 500)
    assert len(pairs) == 3 and skipped.size == 0


@pytest.mark.parametrize("X, kwargs, match", [
    (np.zeros((2, 100)), {}, "must be 3-D"),
    (np.zeros((2, 1, 100)), {"lengths": [100]}, r"lengths must be integers of shape \(2,\)"),
    (np.zeros((2, 1, 100)), {"lengths": [100, 101]}, r"lengths must lie in \[0, 100\]"),
])
def test_segment_pairs_reject_bad_input(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        segment_pairs(X, 10, **kwargs)
    with pytest.raises(ValueError, match="segment_length must be a positive integer"):
        segment_pairs(np.zeros((2, 1, 100)), 0)


@pytest.mark.parametrize("shape, window", [((3, 2, 10), 4), ((2, 2, 3, 9), 4), ((2, 1, 3), 5)])
def test_mean_window_embeddings_average_each_records_sliding_windows(shape, window):
    records = torch.randn(*shape, dtype=torch.float64)
    weights = torch.randn(int(np.prod(shape[1:-1])) * window, 2, dtype=torch.float64)

    def encoder(x):
        return x.flatten(1) @ weights

    flat = records.flatten(1, -2).numpy()
    windows, record_index = sliding_windows(flat, window, max(1, window // 2))
    expected = [encoder(torch.from_numpy(windows[record_index == i]).reshape((-1,) + shape[1:-1] + (window,)))
                .mean(dim=0) for i in range(shape[0])]
    got = mean_window_embeddings(encoder, records, window, batch_size=3)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, torch.stack(expected))
