"""End to end: the default pipeline against the MiniRocket + ridge anchor.

On the 247 development records (100 Hz, first 10 s, 24 merged scored
classes of 2020), 10-fold ``KFold(10, shuffle=True, random_state=0)`` with
predictions pooled over the folds: the protocol and folds of ANCHORS.md,
the same folds for every system in one run.

- ``default pipeline``: :func:`sklearn_ecg.pipelines.make_default_pipeline`
  with its defaults (``classes`` set to the data's, ``random_state`` to the
  seed, ``device`` from ``--device``); labels from its ``predict``, whose
  thresholds are tuned on its inner out-of-fold probabilities. The
  inference table also times the paper's model (one fused model,
  ``pretrained=None, pretraining="fit", ensemble=None, blend=None``).
- ``MiniRocket + ridge``: the anchor (benchmarks/_anchor.py), thresholds
  at decision 0 or tuned on inner 5-fold out-of-fold scores.

Columns: the seven challenge figures of the pooled predictions, the fit
time summed over the folds, and inference throughput in records per second:
labelling the held-out records from their signals (summed over the folds),
and labelling ``--tiled`` records (the dev records repeated) with the model
of the last fold, one call, which is steadier. Times are wall-clock on this
machine; torch uses ``OMP_NUM_THREADS`` threads (all cores when unset).

The anchor needs ``aeon`` (see _anchor.py); without it its rows are skipped.

The inference table (also alone with ``--inference-only``, on a pipeline
fitted once on all the records) times ``predict`` of ``--tiled`` records
per system: records per second, wall clock and CPU time (best of
``--repeats`` calls; with one torch thread, CPU time does not count the
waits for a core shared with other processes), the network passes per
prediction (windows the network computed / windows of the records: 1.00
means one forward pass per window, the zero-padded rows of a last short
batch aside), and the memory a call takes per 1,000 records (peak resident
memory during the call above that before it, the input excluded).

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=/tmp/aeon_target python benchmarks/bench_end_to_end.py
    python benchmarks/bench_end_to_end.py --quick   # two folds, one epoch of each stage
    OMP_NUM_THREADS=1 python benchmarks/bench_end_to_end.py --inference-only --no-anchor
"""

import argparse
import resource
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
from sklearn_ecg.nn.functional import window_starts
from sklearn_ecg.pipelines import make_default_pipeline

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet2020-dev"
DEFAULT = "default pipeline"
PAPER = "paper's model (one model, no blend)"


def run_default(args, X, Y, classes, folds, seed):
    """Cross-validate the default pipeline; return its row and inference figures."""
    proba, labels = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int)
    fit_s = predict_s = 0.0
    for k, (train, test) in enumerate(folds):
        model = make_default_pipeline(classes=classes, finetune_epochs=args.epochs, device=args.device,
                                      random_state=seed)
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


def peak_rss_reset():
    """Reset the process's peak resident memory (Linux), so that the next reading is a call's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_kib(field):
    """``VmRSS`` or ``VmHWM`` (peak) of this process, in KiB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def windows_forwarded(model, X):
    """Windows the fused network computes in ``model.predict(X)``, over the windows of X's records.

    None for a model without the fused network (the anchor).
    """
    classifier = model[-1]
    network = getattr(getattr(classifier, "net_", None), "module_", None)
    if network is None:
        return None
    seen = []
    hook = network.register_forward_hook(lambda module, args, out: seen.append(len(args[0])))
    try:
        model.predict(X)
    finally:
        hook.remove()
    step = max(1, classifier.window // 2)
    needed = len(X) * len(window_starts(X.shape[-1], classifier.window, step))
    return sum(seen) / needed


def inference_row(model, X, n_records, repeats):
    """Throughput, passes per window and memory of ``model.predict`` on ``n_records`` tiled records."""
    tiled = X[np.arange(n_records) % len(X)]
    model.predict(tiled[:8])  # first-call costs out of the timings
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        model.predict(tiled)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    before = rss_kib("VmRSS")
    memory = None
    if peak_rss_reset():
        model.predict(tiled)
        memory = (rss_kib("VmHWM") - before) / 1024 * 1000 / n_records
    return dict(wall=n_records / min(wall), cpu=n_records / min(cpu), passes=windows_forwarded(model, tiled),
                memory=memory)


def print_inference_table(models, X, n_records, repeats):
    print(f"\n| system | predict rec/s (wall) | predict rec/s (CPU) | network passes per window "
          f"| MiB per 1,000 records |  ({n_records} tiled records, best of {repeats})")
    print("|---|---|---|---|---|")
    for system, model in models.items():
        row = inference_row(model, X, n_records, repeats)
        passes = "n/a" if row["passes"] is None else f"{row['passes']:.2f}"
        memory = "n/a" if row["memory"] is None else f"{row['memory']:.0f}"
        print(f"| {system} | {row['wall']:.0f} | {row['cpu']:.0f} | {passes} | {memory} |")


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
    parser.add_argument("--repeats", type=int, default=3, help="predict calls per inference row; best kept")
    parser.add_argument("--inference-only", action="store_true",
                        help="only the inference table, of models fitted once on all records (one epoch of "
                             "each stage: the weights do not change the cost of a prediction)")
    args = parser.parse_args()
    args.epochs = 1 if args.quick or args.inference_only else None
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

    if args.inference_only:
        models = {}
        if not args.no_anchor:
            inference = {}
            all_records = [(np.arange(len(X)), np.arange(len(X)))]
            if run_anchor(X, Y, classes, all_records, inference):
                models["MiniRocket + ridge"] = inference[PLAIN][1]
        model = make_default_pipeline(classes=classes, finetune_epochs=1, device=args.device, random_state=0)
        models[DEFAULT] = model.fit(X, Y)
        paper = make_default_pipeline(classes=classes, pretrained=None, pretraining="fit", pretrain_epochs=1,
                                      finetune_epochs=1,
                                      ensemble=None, blend=None, device=args.device, random_state=0)
        models[PAPER] = paper.fit(X, Y)
        print_inference_table(models, X, args.tiled, args.repeats)
        print(f"total {time.perf_counter() - start:.0f} s")
        return

    rows = {}
    models = {}
    if not args.no_anchor:
        inference = {}
        for thresholds, (report, fit_s) in run_anchor(X, Y, classes, folds, inference).items():
            predict_s, model = inference[thresholds]
            rows[("MiniRocket + ridge", thresholds, 0)] = dict(
                report=report, fit_s=fit_s, predict_s=predict_s, tiled=tiled_throughput(model, X, args.tiled)
            )
            models[f"MiniRocket + ridge ({thresholds})"] = model
        print(f"  anchor done at {time.perf_counter() - start:.0f} s", flush=True)
    for seed in args.seeds:
        (report, fit_s), (predict_s, model) = run_default(args, X, Y, classes, folds, seed)
        rows[(DEFAULT, "validation split", seed)] = dict(
            report=report, fit_s=fit_s, predict_s=predict_s, tiled=tiled_throughput(model, X, args.tiled)
        )
        models[f"{DEFAULT} (seed {seed}, last fold)"] = model

    print()
    if n_folds < 10:
        print(f"(scores over the {n_tested} test records of {n_folds} folds only)")
    print_table(rows, n_tested, args.tiled)
    print_inference_table(models, X, args.tiled, args.repeats)
    print(f"\nreference (ANCHORS.md, same folds): MiniRocket + ridge ChM 0.325 / AUROC 0.683 ({PLAIN}), "
          f"ChM 0.377 ({TUNED})")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
