"""Plumbing shared by the estimators that train torch modules through skorch.

Three concerns: choosing the device, building modules from a seed without
touching torch's global random state, and pickling fitted torch state so
that a model fitted on a GPU loads on a CPU-only machine.
"""

import contextlib
import io
import pickle

import torch


def silent(*args, **kwargs):
    """Sink for skorch's messages when ``verbose=0`` (picklable, unlike a lambda)."""


def resolve_device(device):
    """Return the torch device name to train on.

    Parameters
    ----------
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Returns
    -------
    device : str

    Raises
    ------
    ValueError
        If CUDA is asked for but not available, or the name is not a device.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'.") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; use 'auto' or 'cpu'.")
    return device


@contextlib.contextmanager
def seeded_torch(seed):
    """Make torch's global CPU generator produce the stream of ``seed`` inside the block.

    Module constructors draw their initial weights from the global
    generator; forking it (and restoring it on exit) gives reproducible
    weights without changing the caller's random state. Only the CPU
    generator is forked: modules are built on the CPU and moved afterwards.
    """
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        yield


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


def loads_torch_state(data):
    """Unpickle bytes written by ``pickle.dumps``, mapping GPU tensors to the CPU when needed."""
    return _MapLocationUnpickler(io.BytesIO(data)).load()


class TorchPickleMixin:
    """Pickle the torch-holding fitted attributes so they load on any machine.

    The attributes named in ``_torch_attributes`` are pickled together into
    one byte string (keeping shared objects shared) and restored with
    :func:`loads_torch_state`, so CUDA tensors come back on the CPU when the
    loading machine has no GPU. skorch nets among them also remap their own
    ``device`` (with a ``DeviceWarning``).

    Put it before ``BaseEstimator`` in the bases; it calls the next
    ``__getstate__``/``__setstate__`` in line.
    """

    _torch_attributes = ()

    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the live __dict__.
        state = dict(super().__getstate__())
        torch_state = {k: state.pop(k) for k in self._torch_attributes if k in state}
        if torch_state:
            state["_torch_state"] = pickle.dumps(torch_state)
        return state

    def __setstate__(self, state):
        data = state.pop("_torch_state", None)
        if data is not None:
            state.update(loads_torch_state(data))
        super().__setstate__(state)
