"""Scale-out on a Dask cluster through joblib's Dask backend.

A two-worker ``LocalCluster`` on loopback stands in for a real cluster: the
folds of a ``cross_validate`` must run in the worker processes and give the
same scores as a sequential run, and a loader cache entry must reach the
workers, either as data or, on a shared filesystem, by its file.
"""

import os

import joblib
import numpy as np
import pytest
import scipy.io
from sklearn.model_selection import cross_validate

from sklearn_ecg.datasets import load_physionet, make_synthetic_ecg
from sklearn_ecg.leads import LEAD_NAMES
from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelStratifiedKFold
from sklearn_ecg.pipelines import make_default_pipeline

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    """A client of two single-threaded worker processes on 127.0.0.1."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # Each worker is one process running one task at a time: torch must
        # not start a thread per core in every one of them.
        env={"OMP_NUM_THREADS": "1"},
    )
    dask_client = distributed.Client(cluster)
    yield dask_client
    dask_client.close()
    cluster.close()


def _pid(estimator, X, y):
    """A 'scorer' that reports which process scored the fold."""
    return os.getpid()


def test_cross_validate_runs_the_folds_on_the_workers(client):
    data = make_synthetic_ecg(60, fs=100, duration=5.0, random_state=0)
    pipe = make_default_pipeline(
        classes=data.classes, size="tiny", pretraining="fit", pretrain_epochs=1, finetune_epochs=1,
        ensemble=None, blend=None, device="cpu", random_state=0,
    )
    cv = MultilabelStratifiedKFold(3, shuffle=True, random_state=0)
    scoring = dict(make_cinc_scorers(classes=data.classes), pid=_pid)

    with joblib.parallel_backend("dask"):
        on_dask = cross_validate(pipe, data.X, data.y, cv=cv, scoring=scoring, n_jobs=-1)
    sequential = cross_validate(pipe, data.X, data.y, cv=cv, scoring=scoring, n_jobs=1)

    worker_pids = set(client.run(os.getpid).values())
    assert set(on_dask["test_pid"]) <= worker_pids
    assert os.getpid() not in worker_pids
    assert set(sequential["test_pid"]) == {os.getpid()}
    for name in make_cinc_scorers(classes=data.classes):
        scores = on_dask[f"test_{name}"]
        assert np.isfinite(scores).all(), name
        # Seeded by random_state alone: the same in another process.
        np.testing.assert_array_equal(scores, sequential[f"test_{name}"], err_msg=name)


def test_workers_use_one_torch_thread(client):
    def threads():
        import torch

        return torch.get_num_threads()

    assert set(client.run(threads).values()) == {1}


def _write_records(folder, n_records, fs=100):
    """Synthetic records in challenge format (int16 counts, gain 1000/mV)."""
    data = make_synthetic_ecg(n_records, fs=fs, duration=3.0, random_state=0)
    for name, signal, codes in zip(data.records, data.X, data.metadata["codes"]):
        val = np.round(signal * 1000).astype(np.int16)
        lines = [f"{name} 12 {fs} {val.shape[1]}"]
        lines += [f"{name}.mat 16+24 1000/mV 16 0 {row[0]} 0 0 {lead}" for row, lead in zip(val, LEAD_NAMES)]
        lines += ["#Age: 50", "#Sex: Male", f"#Dx: {','.join(codes)}"]
        (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
        scipy.io.savemat(folder / f"{name}.mat", {"val": val}, format="4")


def _describe(X):
    return type(X).__name__, getattr(X, "filename", None), float(np.asarray(X, np.float64).sum())


def _load_on_worker(path, cache_dir):
    return _describe(load_physionet(path, fs=100, duration=3.0, cache_dir=cache_dir).X)


def test_cached_memmap_reaches_the_workers(client, tmp_path):
    records, cache = tmp_path / "records", tmp_path / "cache"
    records.mkdir()
    _write_records(records, 4)
    X = load_physionet(records, fs=100, duration=3.0, cache_dir=cache).X
    assert isinstance(X, np.memmap)
    kind, filename, checksum = _describe(X)

    # Dask serialises the array: the workers get a copy of the values.
    with joblib.parallel_backend("dask"):
        copies = joblib.Parallel(n_jobs=-1)(joblib.delayed(_describe)(X) for _ in range(2))
    assert all(copy[0] == "ndarray" and copy[2] == checksum for copy in copies)

    # On a shared filesystem a worker opens the same cache entry instead.
    assert client.submit(_load_on_worker, records, cache).result() == (kind, filename, checksum)

    # joblib's own process pool passes a memmap by its file name, no copy
    # (a builtin as the task, so that the pool need not import this module).
    loky = joblib.Parallel(n_jobs=2, backend="loky")
    assert loky(joblib.delayed(getattr)(X, "filename") for _ in range(2)) == [filename] * 2
