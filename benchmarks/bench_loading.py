"""Loading speed of the dataset loaders and memory of a cached load.

Table 1, on the challenge development records (247 by default): records per
second of a plain ``wfdb.rdsamp`` loop (with the headers it rejects), a plain
``scipy.io.loadmat`` loop (raw counts, no gain, no resampling), and
``load_physionet`` (parse, check, scale, resample to 100 Hz, crop to 10 s)
serial, with two workers, writing its cache, and reading it back.

Table 2, on native WFDB records (PTB-XL's ``ptbxl-dev`` at 100 and 500 Hz,
LUDB's ``ludb-dev`` at 500 Hz, their own rates: no resampling): records per
second of a plain ``wfdb.rdsamp`` loop over the same records, and of
``load_ptbxl`` / ``load_ludb`` (serial) on a first load (which also writes
the cache) and on a cache hit.

Table 3: peak resident memory of a process that loads a cache entry of
``--n-records`` x 12 x 1000 float32 (40,000 records: 1.9 GB, one temporary
file, deleted after) through ``load_physionet`` and reads one batch of it,
beside one that reads the same ``.npy`` fully into memory.

Usage::

    python benchmarks/bench_loading.py            # full run
    python benchmarks/bench_loading.py --quick    # smoke run: 1 repeat, 2,000 records
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import scipy.io

from sklearn_ecg.datasets import load_ludb, load_physionet, load_ptbxl
from sklearn_ecg.datasets._bunch import to_arrays
from sklearn_ecg.datasets._cache import create_array, save_cache
from sklearn_ecg.datasets._loader import entry_key
from sklearn_ecg.datasets._options import LoadOptions
from sklearn_ecg.datasets._physionet import PhysioNetLayout
from sklearn_ecg.leads import LEAD_NAMES

_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_DEFAULT_DATA = _SHARED / "physionet2020-dev"


def best_time(function, repeats):
    """Return (best seconds, last result) of ``repeats`` calls."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def wfdb_loop(folder, pattern="*.hea"):
    import wfdb

    read, rejected = 0, 0
    for path in sorted(folder.rglob(pattern)):
        try:
            wfdb.rdsamp(str(path.with_suffix("")))
            read += 1
        except Exception:  # wfdb's HeaderSyntaxError on the ".mat" record lines
            rejected += 1
    return read, rejected


def loadmat_loop(folder):
    paths = sorted(folder.rglob("*.mat"))
    for path in paths:
        scipy.io.loadmat(path)["val"]
    return len(paths), 0


def quiet_load(folder, loader=load_physionet, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the dev data's all-zero-lead note
        data = loader(folder, **kwargs)
    return len(np.unique(data.metadata["path"])), len(data.skipped)


def speed_table(folder, repeats):
    rows = []

    def add(name, function, n_repeats=repeats):
        seconds, (n_read, n_rejected) = best_time(function, n_repeats)
        rows.append((name, n_read, n_rejected, seconds))

    add("wfdb.rdsamp loop (raw read)", lambda: wfdb_loop(folder))
    add("scipy.io.loadmat loop (raw counts)", lambda: loadmat_loop(folder))
    add("load_physionet, n_jobs=1", lambda: quiet_load(folder))
    quiet_load(folder, n_jobs=2)  # start the worker processes once
    add("load_physionet, n_jobs=2 (warm pool)", lambda: quiet_load(folder, n_jobs=2))
    with tempfile.TemporaryDirectory() as cache:

        def cached():
            return quiet_load(folder, cache_dir=cache)

        add("load_physionet, cache miss (read + write)", cached, 1)
        add("load_physionet, cache hit", cached, max(repeats, 5))
    first, hit = rows[2][3], rows[-1][3]

    print(f"\nLoading {folder} (best of {repeats}; 100 Hz, 10 s crops for load_physionet)\n")
    print(f"{'method':44s} {'records':>8s} {'rejected':>9s} {'seconds':>9s} {'records/s':>10s}")
    for name, n_read, n_rejected, seconds in rows:
        print(f"{name:44s} {n_read:8d} {n_rejected:9d} {seconds:9.3f} {n_read / seconds:10.0f}")
    print(f"\ncache hit vs first serial load: {first / hit:.0f}x faster")


def wfdb_table(ptbxl, ludb, repeats):
    """Native WFDB records: a plain ``wfdb.rdsamp`` loop, a first load and a cache hit."""
    cases = []
    if (ptbxl / "ptbxl_database.csv").is_file():
        cases += [("PTB-XL 100 Hz", ptbxl, "*_lr.hea", load_ptbxl, 100),
                  ("PTB-XL 500 Hz", ptbxl, "*_hr.hea", load_ptbxl, 500)]
    if (ludb / "ludb.csv").is_file():
        cases.append(("LUDB 500 Hz", ludb, "data/*.hea", load_ludb, 500))
    if not cases:
        print(f"\nNo native WFDB records at {ptbxl} or {ludb}: table 2 skipped.")
        return
    rows = []
    for dataset, folder, pattern, loader, fs in cases:
        seconds, (n_read, _) = best_time(partial(wfdb_loop, folder, pattern), repeats)
        rows.append((dataset, "wfdb.rdsamp loop (raw read)", n_read, seconds))
        first = hit = float("inf")
        for _ in range(repeats):  # a fresh cache each time: every one a first load
            with tempfile.TemporaryDirectory() as cache:
                load = partial(quiet_load, folder, loader, fs=fs, cache_dir=cache)
                seconds, (n_read, _) = best_time(load, 1)
                first = min(first, seconds)
                hit = min(hit, best_time(load, max(repeats, 5))[0])
        rows.append((dataset, f"{loader.__name__}, first load (+ cache)", n_read, first))
        rows.append((dataset, f"{loader.__name__}, cache hit", n_read, hit))

    print(f"\nNative WFDB records (best of {repeats}; each at its own rate, serial)\n")
    print(f"{'dataset':14s} {'method':34s} {'records':>8s} {'seconds':>9s} {'records/s':>10s}")
    for dataset, name, n_read, seconds in rows:
        print(f"{dataset:14s} {name:34s} {n_read:8d} {seconds:9.3f} {n_read / seconds:10.0f}")


# Linux: VmRSS is the resident memory now, VmHWM its peak; writing 5 to
# clear_refs resets the peak, so that the imports' own peak does not hide the load's.
_CHILD = """
import json, sys, time, numpy as np
from sklearn_ecg.datasets import load_physionet
def status_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
mode, folder, cache, npy = sys.argv[1:]
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status_mb("VmRSS")
start = time.perf_counter()
if mode == "cache":
    X = load_physionet(folder, cache_dir=cache).X
else:
    X = np.load(npy)
batch = np.asarray(X[:256]).mean()
print(json.dumps(dict(seconds=time.perf_counter() - start, before=before, peak=status_mb("VmHWM"),
                      rows=X.shape[0], memmap=isinstance(X, np.memmap))))
"""


def write_big_entry(folder, cache, n_records):
    """Write a cache entry of n_records rows for ``folder``, in one array file."""
    val = np.zeros((12, 5000), np.int16)
    val[:, ::50] = 1000
    lines = ["A0001 12 500 5000"]
    lines += [f"A0001.mat 16+24 1000/mV 16 0 0 0 0 {lead}" for lead in LEAD_NAMES]
    lines += ["#Age: 50", "#Sex: Male", "#Dx: 426783006"]
    (folder / "A0001.hea").write_text("\n".join(lines))
    scipy.io.savemat(folder / "A0001.mat", {"val": val}, format="4")
    one = load_physionet(folder)
    # A folder-equivalent of n_records: every per-row array repeated.
    one.metadata = {key: np.repeat(value, n_records) for key, value in one.metadata.items()}
    for key in ("y", "leads_present", "groups"):
        one[key] = np.repeat(one[key], n_records, axis=0)
    one.records = one.metadata["record"]
    one.DESCR = f"Benchmark entry: one synthetic record repeated {n_records} times."
    X = create_array(cache, (n_records, 12, 1000))
    for start in range(0, n_records, 1000):
        X[start : start + 1000] = one.X[0]
    X.flush()
    path = X.filename
    del X
    # The key load_physionet(folder, cache_dir=cache) computes with its defaults.
    key = entry_key([PhysioNetLayout(folder, 2020)], LoadOptions(cache_dir=cache))
    save_cache(cache, key, path, to_arrays(one))
    return next(Path(cache).glob("*.npy"))


def memory_table(n_records):
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp, "data"), Path(tmp, "cache")
        folder.mkdir()
        npy = write_big_entry(folder, cache, n_records)
        size_mb = npy.stat().st_size / 2**20
        results = {}
        for mode in ("cache", "full"):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, mode, str(folder), str(cache), str(npy)],
                capture_output=True, text=True, check=True,
            )
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    assert results["cache"]["memmap"] and results["cache"]["rows"] == n_records
    print(f"\nPeak memory of loading {n_records} x 12 x 1000 float32 ({size_mb:.0f} MB on disk) "
          "and reading one 256-row batch, in a fresh process\n")
    header = ("method", "seconds", "RSS after imports", "peak RSS", "added")
    print("{:44s} {:>9s} {:>18s} {:>9s} {:>8s}".format(*header))
    names = {
        "cache": "load_physionet(cache_dir=...) (memmap)",
        "full": "np.load of the same .npy (in memory)",
    }
    for mode, r in results.items():
        print(f"{names[mode]:44s} {r['seconds']:9.3f} {r['before']:15.0f} MB {r['peak']:6.0f} MB "
              f"{r['peak'] - r['before']:5.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, 2,000-record memory test")
    default_data = Path(os.environ.get("SKLEARN_ECG_DEV_DATA", _DEFAULT_DATA))
    parser.add_argument("--data", type=Path, default=default_data, help="folder of records")
    parser.add_argument("--ptbxl", type=Path, default=_SHARED / "ptbxl-dev",
                        help="PTB-XL folder (ptbxl_database.csv, records100, records500)")
    parser.add_argument("--ludb", type=Path, default=_SHARED / "ludb-dev",
                        help="LUDB folder (ludb.csv, data/)")
    parser.add_argument("--n-records", type=int, default=None, help="rows of the memory test")
    args = parser.parse_args()
    if not (args.data / "index.csv").is_file():
        sys.exit(f"Development records not found at {args.data}; pass --data.")
    repeats = 1 if args.quick else 3
    speed_table(args.data, repeats)
    wfdb_table(args.ptbxl, args.ludb, repeats)
    memory_table(args.n_records or (2000 if args.quick else 40_000))


if __name__ == "__main__":
    main()
