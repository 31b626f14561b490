"""End to end: the default pipeline against the MiniRocket + ridge anchor.

On the 247 development records (100 Hz, first 10 s, 24 merged scored
classes of 2020), 10-fold ``KFold(10, shuffle=True, random_state=0)`` with
predictions pooled over the folds: the protocol and folds of ANCHORS.md,
the same folds for every system in one run.

- ``default pipeline``: :func:`sklearn_ecg.pipelines.make_default_pipeline`
  with its defaults (``classes`` set to the data's, ``random_state`` to the
  seed, ``device`` from ``--device``); labels from its ``predict``, whose
  thresholds are tuned on the model's validation split.
- ``MiniRocket + ridge``: the anchor (benchmarks/_anchor.py), thresholds
  at decision 0 or tuned on inner 5-fold out-of-fold scores.

Columns: the seven challenge figures of the pooled predictions, the fit
time summed over the folds, and inference throughput in records per second:
labelling the held-out records from their signals (summed over the folds),
and labelling ``--tiled`` records (the dev records repeated) with the model
of the last fold, one call, which is steadier. Times are wall-clock on this
machine; torch uses ``OMP_NUM_THREADS`` threads (all cores when unset).

The anchor needs ``aeon`` (see _anchor.py); without it its rows are skipped.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=/tmp/aeon_target python benchmarks/bench_end_to_end.py
    python benchmarks/bench_end_to_end.py --quick   # two folds, one epoch of each stage
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch

# Run as a script, this file's folder is on sys.path: the shared anchor imports.
from _anchor import HEADER, PLAIN, TUNED, mean_sd_rows, run_anchor, score_cells, tested_records
from sklearn.model_selection import KFold

from sklearn_ecg.datasets import load_physionet
from sklearn_ecg.metrics import cinc_report
from sklearn_ecg.pipelines import make_default_pipeline

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet2020-dev"
DEFAULT = "default pipeline"


def run_default(args, X, Y, classes, folds, seed):
    """Cross-validate the default pipeline; return its row and inference figures."""
    proba, labels = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int)
    fit_s = predict_s = 0.0
    for k, (train, test) in enumerate(folds):
        model = make_default_pipeline(
            classes=classes,
            pretrain_epochs=args.epochs,
            finetune_epochs=args.epochs,
            device=args.device,
            random_state=seed,
        )
        start = time.perf_counter()
        model.fit(X[train], Y[train])
        fold_fit_s = time.perf_counter() - start
        fit_s += fold_fit_s
        start = time.perf_counter()
        labels[test] = model.predict(X[test])
        predict_s += time.perf_counter() - start
        proba[test] = model.predict_proba(X[test])
        print(f"  default pipeline seed {seed} fold {k}: fit {fold_fit_s:.0f} s", flush=True)
    t = tested_records(folds)
    return (cinc_report(Y[t], proba[t], labels[t], classes=classes), fit_s), (predict_s, model)


def tiled_throughput(model, X, n_records):
    """Records per second of one ``predict`` call on the records repeated to ``n_records``."""
    tiled = X[np.arange(n_records) % len(X)]
    start = time.perf_counter()
    model.predict(tiled)
    return n_records / (time.perf_counter() - start)


def print_table(rows, n_tested, n_tiled):
    print(f"| system | thresholds | seed | {' | '.join(HEADER)} | fit s | held-out rec/s "
          f"| {n_tiled} tiled rec/s |")
    print("|---|---|---|" + "---|" * len(HEADER) + "---|---|---|")
    for (system, thresholds, seed), row in rows.items():
        print(f"| {system} | {thresholds} | {seed} | {score_cells(row['report'])} | {row['fit_s']:.0f} "
              f"| {n_tested / row['predict_s']:.0f} | {row['tiled']:.0f} |")
    for line in mean_sd_rows({key: row["report"] for key, row in rows.items()}, trailing_cells=3):
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two folds, one epoch of each training stage")
    parser.add_argument("--data", default=str(DEV_DATA))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="random_state values of the default pipeline")
    parser.add_argument("--device", default="auto", help="torch device of the default pipeline")
    parser.add_argument("--tiled", type=int, default=1000, help="records of the steadier throughput line")
    parser.add_argument("--no-anchor", action="store_true")
    args = parser.parse_args()
    args.epochs = 1 if args.quick else None
    n_folds = 2 if args.quick else 10
    # The dev folder's known oddities, reported by the loader on every run.
    warnings.filterwarnings("ignore", message=".*all-zero lead.*")
    warnings.filterwarnings("ignore", message=".*were skipped.*")

    start = time.perf_counter()
    data = load_physionet(args.data, fs=100, duration=10.0)
    X, Y, classes = data.X, data.y, data.classes
    folds = list(KFold(10, shuffle=True, random_state=0).split(X))[:n_folds]
    n_tested = len(tested_records(folds))
    print(f"{len(X)} records, {Y.shape[1]} classes, X {X.shape}; {n_folds} of 10 folds; "
          f"torch {torch.get_num_threads()} threads, device {args.device}", flush=True)

    rows = {}
    if not args.no_anchor:
        inference = {}
        for thresholds, (report, fit_s) in run_anchor(X, Y, classes, folds, inference).items():
            predict_s, model = inference[thresholds]
            rows[("MiniRocket + ridge", thresholds, 0)] = dict(
                report=report, fit_s=fit_s, predict_s=predict_s, tiled=tiled_throughput(model, X, args.tiled)
            )
        print(f"  anchor done at {time.perf_counter() - start:.0f} s", flush=True)
    for seed in args.seeds:
        (report, fit_s), (predict_s, model) = run_default(args, X, Y, classes, folds, seed)
        rows[(DEFAULT, "validation split", seed)] = dict(
            report=report, fit_s=fit_s, predict_s=predict_s, tiled=tiled_throughput(model, X, args.tiled)
        )

    print()
    if n_folds < 10:
        print(f"(scores over the {n_tested} test records of {n_folds} folds only)")
    print_table(rows, n_tested, args.tiled)
    print(f"\nreference (ANCHORS.md, same folds): MiniRocket + ridge ChM 0.325 / AUROC 0.683 ({PLAIN}), "
          f"ChM 0.377 ({TUNED})")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
