import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.augmentation import (
    Compose,
    FrequencyCutout,
    GaussianNoise,
    LeadTimeCutout,
    RandomLeadMasking,
    RandomResizedCrop,
    SpectrogramTimeCrop,
    TimeCutout,
)

SIGNALS = (6, 12, 50)
SPECTROGRAMS = (6, 12, 13, 21)
CASES = [
    (RandomLeadMasking(p=0.5), SIGNALS),
    (RandomLeadMasking(p=0.5), SPECTROGRAMS),
    (RandomResizedCrop(scale=(0.5, 1.0)), SIGNALS),
    (LeadTimeCutout(scale=(0.2, 0.4)), SIGNALS),
    (GaussianNoise(sigma=(0.005, 0.025)), SIGNALS),
    (SpectrogramTimeCrop(scale=(0.6, 1.0)), SPECTROGRAMS),
    (TimeCutout(scale=(0.1, 0.35)), SPECTROGRAMS),
    (FrequencyCutout(max_width=3), SPECTROGRAMS),
    (Compose([RandomResizedCrop(), LeadTimeCutout(), GaussianNoise(), RandomLeadMasking()]), SIGNALS),
]
IDS = [f"{type(a).__name__}-{len(shape)}d" for a, shape in CASES]


def _batch(shape, seed=0, dtype=torch.float32):
    # Strictly positive, so that zeros come from the augmentation only.
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) + 1.0


@pytest.mark.parametrize("augmentation, shape", CASES, ids=IDS)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_reproducible_same_shape_and_input_untouched(augmentation, shape, seed):
    x = _batch(shape)
    before = x.clone()
    first = augmentation(x, torch.Generator().manual_seed(seed))
    second = augmentation(x, torch.Generator().manual_seed(seed))
    assert first.shape == x.shape and first.dtype == x.dtype and first.device == x.device
    assert first.data_ptr() != x.data_ptr()
    torch.testing.assert_close(x, before, rtol=0, atol=0)
    torch.testing.assert_close(first, second, rtol=0, atol=0)


@pytest.mark.parametrize("augmentation, shape", CASES, ids=IDS)
def test_different_seeds_differ_and_pickling_keeps_behaviour(augmentation, shape):
    x = _batch(shape, dtype=torch.float64)
    outputs = [augmentation(x, torch.Generator().manual_seed(seed)) for seed in range(3)]
    assert not all(torch.equal(outputs[0], other) for other in outputs[1:])
    restored = pickle.loads(pickle.dumps(augmentation))
    torch.testing.assert_close(restored(x, torch.Generator().manual_seed(0)), outputs[0], rtol=0, atol=0)
    assert type(augmentation).__name__ in repr(augmentation)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_lead_masking_zeroes_a_fraction_p_of_the_leads(p):
    x = _batch((2000, 12, 3))
    y = RandomLeadMasking(p=p)(x, torch.Generator().manual_seed(1))
    zeroed = (y == 0).all(dim=-1)
    kept = (y == x).all(dim=-1)
    assert (zeroed ^ kept).all()  # each lead is either zeroed or untouched
    assert abs(zeroed.float().mean().item() - p) < 0.015  # 24,000 leads: sd of the fraction < 0.0033


def test_lead_masking_extremes():
    x = _batch(SIGNALS)
    torch.testing.assert_close(RandomLeadMasking(p=0.0)(x, torch.Generator()), x)
    assert not RandomLeadMasking(p=1.0)(x, torch.Generator()).any()


def test_resized_crop_of_a_ramp_is_a_ramp_within_its_range():
    n = 200
    x = torch.linspace(0, 1, n, dtype=torch.float64).repeat(64, 12, 1)
    y = RandomResizedCrop(scale=(0.5, 1.0))(x, torch.Generator().manual_seed(0))
    steps = y[..., 1:] - y[..., :-1]
    # Linear interpolation of a line: constant step, the crop's length / n.
    torch.testing.assert_close(steps, steps[..., :1].expand_as(steps), rtol=0, atol=1e-12)
    span = y[..., -1] - y[..., 0]
    assert ((span >= 0.5 - 2 / n) & (span <= 1 + 1e-12)).all()
    assert ((y >= 0) & (y <= 1)).all()
    assert (span[:, 1:] == span[:, :1]).all()  # one crop per item, shared by its leads


def test_resized_crop_of_full_scale_is_the_identity():
    x = _batch(SIGNALS)
    torch.testing.assert_close(RandomResizedCrop(scale=(1.0, 1.0))(x, torch.Generator()), x)


def _zero_runs(mask):
    """Per row of a boolean mask (..., n): number of True and whether they are contiguous."""
    counts = mask.sum(dim=-1)
    starts = (mask[..., 1:] & ~mask[..., :-1]).sum(dim=-1) + mask[..., 0].long()
    return counts, starts <= 1


def test_lead_time_cutout_zeroes_one_stretch_per_lead():
    n = 100
    y = LeadTimeCutout(scale=(0.2, 0.4))(_batch((50, 12, n)), torch.Generator().manual_seed(0))
    counts, contiguous = _zero_runs(y == 0)
    assert contiguous.all() and ((counts >= 20) & (counts <= 40)).all()
    first_zero = (y == 0).float().argmax(dim=-1)
    assert (first_zero != first_zero[:, :1]).any(dim=1).float().mean() > 0.9  # leads independent


def test_gaussian_noise_has_the_drawn_deviation():
    x = _batch((40, 12, 2000), dtype=torch.float64)
    noise = GaussianNoise(sigma=(0.005, 0.025))(x, torch.Generator().manual_seed(0)) - x
    sigma = noise.std(dim=(1, 2))
    assert ((sigma > 0.005 * 0.97) & (sigma < 0.025 * 1.03)).all()
    assert sigma.max() - sigma.min() > 0.005  # drawn per item
    assert noise.mean().abs() < 1e-4


def test_spectrogram_time_crop_keeps_a_run_of_frames_at_the_start():
    n = 20
    frames = torch.arange(1.0, n + 1)
    x = frames.expand(64, 12, 13, n).clone()
    y = SpectrogramTimeCrop(scale=(0.6, 1.0))(x, torch.Generator().manual_seed(0))
    kept = (y != 0).sum(dim=-1)
    assert (kept == kept[:, :1, :1]).all() and ((kept >= 12) & (kept <= 20)).all()
    for item, length in zip(y[:, 0, 0], kept[:, 0, 0]):
        run = item[:length]
        assert (run[1:] - run[:-1] == 1).all() and not item[length:].any()


def test_time_cutout_zeroes_one_run_of_frames_for_all_leads_and_freqs():
    y = TimeCutout(scale=(0.1, 0.35))(_batch((64, 12, 13, 20)), torch.Generator().manual_seed(0))
    zero = y == 0
    assert (zero == zero[:, :1, :1]).all()
    counts, contiguous = _zero_runs(zero[:, 0, 0])
    assert contiguous.all() and ((counts >= 2) & (counts <= 7)).all()


def test_frequency_cutout_zeroes_one_band_for_all_leads_and_frames():
    y = FrequencyCutout(max_width=4)(_batch((64, 12, 13, 21)), torch.Generator().manual_seed(0))
    zero = y == 0
    assert (zero == zero[:, :1, :, :1]).all()
    counts, contiguous = _zero_runs(zero[:, 0, :, 0])
    assert contiguous.all() and ((counts >= 1) & (counts <= 4)).all()
    assert len(counts.unique()) == 4


def test_compose_applies_in_order_with_one_generator():
    steps = [RandomResizedCrop(), GaussianNoise(), RandomLeadMasking()]
    x = _batch(SIGNALS)
    generator = torch.Generator().manual_seed(3)
    expected = x
    for step in steps:
        expected = step(expected, generator)
    torch.testing.assert_close(Compose(steps)(x, torch.Generator().manual_seed(3)), expected, rtol=0, atol=0)
    empty = Compose([])(x, torch.Generator())
    assert torch.equal(empty, x) and empty.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("make, match", [
    (lambda: RandomLeadMasking(p=1.5), "p must"),
    (lambda: RandomResizedCrop(scale=(0.0, 1.0)), "scale"),
    (lambda: LeadTimeCutout(scale=(0.5, 0.2)), "scale"),
    (lambda: GaussianNoise(sigma=(-1, 0.1)), "sigma"),
    (lambda: SpectrogramTimeCrop(scale=0.5), "pair"),
    (lambda: TimeCutout(scale=(0.1, 1.5)), "scale"),
    (lambda: FrequencyCutout(max_width=0), "max_width"),
])
def test_invalid_parameters_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_batches_are_rejected():
    with pytest.raises(ValueError, match="4 dimensions"):
        FrequencyCutout()(torch.ones(2, 12, 50), torch.Generator())
    with pytest.raises(TypeError, match="floating point"):
        GaussianNoise()(torch.ones(2, 12, 50, dtype=torch.int64), torch.Generator())
    with pytest.raises(TypeError, match="callables"):
        Compose([RandomLeadMasking(), "noise"])
