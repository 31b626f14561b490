"""Throughput of the signal transformers against per-record scipy/numpy loops.

Each task runs the batched transformer beside the per-record loop that the
paper's code (or a straightforward implementation) uses, and a plain copy of
the input array: the memory-bandwidth bound, since every transformer reads
all of its input at least once. Times are the best of three runs, all in one
process: the first run of a method often pays for fresh memory pages of its
output (on a virtual machine, the first touch of a page can cost more than
the computation), so a single run measures the machine more than the code.

    python benchmarks/bench_transformers.py           # 10,000 x 12 x 1,000 and 2,000 x 12 x 5,000
    python benchmarks/bench_transformers.py --quick   # small smoke run

The torch-based transformers are timed with one torch thread and with one
per available core: on a machine shared with other busy processes, more
threads can be slower (threads wait for each other at every operation).
"""

import argparse
import os
import time

import numpy as np
import scipy.signal
import torch

from sklearn_ecg.nn.functional import sliding_windows
from sklearn_ecg.preprocessing import (
    BandpassFilter,
    LeadMasker,
    LeadStandardizer,
    Resampler,
    STFTSpectrogram,
    WindowCropper,
)


def best_time(function, repeat=3):
    """Best wall time of ``function()`` over ``repeat`` runs, and its result."""
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous output before the next run
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def loop(records, function, out_shape, dtype=np.float32):
    """Apply ``function`` record by record into a preallocated array."""
    out = np.empty((len(records),) + out_shape, dtype=dtype)
    for i, record in enumerate(records):
        out[i] = function(record)
    return out


def fitted_transform(transformer, X):
    transformer.fit(X[:2])  # stateless transformers: fit only checks
    return lambda: transformer.transform(X)


def tasks(X100, X500):
    """(task, data, [(method, function, kind)]) with the loop first.

    kind: True for results comparable with the first comparable row, False
    for another method, "torch" for a comparable torch-based method (timed
    at each thread count).
    """
    sos = scipy.signal.butter(4, [0.5, 45], btype="bandpass", fs=100, output="sos")
    n100 = X100.shape[-1]
    stft_shape = STFTSpectrogram().fit(X100[:1]).transform(X100[:1]).shape[1:]
    standardizer = LeadStandardizer().fit(X100)
    mean, scale = standardizer.mean_[:, None], standardizer.scale_[:, None]
    keep = LeadMasker(leads=3).fit(X100[:1]).lead_indices_
    drop = np.setdiff1d(np.arange(12), keep)
    window = 250

    def masked(record):
        record = record.copy()
        record[drop] = 0
        return record

    def windows_loop():
        starts = list(range(0, n100 - window + 1, window // 2))
        return np.stack([record[:, s:s + window] for record in X100 for s in starts])

    return [
        ("STFT (Hann 25, hop 13)", X100, [
            ("loop: scipy.signal.stft per record",
             lambda: loop(X100, lambda r: np.abs(scipy.signal.stft(r, fs=100, window="hann", nperseg=25)[2]),
                          stft_shape), True),
            ("STFTSpectrogram", fitted_transform(STFTSpectrogram(), X100), "torch"),
        ]),
        ("Resample 500 -> 100 Hz", X500, [
            ("loop: scipy.signal.resample per record (FFT, paper)",
             lambda: loop(X500, lambda r: scipy.signal.resample(r, X500.shape[-1] // 5, axis=-1),
                          (12, X500.shape[-1] // 5)), False),
            ("loop: scipy.signal.resample_poly per record",
             lambda: loop(X500, lambda r: scipy.signal.resample_poly(r, 1, 5, axis=-1),
                          (12, X500.shape[-1] // 5)), True),
            ("one call: scipy.signal.resample_poly(X, axis=-1)",
             lambda: scipy.signal.resample_poly(X500, 1, 5, axis=-1), True),
            ("Resampler", fitted_transform(Resampler(500, 100), X500), "torch"),
        ]),
        ("Band-pass 0.5-45 Hz (sosfiltfilt)", X100, [
            ("loop: scipy.signal.sosfiltfilt per record",
             lambda: loop(X100, lambda r: scipy.signal.sosfiltfilt(sos, r, axis=-1), (12, n100)), True),
            ("BandpassFilter", fitted_transform(BandpassFilter(fs=100), X100), True),
        ]),
        ("Per-lead z-score (transform)", X100, [
            ("loop: (x - mean) / std per record", lambda: loop(X100, lambda r: (r - mean) / scale, (12, n100)), True),
            ("LeadStandardizer", lambda: standardizer.transform(X100), True),
        ]),
        ("Lead set 3 (zero the others)", X100, [
            ("loop: copy and zero per record", lambda: loop(X100, masked, (12, n100)), True),
            ("LeadMasker", fitted_transform(LeadMasker(leads=3), X100), True),
        ]),
        ("Centre crop to 2.5 s", X100, [
            ("loop: slice per record",
             lambda: loop(X100, lambda r: r[:, (n100 - window) // 2:(n100 - window) // 2 + window], (12, window)),
             True),
            ("WindowCropper", fitted_transform(WindowCropper(window, position="center"), X100), True),
        ]),
        ("Sliding 2.5 s windows, 50 % overlap", X100, [
            ("loop: slices per record", windows_loop, True),
            ("sliding_windows", lambda: sliding_windows(X100, window, window // 2)[0], True),
        ]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small arrays, for a smoke run")
    args = parser.parse_args()
    n_cores = len(os.sched_getaffinity(0))
    thread_counts = sorted({1, n_cores})
    n100, n500 = (500, 100) if args.quick else (10_000, 2_000)
    rng = np.random.default_rng(0)
    X100 = rng.standard_normal((n100, 12, 1000), dtype=np.float32)
    X500 = rng.standard_normal((n500, 12, 5000), dtype=np.float32)
    print(f"{n_cores} cores; torch {torch.__version__} timed with {' and '.join(map(str, thread_counts))} "
          f"thread(s) (torch.get_num_threads()); numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"100 Hz input {X100.shape} float32 ({X100.nbytes / 2**20:.0f} MiB); "
          f"500 Hz input {X500.shape} float32 ({X500.nbytes / 2**20:.0f} MiB)\n")
    header = (f"{'task':<36} {'method':<52} {'time (s)':>9} {'records/s':>11} {'vs loop':>8} "
              f"{'vs copy':>8} {'max |diff|':>11}")
    print(header)
    print("-" * len(header))
    for task, X, methods in tasks(X100, X500):
        copy_time, _ = best_time(X.copy)
        print(f"{task:<36} {'copy of the input (memory bound)':<52} {copy_time:>9.3f} "
              f"{len(X) / copy_time:>11,.0f} {'':>8} {1.0:>7.1f}x {'':>11}")
        reference = loop_time = None
        for method, function, kind in methods:
            for threads in thread_counts if kind == "torch" else [None]:
                if threads is not None:
                    torch.set_num_threads(threads)
                    method_label = f"{method} ({threads} torch thread{'s' * (threads > 1)})"
                else:
                    method_label = method
                elapsed, result = best_time(function)
                if loop_time is None:
                    loop_time = elapsed
                if kind and reference is None:
                    reference = result
                diff = f"{np.abs(result - reference).max():>11.1e}" if kind else f"{'(other)':>11}"
                print(f"{'':<36} {method_label:<52} {elapsed:>9.3f} {len(X) / elapsed:>11,.0f} "
                      f"{loop_time / elapsed:>7.1f}x {elapsed / copy_time:>7.1f}x {diff}")
        print()
    print("vs loop: speed-up over the first (per-record) row of the task; vs copy: time / time of a plain copy of "
          "the input.\nmax |diff|: largest difference from the first comparable row ('(other)': another method, "
          "e.g. FFT resampling).")


if __name__ == "__main__":
    main()
