import numpy as np
import pytest
import torch

from sklearn_ecg.nn import SelectColumns, StandardizeLeads, STFTMagnitude
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram


def test_stft_front_end_matches_the_transformer_and_passes_gradients():
    x = np.random.default_rng(0).normal(size=(2, 3, 250)).astype(np.float32)
    options = dict(nperseg=20, noverlap=10, log=True)
    expected = STFTSpectrogram(**options).fit_transform(x)
    signal = torch.from_numpy(x).requires_grad_(True)
    module = STFTSpectrogram(**options).to_torch()
    assert isinstance(module, STFTMagnitude)
    out = module(signal)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert torch.isfinite(signal.grad).all() and signal.grad.abs().sum() > 0



@pytest.mark.parametrize("shape", [(4, 3, 50), (4, 3, 5, 7)])
def test_standardize_leads_matches_the_fitted_transformer(shape):
    x = np.random.default_rng(1).normal(2.0, 3.0, size=shape).astype(np.float32)
    scaler = LeadStandardizer().fit(x)
    module = scaler.to_torch()
    assert isinstance(module, StandardizeLeads)
    np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), scaler.transform(x), rtol=1e-5, atol=1e-5)



def test_select_columns_keeps_its_indices_as_a_buffer():
    # A buffer moves with module.to(device) and is saved in the state dict.
    module = SelectColumns([1, 0])
    assert module.state_dict()["columns"].tolist() == [1, 0]



def test_stft_module_takes_every_option_explicitly_and_checks_them():
    with pytest.raises(TypeError):
        STFTMagnitude(nperseg=25)  # the defaults are STFTSpectrogram's, not repeated here
    with pytest.raises(ValueError, match="noverlap"):
        STFTMagnitude(nperseg=25, noverlap=25, nfft=None, window="hann", log=False, eps=1e-6)


def test_standardize_leads_of_an_unfitted_transformer_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LeadStandardizer().to_torch()
