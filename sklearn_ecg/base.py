"""Base class of the estimators that train a torch module through skorch.

:class:`BaseTorchEstimator` holds what every such estimator needs and none
should repeat: the device, mixed precision, pinned-memory batches and data
parallelism through Hugging Face ``accelerate``, the skorch net and its
default callbacks, the training history, seeding from ``random_state``
without global state, inference that leaves the fitted state alone, and
pickles that load on a machine without the GPU they were fitted on.
:class:`RecordBatches` is the dataset of their nets: records read from an
array (or a memmap) a batch at a time.
"""

import contextlib
import copy
import io
import math
import os
import pickle
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.dataset import unpack_data
from skorch.exceptions import DeviceWarning
from skorch.hf import AccelerateMixin
from torch.utils.data import default_collate

from ._random import draw_seed, seeded_torch, torch_generator
from ._sklearn_compat import StrOptions

__all__ = ["BaseTorchEstimator", "RecordBatches", "SeededNet", "collate_records"]

# The autocast dtype of each ``precision``; "32" runs in float32 throughout.
PRECISIONS = {"32": None, "bf16": torch.bfloat16, "16": torch.float16}
# accelerate's name of each precision (Accelerator(mixed_precision=...)).
_ACCELERATE_PRECISION = {"32": "no", "bf16": "bf16", "16": "fp16"}


def autocast(precision, device):
    """The autocast context of ``precision`` on ``device`` (a no-op for ``"32"``).

    float16 autocast needs CUDA: on any other device ``"16"`` runs in
    float32 (:meth:`BaseTorchEstimator._build_net` warns at fit).
    """
    dtype = PRECISIONS[precision]
    device_type = torch.device(device).type
    if dtype is None or (dtype == torch.float16 and device_type != "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype)


class RecordBatches(torch.utils.data.Dataset):
    """Records ``index`` of ``X`` with their rows of ``Y``, each ``repeats`` times per epoch.

    A data loader fetches a batch with one call of :meth:`__getitems__`:
    one fancy-indexed read of ``X`` (a memmap reads only those records from
    its file), one tensor per batch, no per-record Python work; the nets of
    :class:`BaseTorchEstimator` collate with :func:`collate_records`, which
    passes such a batch through. Windows and augmentations are cut from the
    records in the train step, so every repeat of a record yields another
    random crop.

    Parameters
    ----------
    X : ndarray or memmap of shape (n_records, ...)
    Y : ndarray of shape (n_records, n_outputs) or None, default=None
        Targets; None gives a target of 0 per record.
    index : array-like of int or None, default=None
        The records used, in order; None: all of them.
    repeats : int, default=1
    """

    def __init__(self, X, Y=None, index=None, repeats=1):
        self.X = X
        self.Y = Y
        self.index = np.arange(len(X)) if index is None else np.asarray(index)
        self.repeats = repeats

    def __len__(self):
        return len(self.index) * self.repeats

    def __getitem__(self, i):
        x, y = self.__getitems__([i])
        return x[0], y[0]

    def __getitems__(self, indices):
        rows = self.index[np.asarray(indices) % len(self.index)]
        # Fancy indexing copies: read-only inputs (memmaps) never reach torch as views.
        X = torch.from_numpy(np.ascontiguousarray(self.X[rows]))
        Y = torch.zeros(len(rows), dtype=torch.int64) if self.Y is None else torch.from_numpy(self.Y[rows])
        return _Batch((X, Y))


class _Batch(tuple):
    """A batch already collated by :meth:`RecordBatches.__getitems__`."""


def collate_records(batch):
    """The data loaders' ``collate_fn``: batches of :class:`RecordBatches` as they are, others as torch does."""
    return batch if isinstance(batch, _Batch) else default_collate(batch)


class SeededNet(NeuralNet):
    """skorch ``NeuralNet`` whose randomness comes from seeds, not torch's global generator.

    The random crops and augmentations of a train step take ``generator``
    (a CPU ``torch.Generator``, so that the random stream does not depend
    on the device); a module given as a class is initialised from
    ``init_seed``. The nets of :class:`BaseTorchEstimator` subclasses derive
    from it.

    Its data loaders collate with :func:`collate_records`, so that batches
    of :class:`RecordBatches` come as one read each. Train steps run their
    forward pass and loss under :meth:`autocast` and
    back-propagate with :meth:`backward`, which scales the loss for float16
    (a ``GradScaler``, ``grad_scaler_``) and unscales the gradients before
    the callbacks see them (gradient clipping sees true norms). Batches
    reach the device with :meth:`to_device`, asynchronously from pinned
    memory.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`skorch.NeuralNet`.
    generator : torch.Generator
        Source of the train steps' randomness.
    init_seed : int or None, default=None
        Seed of the initial weights of a module the net builds; None for a
        module given already built.
    precision : {"32", "bf16", "16"}, default="32"
        Autocast dtype of the forward passes and losses (see
        :class:`BaseTorchEstimator`).
    """

    def __init__(self, *args, generator, init_seed=None, precision="32", **kwargs):
        for name in ("train", "valid"):
            kwargs.setdefault(f"iterator_{name}__collate_fn", collate_records)
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.init_seed = init_seed
        self.precision = precision

    def initialize(self):
        """Initialise as skorch does, plus the gradient scaler of float16 training."""
        super().initialize()
        scaled = PRECISIONS[self.precision] == torch.float16 and torch.device(self.device or "cpu").type == "cuda"
        self.grad_scaler_ = torch.amp.GradScaler("cuda") if scaled else None
        return self

    def initialize_module(self):
        """Build the module, its initial weights drawn from ``init_seed``."""
        if self.init_seed is None:
            return super().initialize_module()
        with seeded_torch(self.init_seed):
            return super().initialize_module()

    def autocast(self):
        """Context of a forward pass and loss in the net's precision on its device."""
        return autocast(self.precision, self.device or "cpu")

    def backward(self, loss):
        """Back-propagate ``loss``; with float16, scaled, then the gradients unscaled."""
        if self.grad_scaler_ is None:
            loss.backward()
            return
        self.grad_scaler_.scale(loss).backward()
        for name in self._optimizers:
            self.grad_scaler_.unscale_(getattr(self, name + "_"))

    def to_device(self, x):
        """``x`` (a tensor) on the net's device, copied asynchronously when pinned."""
        return x if self.device is None else x.to(self.device, non_blocking=True)

    def unwrapped_module(self):
        """The module itself, also when a data-parallel wrapper holds it as ``module_``."""
        return self.module_

    def train_step_single(self, batch, **fit_params):
        """skorch's train step, in the net's precision."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        with self.autocast():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        if self.grad_scaler_ is None:
            return super()._step_optimizer(step_fn)
        # GradScaler.step takes no closure: run the step, then each optimiser.
        step_fn()
        for name in self._optimizers:
            self.grad_scaler_.step(getattr(self, name + "_"))
        self.grad_scaler_.update()
        return None

    def _set_training(self, training=True):
        # skorch sets every submodule's mode at every batch (a recursive walk
        # of ~50 modules, about a millisecond); only a change needs the walk.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def train_step(self, batch, **fit_params):
        """One training step; the module's dropout draws from a stream of ``generator``.

        Dropout can only draw from torch's global generator: for a module
        with dropout, the step runs with that (CPU) generator forked and
        seeded from ``generator``, so that training is reproducible and the
        caller's random state untouched. Other modules draw nothing more.
        """
        if not _has_dropout(self.module_):
            return super().train_step(batch, **fit_params)
        with seeded_torch(int(torch.randint(2**62, (), generator=self.generator))):
            return super().train_step(batch, **fit_params)


class BaseTorchEstimator(BaseEstimator):
    """Base class of the scikit-learn estimators that train a torch module through skorch.

    A subclass supplies its module, criterion, dataset and parameters, and
    calls the base for the rest:

    - ``_build_net`` builds the skorch net (the one place where the net
      class is instantiated, where mixed precision or an accelerator mixin
      would go), on the device of ``device`` and with its data loaders and
      train steps seeded from a ``RandomState``;
    - ``_default_callbacks`` gives the learning-rate schedule, early
      stopping and, with ``verbose``, a progress bar, in that order;
    - ``_inference`` gives a fitted module on the device of ``device``
      in eval mode, without changing the fitted estimator;
    - ``history_`` is the skorch history of ``net_``;
    - pickling stores the attributes named in ``_torch_attributes``
      device-agnostically: a model fitted on a GPU unpickles on a machine
      without one, its tensors on the CPU and a ``device`` naming CUDA
      set to ``"cpu"``, with one :class:`skorch.exceptions.DeviceWarning`.

    Subclasses define the parameters ``device`` (``"auto"``, ``"cpu"``,
    ``"cuda"``, ...), ``verbose``, ``random_state``, ``lr``, ``max_epochs``
    and ``batch_size``, and may define ``precision`` (``"32"``, ``"bf16"``,
    ``"16"``: autocast of the forward passes, in training and in
    ``_inference``), ``pin_memory`` and ``accelerator`` (``"accelerate"``:
    data-parallel training under ``accelerate launch``), whose constraints
    are in ``_torch_parameter_constraints``; without them a fit runs in
    float32, unpinned, in one process. A subclass with a train step of its
    own sets ``_net_class`` to its :class:`SeededNet` subclass, and trains
    with ``_fit_net``. In ``fit`` it draws everything random from one
    ``check_random_state(self.random_state)`` passed to ``_build_net``,
    so that one integer gives the same model on a CPU and the caller's
    global random state is left alone.

    Examples
    --------
    A minimal regressor on feature vectors:

    >>> import numpy as np
    >>> import torch
    >>> from skorch.callbacks import LRScheduler
    >>> from sklearn.base import RegressorMixin
    >>> from sklearn.utils import check_random_state
    >>> from sklearn_ecg.base import BaseTorchEstimator
    >>> class LinearRegressor(RegressorMixin, BaseTorchEstimator):
    ...     def __init__(self, *, lr=0.1, max_epochs=20, batch_size=16, device="cpu", verbose=0,
    ...                  random_state=None):
    ...         self.lr, self.max_epochs, self.batch_size = lr, max_epochs, batch_size
    ...         self.device, self.verbose, self.random_state = device, verbose, random_state
    ...
    ...     def fit(self, X, y):
    ...         rng = check_random_state(self.random_state)
    ...         schedule = LRScheduler(policy="StepLR", step_size=10)
    ...         self.net_ = self._build_net(
    ...             torch.nn.Linear, rng, criterion=torch.nn.MSELoss, module__in_features=X.shape[1],
    ...             module__out_features=1, optimizer=torch.optim.SGD, train_split=None,
    ...             callbacks=self._default_callbacks(schedule))
    ...         self.net_.fit(X.astype(np.float32), y.astype(np.float32)[:, None])
    ...         return self
    ...
    ...     def predict(self, X):
    ...         with self._inference(self.net_.module_) as (module, device):
    ...             return module(torch.as_tensor(X, dtype=torch.float32, device=device)).cpu().numpy()[:, 0]
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> model = LinearRegressor(random_state=0).fit(X, X @ [1.0, -2.0, 0.5])
    >>> round(model.score(X, X @ [1.0, -2.0, 0.5]), 2)
    1.0
    >>> len(model.history_)
    20
    """

    _net_class = SeededNet
    # Fitted attributes holding torch state, pickled so that they load on any machine.
    _torch_attributes = ("net_",)
    # Constraints of the parameters that _build_net reads; subclasses merge them.
    _torch_parameter_constraints = {
        "precision": [StrOptions(set(PRECISIONS))],
        "pin_memory": ["boolean"],
        "accelerator": [StrOptions({"accelerate"}), None],
    }

    @property
    def history_(self):
        """skorch history of the training: per epoch the losses, per batch what the callbacks record."""
        return self.net_.history

    def _build_net(self, module, rng, *, seeded_iterators=("train", "valid"), **params):
        """The skorch net of ``module``, on the device of ``device``, seeded from ``rng``.

        ``lr``, ``max_epochs``, ``batch_size``, ``verbose``, the device,
        ``precision``, ``pin_memory`` and ``accelerator`` come from the
        estimator, the training data are shuffled, and every random draw of
        the net comes from the RandomState ``rng``, in this order: the
        initial weights of a ``module`` given as a class or factory (the
        net builds it; a module instance comes with its weights), the data
        loaders named in ``seeded_iterators`` (a loader without a generator
        would draw its base seed from torch's global generator) and the
        net's ``generator``. ``params`` go to ``_net_class`` (criterion,
        optimiser, callbacks, train split, ...).
        """
        device = _resolve_device(self.device)
        precision = self._training_precision(device)
        pin_memory = self._pin_memory(device)
        init_seed = None if isinstance(module, torch.nn.Module) else draw_seed(rng)
        loaders = {f"iterator_{name}__generator": torch_generator(rng) for name in seeded_iterators}
        options = dict(
            module=module,
            init_seed=init_seed,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            **{f"iterator_{name}__pin_memory": pin_memory for name in ("train", "valid")},
            **loaders,
            generator=torch_generator(rng),
            verbose=self.verbose,
            device=device,
            precision=precision,
        )
        if getattr(self, "accelerator", None) is None:
            return self._net_class(**options, **params)
        # accelerate places the data and the module and runs the autocast.
        sink = _print_on_main_process if self.verbose else _silent  # skorch calls a custom sink whatever verbose
        options.update(device=None, precision="32", callbacks__print_log__sink=sink,
                       accelerator=_make_accelerator(device, precision))
        return accelerated_net_class(self._net_class)(**options, **params)

    def _training_precision(self, device):
        """``precision`` on ``device``: float16 autocast only on CUDA, with a warning elsewhere."""
        precision = getattr(self, "precision", "32")
        if PRECISIONS[precision] == torch.float16 and torch.device(device).type != "cuda":
            warnings.warn(
                f"precision='16' (float16 autocast with a gradient scaler) needs a CUDA device; on "
                f"{device!r} {type(self).__name__} trains and predicts in float32. Use precision='bf16' "
                "for mixed precision on a CPU.",
                UserWarning,
                stacklevel=3,
            )
            return "32"
        return precision

    def _pin_memory(self, device):
        """``pin_memory`` on ``device``: pinned batches only help copies to a CUDA device."""
        if not getattr(self, "pin_memory", False):
            return False
        if torch.device(device).type != "cuda":
            warnings.warn(
                f"pin_memory=True only speeds up copies to a CUDA device; ignored on {device!r}.",
                UserWarning,
                stacklevel=3,
            )
            return False
        return True

    def _fit_net(self, net, dataset, *, continuing=False):
        """Train ``net`` on ``dataset`` (``partial_fit`` when ``continuing``), then return it.

        A net trained through ``accelerate`` comes back as a plain net of
        ``_net_class``, its module unwrapped, so that the fitted estimator
        pickles and predicts without accelerate.
        """
        if continuing and getattr(self, "accelerator", None) is not None:
            raise ValueError(
                f"{type(self).__name__} cannot continue training (warm_start) with "
                "accelerator='accelerate'; refit from scratch, or continue without an accelerator."
            )
        (net.partial_fit if continuing else net.fit)(dataset)
        if isinstance(net, _AcceleratedNet):
            net.detach_accelerator()
        return net

    def _training_batches(self, n_items, *, drop_last):
        """``(drop_last, steps)``: whether training drops a short last batch, and its optimiser steps.

        ``max_epochs`` epochs over ``n_items`` items in batches of
        ``batch_size``. ``drop_last`` as asked (e.g. a last batch of one
        item, on which batch normalisation cannot train), and always through
        accelerate: split between its processes, a short last batch could
        leave one item to a process's batch normalisation.
        """
        drop_last = drop_last or getattr(self, "accelerator", None) is not None
        batches = n_items // self.batch_size if drop_last else math.ceil(n_items / self.batch_size)
        return drop_last, self.max_epochs * batches

    def _default_callbacks(self, schedule, *, extra=(), patience=None, monitor="train_loss", load_best=False):
        """skorch callbacks: the learning-rate ``schedule``, ``extra`` ones, early stopping, progress.

        Early stopping (with ``patience``) stops when ``monitor`` has not
        improved for ``patience`` epochs, restoring the best epoch's
        weights with ``load_best``; it reports only with ``verbose``. The
        progress bar comes with ``verbose``.
        """
        callbacks = [("lr_schedule", schedule), *extra]
        if patience is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor=monitor, patience=patience, lower_is_better=True, load_best=load_best,
                sink=print if self.verbose else _silent,
            )))
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        return callbacks

    def _check_n_leads(self, X, *, reset):
        """With ``reset``, record the lead count of ``X`` as ``n_leads_in_``; else require that count."""
        if reset:
            self.n_leads_in_ = X.shape[1]
        elif X.shape[1] != self.n_leads_in_:
            raise ValueError(
                f"X has {X.shape[1]} leads (shape {X.shape}), but this {type(self).__name__} was "
                f"fitted on {self.n_leads_in_}; give absent leads as zero channels."
            )

    @contextlib.contextmanager
    def _inference(self, module):
        """``(module, device)``: a fitted module on the device of ``device``, in eval mode, without gradients.

        Inside the block, forward passes autocast to ``precision`` (float16
        only on CUDA), so outputs may be bfloat16 or float16 tensors.

        The device is resolved at each call, so ``set_params(device="cpu")``
        moves prediction of a model fitted on a GPU to the CPU. The fitted
        module is not changed: a copy is moved when it lives on another
        device, and its training mode is restored on exit.
        """
        device = torch.device(_resolve_device(self.device))
        if not _is_on(module, device):
            module = copy.deepcopy(module).to(device)
        training = module.training
        module.eval()
        try:
            with torch.no_grad(), autocast(getattr(self, "precision", "32"), device):
                yield module, device
        finally:
            module.train(training)

    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the live __dict__.
        state = dict(super().__getstate__())
        torch_state = {k: state.pop(k) for k in self._torch_attributes if k in state}
        if torch_state:
            # Pickled together, so that objects shared between them stay shared.
            state["_torch_state"] = pickle.dumps(torch_state)
        return state

    def __setstate__(self, state):
        data = state.pop("_torch_state", None)
        moved = False
        if data is not None:
            torch_state, moved = _loads_torch_state(data)
            state.update(torch_state)
        if _is_unavailable_cuda(state.get("device")):
            # As skorch does for its nets: the model must predict where it is loaded.
            state["device"] = "cpu"
            moved = True
        if moved:
            warnings.warn(
                "CUDA is not available on this machine: a torch model saved on a GPU, or with "
                "device='cuda', was loaded on the CPU and runs there (its device is now 'cpu').",
                DeviceWarning,
                stacklevel=1,  # one location, so that the default filter shows a repeated message once
            )
        super().__setstate__(state)


_DROPOUT_LAYERS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
                   torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)


def _has_dropout(module):
    """Whether ``module`` holds a dropout layer or attention with dropout."""
    for layer in module.modules():
        if isinstance(layer, _DROPOUT_LAYERS) and layer.p > 0:
            return True
        if isinstance(layer, torch.nn.MultiheadAttention) and layer.dropout > 0:
            return True
    return False


def _silent(*args, **kwargs):
    """Sink for skorch's messages when ``verbose=0`` (picklable, unlike a lambda)."""


def _print_on_main_process(*args, **kwargs):
    """skorch's epoch table under ``accelerate launch``: printed by the first process only."""
    if os.environ.get("RANK", "0") == "0":
        print(*args, **kwargs)


def _make_accelerator(device, precision):
    """An ``accelerate.Accelerator`` for one fit: ``precision``, the CPU when ``device`` is one.

    Each process of ``accelerate launch`` gets ``batch_size / n_processes``
    records of every batch (``split_batches``), so that the optimisation
    (batch size, steps per epoch, schedule) is that of one process.
    """
    try:
        from accelerate import Accelerator
        from accelerate.utils import DataLoaderConfiguration
    except ImportError as exc:
        raise ImportError(
            "accelerator='accelerate' needs Hugging Face accelerate: pip install 'sklearn-ecg[accelerate]'."
        ) from exc
    return Accelerator(
        cpu=torch.device(device).type == "cpu",
        mixed_precision=_ACCELERATE_PRECISION[precision],
        dataloader_config=DataLoaderConfiguration(split_batches=True),
    )


class _AcceleratedNet(AccelerateMixin):
    """skorch's ``AccelerateMixin`` fitted to the train steps of :class:`SeededNet` subclasses.

    Their own train steps run (the mixin's would call ``infer``) with the
    accelerator's autocast and backward; the gradients are unscaled before
    the callbacks (clipping) see them. Every process draws its own crops
    and augmentations, logs the loss averaged over the processes (so that
    early stopping decides alike everywhere) and validates on all the
    validation records. After training, :meth:`detach_accelerator` turns the
    net back into a plain one.
    """

    plain_class = SeededNet

    def _initialize_accelerator(self):
        # As skorch's, except that a criterion without trainable parameters
        # (DINOLoss) is only moved: DistributedDataParallel refuses a module
        # with nothing to synchronise.
        if self._wrapped_with_accelerator:
            return self
        for name in self._criteria + self._modules + self._optimizers:
            part = getattr(self, name + "_")
            if not isinstance(part, (torch.nn.Module, torch.optim.Optimizer)):
                continue
            if name in self._criteria and not any(p.requires_grad for p in part.parameters()):
                setattr(self, name + "_", part.to(self.accelerator.device))
            else:
                setattr(self, name + "_", self.accelerator.prepare(part))
        self._wrapped_with_accelerator = True
        return self

    def initialize(self):
        super().initialize()
        self.grad_scaler_ = None  # the accelerator scales float16 losses
        state = self.accelerator.state
        if state.num_processes > 1:
            seed = int(torch.randint(0, 2**62, (1,), generator=self.generator))
            self.generator.manual_seed(seed + state.process_index)
        return self

    def autocast(self):
        return self.accelerator.autocast()

    def backward(self, loss):
        self.accelerator.backward(loss)
        self.accelerator.unscale_gradients()

    def to_device(self, x):
        return x.to(self.accelerator.device, non_blocking=True)

    def unwrapped_module(self):
        return self.accelerator.unwrap_model(self.module_)

    def train_step_single(self, batch, **fit_params):
        # The subclass's own step, not AccelerateMixin's.
        return super(AccelerateMixin, self).train_step_single(batch, **fit_params)

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        return dict(step, loss=self.accelerator.reduce(step["loss"].detach(), reduction="mean"))

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        return dict(step, loss=self.accelerator.reduce(step["loss"].detach(), reduction="mean"))

    def get_iterator(self, dataset, training=False):
        # Only training batches are split between the processes.
        if training:
            return super().get_iterator(dataset, training=True)
        return super(AccelerateMixin, self).get_iterator(dataset, training=False)

    def partial_fit(self, *args, **kwargs):
        self.unwrap_after_train = False  # unwrapped below, after every callback's on_train_end
        super().partial_fit(*args, **kwargs)
        self._unwrap_accelerator()
        return self

    def detach_accelerator(self):
        """Become a plain net of ``plain_class`` on the accelerator's device, without accelerate state."""
        device = self.accelerator.device
        for name in self._optimizers:
            wrapper = getattr(self, name + "_")
            optimizer = getattr(wrapper, "optimizer", wrapper)  # accelerate's AcceleratedOptimizer holds it
            setattr(self, name + "_", optimizer)
            for _, callback in self.callbacks_:
                schedule = getattr(callback, "lr_scheduler_", None)
                if getattr(schedule, "optimizer", None) is wrapper:
                    schedule.optimizer = optimizer
        for name in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
            vars(self).pop(name, None)
        self.__class__ = self.plain_class
        # The device by type: a model file names "cpu" or "cuda", not a
        # process's own index (accelerate's processes on a CPU are cpu:<rank>).
        device = torch.device(device.type) if device.type == "cpu" else device
        self.device = device.type
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module):
                module.to(device)


_ACCELERATED_CLASSES = {}


def accelerated_net_class(net_class):
    """``net_class`` with :class:`_AcceleratedNet` mixed in (one class per net class)."""
    if net_class not in _ACCELERATED_CLASSES:
        _ACCELERATED_CLASSES[net_class] = type(
            f"Accelerated{net_class.__name__}", (_AcceleratedNet, net_class), {"plain_class": net_class}
        )
    return _ACCELERATED_CLASSES[net_class]


def _resolve_device(device):
    """The torch device name of ``device``: ``"auto"`` is CUDA when available, else the CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'.") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; use 'auto' or 'cpu'.")
    return device


def _is_unavailable_cuda(device):
    """Whether ``device`` names a CUDA device on a machine without CUDA."""
    try:
        return torch.device(device).type == "cuda" and not torch.cuda.is_available()
    except (RuntimeError, TypeError):  # "auto", or a bad name that fit will report
        return False


def _is_on(module, device):
    """Whether every tensor of ``module`` is on ``device`` (``cuda`` matching any CUDA index)."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.device.type != device.type or device.index not in (None, tensor.device.index):
            return False
    return True


def _map_location():
    # Tensors saved from a GPU come back on the CPU when no GPU is present;
    # otherwise they return to the device they were saved from.
    return None if torch.cuda.is_available() else torch.device("cpu")


class _MapLocationUnpickler(pickle.Unpickler):
    """Unpickler that loads every tensor storage with a ``map_location``.

    Plain ``pickle`` restores a CUDA tensor through
    ``torch.storage._load_from_bytes``, which has no ``map_location`` and
    fails without a GPU; this routes those calls through ``torch.load``.
    """

    def find_class(self, module, name):
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return _load_storage
        return super().find_class(module, name)


def _load_storage(data):
    return torch.load(io.BytesIO(data), map_location=_map_location(), weights_only=True)


def _loads_torch_state(data):
    """Unpickle bytes written by ``pickle.dumps``, mapping GPU tensors to the CPU when needed.

    Returns the state and whether a skorch net in it was moved off an
    unavailable device: its DeviceWarning is replaced by the estimator's
    own, so that loading a model warns once.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = _MapLocationUnpickler(io.BytesIO(data)).load()
    moved = False
    for warning in caught:
        if issubclass(warning.category, DeviceWarning):
            moved = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return state, moved
