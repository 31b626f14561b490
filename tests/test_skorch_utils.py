import pickle
from unittest import mock

import pytest
import torch
from sklearn.base import BaseEstimator

from sklearn_ecg._skorch_utils import TorchPickleMixin, resolve_device, seeded_torch


def test_resolve_device_auto_follows_cuda_availability():
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        assert resolve_device("auto") == "cpu"
    with mock.patch.object(torch.cuda, "is_available", lambda: True):
        assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("device, match", [("cuda", "CUDA is not available"), ("gpu", "not a torch device")])
def test_resolve_device_rejects_unusable_devices(device, match):
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.raises(ValueError, match=match):
            resolve_device(device)


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


class _Holder(TorchPickleMixin, BaseEstimator):
    _torch_attributes = ("module_", "alias_")

    def __init__(self, size=3):
        self.size = size

    def fit(self):
        self.module_ = torch.nn.Linear(self.size, 2)
        self.alias_ = self.module_  # shared objects must stay shared
        self.other_ = [1, 2]
        return self


def test_pickle_keeps_torch_state_and_sharing_and_leaves_the_original_alone():
    holder = _Holder().fit()
    loaded = pickle.loads(pickle.dumps(holder))
    assert loaded.alias_ is loaded.module_ and loaded.other_ == [1, 2]
    torch.testing.assert_close(loaded.module_.weight, holder.module_.weight)
    assert "module_" in vars(holder)  # pickling did not strip the live object


def test_gpu_tensors_come_back_on_cpu_without_gpu():
    holder = _Holder().fit()
    # Simulate tensors saved from a GPU: every storage carries a CUDA tag.
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data = pickle.dumps(holder)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        loaded = pickle.loads(data)
    assert loaded.module_.weight.device.type == "cpu"
    torch.testing.assert_close(loaded.module_.weight, holder.module_.weight)


def test_unfitted_estimator_pickles_without_torch_state():
    loaded = pickle.loads(pickle.dumps(_Holder(size=5)))
    assert loaded.size == 5 and not hasattr(loaded, "module_")
