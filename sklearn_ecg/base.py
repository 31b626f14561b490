"""Base class of the estimators that train a torch module through skorch.

:class:`BaseTorchEstimator` holds what every such estimator needs and none
should repeat: the device, the skorch net and its default callbacks, the
training history, seeding from ``random_state`` without global state,
inference that leaves the fitted state alone, and pickles that load on a
machine without the GPU they were fitted on.
"""

import contextlib
import copy
import io
import pickle
import warnings

import torch
from sklearn.base import BaseEstimator
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.exceptions import DeviceWarning

from ._random import draw_seed, seeded_torch, torch_generator

__all__ = ["BaseTorchEstimator", "SeededNet"]


class SeededNet(NeuralNet):
    """skorch ``NeuralNet`` whose randomness comes from seeds, not torch's global generator.

    The random crops and augmentations of a train step take ``generator``
    (a CPU ``torch.Generator``, so that the random stream does not depend
    on the device); a module given as a class is initialised from
    ``init_seed``. The nets of :class:`BaseTorchEstimator` subclasses derive
    from it.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`skorch.NeuralNet`.
    generator : torch.Generator
        Source of the train steps' randomness.
    init_seed : int or None, default=None
        Seed of the initial weights of a module the net builds; None for a
        module given already built.
    """

    def __init__(self, *args, generator, init_seed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.init_seed = init_seed

    def initialize_module(self):
        """Build the module, its initial weights drawn from ``init_seed``."""
        if self.init_seed is None:
            return super().initialize_module()
        with seeded_torch(self.init_seed):
            return super().initialize_module()

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
    and ``batch_size``; one with a train step of its own sets ``_net_class``
    to its :class:`SeededNet` subclass. In ``fit`` it draws everything random
    from one
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

    @property
    def history_(self):
        """skorch history of the training: per epoch the losses, per batch what the callbacks record."""
        return self.net_.history

    def _build_net(self, module, rng, *, seeded_iterators=("train", "valid"), **params):
        """The skorch net of ``module``, on the device of ``device``, seeded from ``rng``.

        ``lr``, ``max_epochs``, ``batch_size``, ``verbose`` and the device
        come from the estimator, the training data are shuffled, and every
        random draw of the net comes from the RandomState ``rng``, in this
        order: the initial weights of a ``module`` given as a class or
        factory (the net builds it; a module instance comes with its
        weights), the data loaders named in ``seeded_iterators`` (a loader
        without a generator would draw its base seed from torch's global
        generator) and the net's ``generator``. ``params`` go to
        ``_net_class`` (criterion, optimiser, callbacks, train split, ...).
        """
        init_seed = None if isinstance(module, torch.nn.Module) else draw_seed(rng)
        loaders = {f"iterator_{name}__generator": torch_generator(rng) for name in seeded_iterators}
        return self._net_class(
            module=module,
            init_seed=init_seed,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            **loaders,
            generator=torch_generator(rng),
            verbose=self.verbose,
            device=_resolve_device(self.device),
            **params,
        )

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

    @contextlib.contextmanager
    def _inference(self, module):
        """``(module, device)``: a fitted module on the device of ``device``, in eval mode, without gradients.

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
            with torch.no_grad():
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
