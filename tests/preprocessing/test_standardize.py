import numpy as np
import pytest

from sklearn_ecg.preprocessing import LeadStandardizer


def _leads_with_different_statistics(shape, seed=0):
    rng = np.random.default_rng(seed)
    n_leads = shape[1]
    means = rng.uniform(-5, 5, size=n_leads).reshape((1, -1) + (1,) * (len(shape) - 2))
    scales = rng.uniform(0.1, 10, size=n_leads).reshape(means.shape)
    return (means + scales * rng.normal(size=shape)).astype(np.float32)


@pytest.mark.parametrize("shape", [(40, 12, 100), (30, 12, 13, 21)], ids=["signals", "spectrograms"])
def test_each_lead_gets_zero_mean_and_unit_variance(shape):
    X = _leads_with_different_statistics(shape)
    axes = (0,) + tuple(range(2, len(shape)))
    scaler = LeadStandardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, X.astype(np.float64).mean(axis=axes))
    np.testing.assert_allclose(scaler.scale_, X.astype(np.float64).std(axis=axes))
    Xt = scaler.transform(X)
    assert Xt.shape == X.shape and Xt.dtype == np.float32
    np.testing.assert_allclose(Xt.mean(axis=axes, dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(Xt.std(axis=axes, dtype=np.float64), 1, rtol=1e-5)


def test_common_scale_is_one_pooled_deviation_for_all_leads():
    X = _leads_with_different_statistics((30, 12, 13, 21))
    scaler = LeadStandardizer(common_scale=True).fit(X)
    centred = X.astype(np.float64) - X.astype(np.float64).mean(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(scaler.scale_, np.full(12, centred.std()))
    Xt = scaler.transform(X)
    np.testing.assert_allclose(Xt.mean(axis=(0, 2, 3), dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(Xt.std(dtype=np.float64), 1, rtol=1e-5)
    # Relative lead amplitudes are kept.
    ratio = Xt.std(axis=(0, 2, 3)) / X.std(axis=(0, 2, 3))
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)


def test_constant_leads_are_only_centred():
    X = _leads_with_different_statistics((10, 3, 50))
    X[:, 1] = 0.0  # an absent lead
    X[:, 2] = 7.0
    scaler = LeadStandardizer().fit(X)
    np.testing.assert_array_equal(scaler.scale_[1:], 1.0)
    Xt = scaler.transform(X)
    assert np.isfinite(Xt).all() and not Xt[:, 1:].any()


def test_inverse_transform_round_trip():
    X = _leads_with_different_statistics((10, 12, 40)).astype(np.float64)
    scaler = LeadStandardizer().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)


def test_statistics_do_not_lose_float32_precision():
    # A large offset over many values: float32 accumulation would drift.
    X = (1000 + np.random.default_rng(3).normal(size=(200, 2, 2000))).astype(np.float32)
    scaler = LeadStandardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=(0, 2), dtype=np.float64), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, X.std(axis=(0, 2), dtype=np.float64), rtol=1e-9)


def test_spectrograms_with_other_lead_count_are_rejected():
    scaler = LeadStandardizer().fit(np.ones((2, 12, 5, 5)))
    with pytest.raises(ValueError, match="12 are required"):
        scaler.transform(np.ones((2, 6, 5, 5)))


@pytest.mark.parametrize("shape", [(6, 12, 80), (6, 12, 5, 7)], ids=["signals", "spectrograms"])
def test_absent_leads_stay_zero(shape):
    X = _leads_with_different_statistics(shape)
    scaler = LeadStandardizer().fit(X)
    reduced = X.copy()
    reduced[0, [2, 5]] = 0.0  # two leads not recorded in record 0
    Xt = scaler.transform(reduced)
    assert not Xt[0, [2, 5]].any()
    np.testing.assert_array_equal(Xt[1:], scaler.transform(X)[1:])
    np.testing.assert_array_equal(np.delete(Xt[0], [2, 5], axis=0),
                                  np.delete(scaler.transform(X)[0], [2, 5], axis=0))
    # A lead that only touches zero somewhere is standardised as usual.
    reduced[1, 3, 0] = 0.0
    assert scaler.transform(reduced)[1, 3].all()
    standardised = LeadStandardizer(keep_absent_leads=False).fit(X).transform(reduced)[0, 2]
    np.testing.assert_allclose(standardised, -scaler.mean_[2] / scaler.scale_[2], rtol=1e-5)
