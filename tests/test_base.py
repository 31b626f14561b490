import copy
import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
import torch
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.exceptions import DeviceWarning

from sklearn_ecg.base import BaseTorchEstimator, RecordBatches, SeededNet, collate_records
from sklearn_ecg.base import _resolve_device as resolve_device


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


class _Holder(BaseTorchEstimator):
    _torch_attributes = ("module_", "alias_")

    def __init__(self, *, size=3, lr=0.1, max_epochs=2, batch_size=4, device="cpu", verbose=0):
        self.size = size
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

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


def test_model_fitted_with_device_cuda_loads_on_the_cpu_with_one_warning():
    holder = _Holder().fit()
    holder.net_ = holder._build_net(torch.nn.Linear, np.random.RandomState(0), criterion=torch.nn.MSELoss,
                                    module__in_features=3, module__out_features=1).initialize()
    holder._torch_attributes = ("module_", "alias_", "net_")
    # As if fitted on a GPU with device="cuda": the estimator and its net name CUDA, every tensor is tagged so.
    holder.device = holder.net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data = pickle.dumps([holder, _Holder(device="cuda:1")])
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.warns(DeviceWarning) as record:
            loaded, unfitted = pickle.loads(data)
        with loaded._inference(loaded.module_) as (module, device):  # no "CUDA is not available"
            assert device == torch.device("cpu") and module.weight.device.type == "cpu"
    # skorch's own warning for the net is folded into the estimator's: one message.
    assert {str(w.message) for w in record} == {str(record[0].message)}
    assert "CUDA is not available on this machine" in str(record[0].message)
    assert (loaded.device, str(loaded.net_.device), unfitted.device) == ("cpu", "cpu", "cpu")
    torch.testing.assert_close(loaded.net_.module_.weight, holder.net_.module_.weight.cpu())
    with mock.patch.object(torch.cuda, "is_available", lambda: True):
        assert pickle.loads(pickle.dumps(_Holder(device="cuda"))).device == "cuda"  # kept where CUDA is


def test_unfitted_estimator_pickles_without_torch_state():
    loaded = pickle.loads(pickle.dumps(_Holder(size=5)))
    assert loaded.size == 5 and not hasattr(loaded, "module_")


def test_net_draws_initial_weights_loaders_and_generator_from_the_random_state_in_order():
    state = torch.get_rng_state()
    nets = [
        _Holder()._build_net(torch.nn.Linear, np.random.RandomState(seed), criterion=torch.nn.MSELoss,
                             module__in_features=3, module__out_features=1).initialize()
        for seed in (0, 0, 1)
    ]
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn from torch's global generator
    assert isinstance(nets[0], SeededNet) and nets[0].device == "cpu" and nets[0].lr == 0.1
    first, again, other = (net.module_.weight for net in nets)
    assert torch.equal(first, again) and not torch.equal(first, other)
    rng = np.random.RandomState(0)
    seeds = [rng.randint(0, 2**63 - 1, dtype=np.int64) for _ in range(4)]  # init, train, valid, net
    assert nets[0].init_seed == seeds[0]
    assert nets[0].iterator_train__generator.initial_seed() == seeds[1]
    assert nets[0].iterator_valid__generator.initial_seed() == seeds[2]
    assert nets[0].generator.initial_seed() == seeds[3]
    # A module given built keeps its weights: no seed is drawn for it.
    built = _Holder()._build_net(torch.nn.Linear(3, 1), np.random.RandomState(0), seeded_iterators=("train",),
                                 criterion=torch.nn.MSELoss)
    assert built.init_seed is None and built.iterator_train__generator.initial_seed() == seeds[0]
    assert built.generator.initial_seed() == seeds[1]


@pytest.mark.parametrize("verbose", [0, 1])
def test_default_callbacks_schedule_early_stopping_and_progress(verbose):
    schedule = LRScheduler()
    callbacks = _Holder(verbose=verbose)._default_callbacks(schedule, extra=[("x", None)], patience=3,
                                                            monitor="valid_loss", load_best=True)
    names = ["lr_schedule", "x", "early_stopping"] + (["progress"] if verbose else [])
    assert [name for name, _ in callbacks] == names
    assert callbacks[0][1] is schedule
    stopping = dict(callbacks)["early_stopping"]
    assert isinstance(stopping, EarlyStopping)
    assert (stopping.monitor, stopping.patience, stopping.load_best) == ("valid_loss", 3, True)
    assert isinstance(dict(callbacks).get("progress", ProgressBar()), ProgressBar)
    assert [name for name, _ in _Holder()._default_callbacks(schedule)] == ["lr_schedule"]


def test_inference_leaves_the_fitted_module_alone():
    holder = _Holder().fit()
    module = holder.module_.train()
    with holder._inference(module) as (used, device):
        assert used is module and device == torch.device("cpu") and not used.training
        assert not torch.is_grad_enabled()
    assert module.training  # the mode it had
    # On another device than the module's, a copy is moved there; the fitted module stays.
    with mock.patch("sklearn_ecg.base._is_on", lambda module, device: False):
        with holder._inference(module) as (used, _):
            assert used is not module
            torch.testing.assert_close(used.weight, module.weight)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            with holder.set_params(device="cuda")._inference(module):
                pass


def test_history_is_the_nets():
    holder = _Holder()
    assert not hasattr(holder, "history_")
    holder.net_ = holder._build_net(torch.nn.Linear, np.random.RandomState(0), criterion=torch.nn.MSELoss,
                                    module__in_features=3, module__out_features=1, train_split=None)
    holder.net_.fit(np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32))
    assert holder.history_ is holder.net_.history and len(holder.history_) == 2


def _dropout_net(module, seed):
    return _Holder(max_epochs=1)._build_net(module, np.random.RandomState(seed), criterion=torch.nn.MSELoss,
                                            train_split=None)


class _WithDropout(torch.nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)
        self.attention = torch.nn.MultiheadAttention(4, 1, dropout=0.5, batch_first=True) if attention else None
        self.dropout = torch.nn.Dropout(0.0 if attention else 0.5)

    def forward(self, x):
        h = self.dropout(self.linear(x))[:, None]
        return h[:, 0] if self.attention is None else self.attention(h, h, h)[0][:, 0]


@pytest.mark.parametrize("attention", [False, True])
def test_dropout_draws_from_the_nets_generator_not_the_global_one(attention):
    X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    with torch.random.fork_rng(devices=[]):
        start = _WithDropout(attention)
    weights = []
    for seed, moves in ((0, 1), (0, 7), (1, 1)):
        torch.rand(moves)  # the global generator's state must not matter
        state = torch.get_rng_state()
        net = _dropout_net(copy.deepcopy(start), seed).fit(X, X)
        assert torch.equal(torch.get_rng_state(), state)
        weights.append(net.module_.linear.weight.detach().clone())
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])


def test_a_module_without_dropout_draws_nothing_more_from_the_generator():
    net = _dropout_net(torch.nn.Linear(4, 4), seed=0)
    before = net.generator.get_state()
    X = np.zeros((8, 4), np.float32)
    net.fit(X, X)
    assert torch.equal(net.generator.get_state(), before)


def test_record_batches_follow_the_index_and_repeats_and_copy_read_only_input():
    X = np.arange(12, dtype=np.float32).reshape(3, 1, 4)
    X.flags.writeable = False
    Y = np.eye(3, dtype=np.float32)
    data = RecordBatches(X, Y, np.array([2, 0]), repeats=2)
    assert len(data) == 4
    record, labels = data[3]  # second repeat of the second record of the index
    np.testing.assert_array_equal(record.numpy(), X[0])
    np.testing.assert_array_equal(labels.numpy(), Y[0])
    records, labels = data.__getitems__([3, 0, 1])  # one read per batch, in the sampler's order
    np.testing.assert_array_equal(records.numpy(), X[[0, 2, 0]])
    np.testing.assert_array_equal(labels.numpy(), Y[[0, 2, 0]])
    records += 1  # a copy: the input is untouched
    assert X[0, 0, 0] == 0
    _, zeros = RecordBatches(X).__getitems__([0, 1])  # without targets: 0 per record
    assert zeros.tolist() == [0, 0]


def test_record_batches_read_a_memmap_batch_without_loading_the_rest(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, np.arange(600, dtype=np.float32).reshape(50, 3, 4))
    X = np.load(path, mmap_mode="r")
    loader = torch.utils.data.DataLoader(
        RecordBatches(X, repeats=1), batch_size=8, shuffle=True, collate_fn=collate_records,
        generator=torch.Generator().manual_seed(0),
    )
    batches = list(loader)
    assert [len(records) for records, _ in batches] == [8] * 6 + [2]
    seen = torch.cat([records for records, _ in batches])
    assert sorted(seen[:, 0, 0].tolist()) == list(range(0, 600, 12))
    assert isinstance(X, np.memmap)  # read through the map, not replaced by a loaded copy


def test_collate_records_leaves_other_samples_to_torch():
    batch = collate_records([(torch.zeros(2), 1), (torch.ones(2), 0)])
    assert batch[0].shape == (2, 2) and batch[1].tolist() == [1, 0]


class _Regressor(BaseTorchEstimator):
    """A linear regressor with the torch options of the base."""

    def __init__(self, *, precision="32", pin_memory=False, accelerator=None, lr=0.1, max_epochs=2, batch_size=4,
                 device="cpu", verbose=0):
        self.precision, self.pin_memory, self.accelerator = precision, pin_memory, accelerator
        self.lr, self.max_epochs, self.batch_size = lr, max_epochs, batch_size
        self.device, self.verbose = device, verbose

    def fit(self, X, y):
        net = self._build_net(torch.nn.Linear, np.random.RandomState(0), criterion=torch.nn.MSELoss,
                              module__in_features=X.shape[1], module__out_features=1, train_split=None)
        self.net_ = self._fit_net(net, RecordBatches(X, y[:, None]))
        return self


def _regression_data():
    X = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    return X, (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))


def test_torch_options_are_validated_with_the_other_parameters():
    from sklearn_ecg.pretraining import SelfKDPretrainer

    X = np.zeros((4, 2, 20), dtype=np.float32)
    for option in ({"precision": "64"}, {"precision": 16}, {"pin_memory": "yes"}, {"accelerator": "horovod"}):
        with pytest.raises(ValueError, match=f"'{next(iter(option))}' parameter"):
            SelfKDPretrainer(size="tiny", max_epochs=1, **option).fit(X)


def test_float16_and_pinned_memory_are_ignored_with_a_warning_on_the_cpu():
    X, y = _regression_data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = _Regressor(precision="16", pin_memory=True).fit(X, y)
    messages = [str(w.message) for w in record]
    assert any("precision='16' (float16 autocast with a gradient scaler) needs a CUDA device" in m for m in messages)
    assert any("pin_memory=True only speeds up copies to a CUDA device" in m for m in messages)
    assert model.net_.precision == "32" and model.net_.grad_scaler_ is None
    assert not model.net_.iterator_train__pin_memory


def test_bfloat16_autocasts_training_and_prediction_on_the_cpu():
    X, y = _regression_data()
    seen = []
    model = _Regressor(precision="bf16")
    with mock.patch.object(torch.nn.Linear, "forward", lambda self, x: seen.append(
            torch.nn.functional.linear(x, self.weight, self.bias)) or seen[-1]):
        model.fit(X, y)
        with model._inference(model.net_.module_) as (module, device):
            prediction = module(torch.from_numpy(X).to(device))
    assert {out.dtype for out in seen} == {torch.bfloat16}
    assert prediction.dtype == torch.bfloat16
    assert model.net_.module_.weight.dtype == torch.float32  # the weights stay float32
    assert np.isfinite(model.history_[:, "train_loss"]).all()


def test_a_gradient_scaler_scales_the_loss_and_unscales_gradients_before_the_callbacks():
    X, y = _regression_data()
    norms = {}
    for scaled in (False, True):
        net = _Regressor(max_epochs=1, batch_size=16)._build_net(
            torch.nn.Linear, np.random.RandomState(0), criterion=torch.nn.MSELoss, module__in_features=3,
            module__out_features=1, train_split=None).initialize()
        if scaled:
            net.grad_scaler_ = torch.amp.GradScaler("cpu", init_scale=1024.0)
        net.on_grad_computed = lambda net, named_parameters, key=scaled, **kwargs: norms.__setitem__(
            key, [p.grad.clone() for _, p in named_parameters])
        net.partial_fit(RecordBatches(X, y[:, None]))
        norms[scaled, "weight"] = net.module_.weight.detach().clone()
    for plain, unscaled in zip(norms[False], norms[True]):
        torch.testing.assert_close(plain, unscaled)  # the callbacks saw true gradients
    torch.testing.assert_close(norms[False, "weight"], norms[True, "weight"])  # and the step was the same


def test_accelerator_option_needs_accelerate_and_names_the_extra():
    pytest.importorskip("skorch")
    try:
        import accelerate  # noqa: F401
    except ImportError:
        X, y = _regression_data()
        with pytest.raises(ImportError, match=r"sklearn-ecg\[accelerate\]"):
            _Regressor(accelerator="accelerate").fit(X, y)
    else:
        pytest.skip("accelerate is installed; tests/test_accelerate.py covers the option")
