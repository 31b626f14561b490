"""The loading every layout shares: the cache under faults and permissions, progress."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from _wfdb_records import write_wfdb_record
from joblib.externals.loky.process_executor import TerminatedWorkerError

from sklearn_ecg.datasets import load_folders, load_physionet
from sklearn_ecg.datasets._cache import load_cache

ROOT = Path(__file__).resolve().parents[2]


def _records(folder, n):
    for i in range(n):
        write_wfdb_record(folder, f"R{i:03d}", fs=500, n_samples=5000, seed=i)


def _entries(cache):
    return sorted(path.name for path in cache.glob("physionet_*"))


def _assert_same(data, expected):
    np.testing.assert_array_equal(data.X, expected.X)
    np.testing.assert_array_equal(data.records, expected.records)
    np.testing.assert_array_equal(data.leads_present, expected.leads_present)


# --- faults: a killed worker or loader leaves no entry, and the next load is right ---


def _loky_workers():
    """Process ids of the joblib (loky) workers started by this process."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"popen_loky_posix" in cmdline:
            workers.append(int(entry.name))
    return workers


def _kill_a_worker_while_rows_are_written(cache, killed):
    """From another thread: once the rows' file exists, SIGKILL a worker."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(cache.glob(".array.*")):
            workers = _loky_workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
                return
        time.sleep(0.002)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the workers in /proc")
def test_killed_worker_leaves_no_cache_entry_and_the_next_load_is_right(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    _records(folder, 120)
    expected = load_physionet(folder, year=None)
    killed = []
    killer = threading.Thread(target=_kill_a_worker_while_rows_are_written, args=(cache, killed))
    killer.start()
    try:
        with pytest.raises(TerminatedWorkerError):
            load_physionet(folder, year=None, cache_dir=cache, n_jobs=2)
    finally:
        killer.join()
    assert killed, "no worker was killed"
    assert list(cache.iterdir()) == []  # neither an entry nor a temporary file
    again = load_physionet(folder, year=None, cache_dir=cache, n_jobs=2)
    _assert_same(again, expected)
    assert len(_entries(cache)) == 2
    _assert_same(load_physionet(folder, year=None, cache_dir=cache), expected)


_SLOW_LOADER = """
import sys, time
from sklearn_ecg.datasets import _loader, load_physionet
read_rows = _loader.read_rows
def slow(plan):  # a slow disk: time to kill the process with rows half written
    time.sleep(0.02)
    return read_rows(plan)
_loader.read_rows = slow
load_physionet(sys.argv[1], year=None, cache_dir=sys.argv[2])
print("finished")
"""


def test_killed_loader_process_leaves_no_entry_and_the_next_load_is_right(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    _records(folder, 60)
    expected = load_physionet(folder, year=None)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    loader = subprocess.Popen([sys.executable, "-c", _SLOW_LOADER, str(folder), str(cache)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not any(cache.glob(".array.*")) and time.monotonic() < deadline:
            assert loader.poll() is None, loader.communicate()
            time.sleep(0.005)
        time.sleep(0.3)  # some rows written, not all (60 x 20 ms)
        loader.send_signal(signal.SIGKILL)
        out, _ = loader.communicate(timeout=30)
    finally:
        loader.kill()
    assert b"finished" not in out
    assert _entries(cache) == []  # only the temporary rows' file is left
    again = load_physionet(folder, year=None, cache_dir=cache)
    assert isinstance(again.X, np.memmap)
    _assert_same(again, expected)
    assert len(_entries(cache)) == 2


# --- permissions ---


def _unwritable(tmp_path, how):
    if how == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        cache = tmp_path / "read-only"
        cache.mkdir()
        cache.chmod(0o555)
        return cache
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux's read-only /sys")
    return Path("/sys/kernel/sklearn-ecg-cache")


@pytest.mark.parametrize("how", ["read-only folder", "read-only file system"])
def test_unwritable_cache_folder_falls_back_to_memory_with_a_warning(tmp_path, how):
    folder = tmp_path / "data"
    _records(folder, 2)
    cache = _unwritable(tmp_path, how)
    expected = load_physionet(folder, year=None)
    message = rf"Cache folder {cache} cannot be written \(.+\); loading into memory"
    with pytest.warns(UserWarning, match=message):
        data = load_physionet(folder, year=None, cache_dir=cache)
    assert not isinstance(data.X, np.memmap)
    _assert_same(data, expected)


def test_entry_in_a_folder_made_read_only_is_still_read(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder, cache = tmp_path / "data", tmp_path / "cache"
    _records(folder, 2)
    first = load_physionet(folder, year=None, cache_dir=cache)
    cache.chmod(0o555)
    try:
        hit = load_physionet(folder, year=None, cache_dir=cache)  # no warning: a hit
    finally:
        cache.chmod(0o755)
    assert isinstance(hit.X, np.memmap)
    _assert_same(hit, first)


def test_cache_entries_are_readable_by_the_folder_s_group(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    _records(folder, 2)
    cache.mkdir()
    cache.chmod(0o750)
    umask = os.umask(0o077)  # a private umask: files would be 0600
    try:
        load_physionet(folder, year=None, cache_dir=cache)
    finally:
        os.umask(umask)
    entries = [cache / name for name in _entries(cache)]
    assert len(entries) == 2
    for path in entries:
        stat = path.stat()
        assert stat.st_mode & 0o040, f"{path.name} is not group-readable"
        assert not stat.st_mode & 0o004  # the folder is closed to others: so are its files
        assert stat.st_gid == cache.stat().st_gid
    assert load_cache(cache, _entries(cache)[0].split("_")[1].split(".")[0]) is not None


# --- progress ---


def test_progress_on_stderr_only_when_verbose(tmp_path, capsys):
    _records(tmp_path, 2)
    load_folders(tmp_path, labels=None, verbose=1)
    err = capsys.readouterr().err
    assert "headers" in err and "records" in err
    load_folders(tmp_path, labels=None)
    assert capsys.readouterr().err == ""
