"""Time make_synthetic_ecg against two baselines, in one process.

- vectorised: ``make_synthetic_ecg(n, fs=fs)`` (default noise), and with ``noise=0``;
- per-record loop: ``n`` calls of ``make_synthetic_ecg(1, ...)``, what the
  generator would cost without vectorising over records (run up to 500 records);
- floor: filling an array of the output's shape with float32 Gaussian noise
  from a ``numpy.random.Generator``, a lower bound for any generator.

Usage: ``python benchmarks/bench_synthetic.py [--quick]``. Times are the best
of ``--repeat`` runs (one run for 5000 records).
"""

import argparse
import time

import numpy as np

from sklearn_ecg.datasets import make_synthetic_ecg


def best_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def per_record_loop(n, fs):
    for seed in range(n):
        make_synthetic_ecg(1, fs=fs, random_state=seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small configuration (smoke run)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configs = [(100, 100)] if args.quick else [(500, 100), (5000, 100), (500, 500)]
    header = f"{'records':>7} {'fs':>4} | {'vectorised':>10} {'noise=0':>8} {'records/s':>9} | {'loop':>7} {'floor':>7}"
    print(header)
    print("-" * len(header))
    for n, fs in configs:
        repeat = 1 if n > 1000 else args.repeat
        vectorised = best_time(lambda n=n, fs=fs: make_synthetic_ecg(n, fs=fs, random_state=0), repeat)
        clean = best_time(lambda n=n, fs=fs: make_synthetic_ecg(n, fs=fs, noise=0, random_state=0), repeat)
        loop = f"{best_time(lambda n=n, fs=fs: per_record_loop(n, fs), 1):>6.2f}s" if n <= 500 else f"{'-':>7}"
        shape = (n, 12, int(10 * fs))
        rng = np.random.default_rng(0)
        floor = best_time(lambda rng=rng, shape=shape: rng.standard_normal(shape, dtype=np.float32), repeat)
        rate = n / vectorised
        print(f"{n:>7} {fs:>4} | {vectorised:>9.2f}s {clean:>7.2f}s {rate:>9.0f} | {loop} {floor:>6.2f}s")


if __name__ == "__main__":
    main()
