"""Label efficiency: does pretraining once on an unlabelled pool pay when labels are few?

Two directions, one table each (macro AUROC, mean +- sd over seeds):

- forward: pretraining pool ``ptbxl-dev`` + ``ludb-dev`` (585 records,
  never the evaluated ones); evaluation on the 247 ``physionet2020-dev``
  records (24 merged scored classes of 2020) by ANCHORS.md's folds,
  ``KFold(10, shuffle=True, random_state=0)``, predictions pooled over the
  folds;
- reverse: pool ``physionet2020-dev`` + ``ludb-dev`` (407 records);
  evaluation on PTB-XL's superdiagnostic task (5 classes) on the
  ``ptbxl-dev`` records that have one, train folds 1-8, test fold 9 (the
  split and metric of Strodthoff et al. 2021).

Every record at 100 Hz, first 10 s (zero-padded). Each training fold is cut
to 10 %, 25 %, 50 % and 100 % of its labelled records (nested random
subsets, drawn per seed and fold); the test fold is always whole.

Systems (the time branch only: XResNet1d, ``tiny``), each seed its own
pretraining and fine-tuning seed:

- ``scratch``: no pretraining;
- ``selfkd-pool``: :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`
  pretrained once on the pool (the default pipeline's time branch, its
  default epochs);
- ``contrastive-pool``: ``pretrain_encoders(method="contrastive")`` on the
  pool (CMSC, XResNet1d, consecutive 2.5 s windows as pairs);
- ``selfkd-in-fold``: self-KD inside each fit, on the labelled records
  it is given (today's default pipeline).

Heads, for every system:

- ``probe``: the encoder frozen; record embeddings (mean over windows) of
  the signals standardised per lead with the training subset's statistics;
  per class StandardScaler + LogisticRegression (a class without both
  labels in the subset scores its training rate). ``scratch``: the same
  encoder at a random initialisation (seeded).
- ``finetune``: ``make_default_pipeline(branches=["time"],
  fusion="concat", ensemble=None, blend=None)`` (with ``pretrained=`` the
  pool's encoders, ``pretraining="fit"`` for self-KD in the fold, or
  ``pretraining=None`` for scratch), the library's fine-tuning recipe
  (random 2.5 s crops, lead masking, cosine decay, its epochs), trained on
  all its records for all its epochs (no validation split, no early
  stopping: the tiny subsets have no records to spare; AUROC needs no
  thresholds).

``--n-jobs`` runs the pool pretrainings, then the (system, fraction, seed,
fold) fits, in that many joblib processes of one torch thread each.
``--time-one-fold`` measures, on one core, the pool pretraining of each
method and one fold of each system at 10 % and 100 % of the labels, and
estimates the core-minutes of the full run. ``--export-npz PATH`` writes
the data from ``../shared`` to one file that ``--data-npz PATH`` reads
where ``../shared`` is absent (keys ``physionet_X``, ``physionet_y``,
``physionet_classes``, ``ptbxl_X``, ``ptbxl_y``, ``ptbxl_classes``,
``ptbxl_folds``, ``ludb_X``).

Usage::

    python benchmarks/bench_label_efficiency.py --quick          # smoke run: 2 folds, 1 seed, few epochs
    python benchmarks/bench_label_efficiency.py --time-one-fold  # plan the full run
    python benchmarks/bench_label_efficiency.py --n-jobs 48      # full run (heavy)
    python benchmarks/bench_label_efficiency.py --export-npz dev.npz
    python benchmarks/bench_label_efficiency.py --data-npz dev.npz --n-jobs 48 --output results.json
"""

import argparse
import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from _dev_data import load_data, load_shared
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg._random import seeded_torch
from sklearn_ecg.fusion import make_fusion_branches
from sklearn_ecg.leads import LEAD_NAMES
from sklearn_ecg.metrics import macro_auroc
from sklearn_ecg.pipelines import make_default_pipeline, pretrain_encoders
from sklearn_ecg.pretraining import PretrainedEncoders, SelfKDPretrainer

FS, DURATION, WINDOW, SIZE = 100, 10.0, 2.5, "tiny"
WINDOW_SAMPLES = int(WINDOW * FS)
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
SYSTEMS = ("scratch", "selfkd-pool", "contrastive-pool", "selfkd-in-fold")
POOL_METHODS = {"selfkd-pool": "selfkd", "contrastive-pool": "contrastive"}
HEADS = ("probe", "finetune")
SEEDS = (0, 1, 2)
MIN_RECORDS = 4  # a training subset never smaller (the crops' batch normalisation needs a few)


@dataclass(frozen=True)
class Direction:
    """An evaluation: the pool pretrained on, the labelled records and their train/test splits."""

    name: str
    title: str
    pool: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    splits: list


@dataclass(frozen=True)
class Settings:
    """Epochs of each part (None: the library's defaults for the size preset)."""

    pool_epochs: dict
    in_fold_epochs: int | None
    finetune_epochs: int | None


# Data.

def directions(data, n_folds):
    forward_splits = list(KFold(10, shuffle=True, random_state=0).split(data["physionet_X"]))[:n_folds]
    labelled = data["ptbxl_y"].any(axis=1)  # PTB-XL's benchmark leaves out records without a class
    folds = data["ptbxl_folds"][labelled]
    reverse_split = [(np.flatnonzero(folds <= 8), np.flatnonzero(folds == 9))]
    return [
        Direction("forward", "pool ptbxl-dev + ludb-dev -> physionet2020-dev (24 classes, ANCHORS folds, pooled)",
                  np.concatenate([data["ptbxl_X"], data["ludb_X"]]), data["physionet_X"], data["physionet_y"],
                  forward_splits),
        Direction("reverse", "pool physionet2020-dev + ludb-dev -> ptbxl-dev superdiagnostic (folds 1-8 -> 9)",
                  np.concatenate([data["physionet_X"], data["ludb_X"]]), data["ptbxl_X"][labelled],
                  data["ptbxl_y"][labelled], reverse_split),
    ]


# Pretraining and fitting.

def pretrain_pool(direction, method, seed, epochs):
    """Pool encoders of ``method`` (time branch only) and the seconds they took."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    if method == "selfkd":
        branches = make_fusion_branches("time", window=WINDOW_SAMPLES, fs=FS, size=SIZE,
                                        **({} if epochs is None else {"max_epochs": epochs}))
        encoders = PretrainedEncoders.pretrain(branches, direction.pool, method="selfkd", size=SIZE, fs=FS,
                                               window=WINDOW, leads=LEAD_NAMES, random_state=seed)
    else:
        encoders = pretrain_encoders(direction.pool, method=method, size=SIZE, epochs=epochs, window=WINDOW,
                                     random_state=seed)
    return encoders, time.perf_counter() - start


def labelled_subset(train, fraction, seed, fold):
    """The first ``fraction`` of a per-(seed, fold) permutation: subsets of one fold are nested."""
    order = np.random.default_rng([seed, fold]).permutation(train)
    return np.sort(order[:max(MIN_RECORDS, math.ceil(fraction * len(train)))])


def random_embedder(seed, size=SIZE):
    """SelfKDPretrainer's embedding (windows with 50 % overlap, averaged) around a random encoder."""
    embedder = SelfKDPretrainer(size=size, window=WINDOW_SAMPLES, device="cpu")
    with seeded_torch(seed):
        embedder.encoder_ = embedder.build_untrained_encoder(len(LEAD_NAMES)).eval()
    embedder.window_, embedder.n_leads_in_ = WINDOW_SAMPLES, len(LEAD_NAMES)
    embedder.n_features_out_ = embedder.encoder_.out_features
    return embedder


def probe_scores(Z_train, Y_train, Z_test):
    scores = np.empty((len(Z_test), Y_train.shape[1]))
    for k in range(Y_train.shape[1]):
        labels = Y_train[:, k]
        if labels.min() == labels.max():
            scores[:, k] = labels.mean()
            continue
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        scores[:, k] = probe.fit(Z_train, labels).predict_proba(Z_test)[:, 1]
    return scores


def fine_tuning_pipeline(system, encoders, seed, settings):
    # One time-branch model (no ensemble, no blend): the encoders' start is what differs.
    options = dict(branches=["time"], fusion="concat", ensemble=None, blend=None,
                   finetune_epochs=settings.finetune_epochs, device="cpu", random_state=seed)
    if system == "scratch":
        options.update(pretraining=None)
    elif system == "selfkd-in-fold":
        options.update(pretraining="fit", pretrain_epochs=settings.in_fold_epochs)
    else:
        options.update(pretrained=encoders)
    pipeline = make_default_pipeline(**options)
    # All records, all epochs: no validation split to spare; AUROC needs no thresholds.
    return pipeline.set_params(classifier__validation_fraction=None, classifier__n_iter_no_change=None,
                               classifier__threshold=0.5)


def run_fold(direction, system, fraction, seed, fold, encoders, settings):
    """Probe and fine-tuned scores of one (system, fraction, seed, fold) on the test fold, and its seconds."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    train, test = direction.splits[fold]
    subset = labelled_subset(train, fraction, seed, fold)
    X, Y = direction.X, direction.Y
    pipeline = fine_tuning_pipeline(system, encoders, seed, settings).fit(X[subset], Y[subset])
    if system == "scratch":
        embedder = random_embedder(seed)
    elif system == "selfkd-in-fold":
        embedder = pipeline[-1].named_branches_["time"]  # pretrained in this fit, on the subset
    else:
        embedder = dict(encoders.branches)["time"]
    standardize = pipeline[0]  # fitted on the subset
    Z_train, Z_test = (embedder.transform(standardize.transform(X[rows])) for rows in (subset, test))
    scores = {"probe": probe_scores(Z_train, Y[subset], Z_test), "finetune": pipeline.predict_proba(X[test])}
    return scores, {"n_train": len(subset), "seconds": time.perf_counter() - start}


def run(directions_, systems, fractions, seeds, settings, n_jobs):
    """AUROC per (direction, system, head, fraction, seed), and every timing."""
    pool_jobs = [(d, POOL_METHODS[s], seed) for d in directions_ for s in systems if s in POOL_METHODS
                 for seed in seeds]
    pooled = Parallel(n_jobs=n_jobs)(
        delayed(pretrain_pool)(d, method, seed, settings.pool_epochs.get(method)) for d, method, seed in pool_jobs
    )
    encoders = {(d.name, method, seed): result[0] for (d, method, seed), result in zip(pool_jobs, pooled)}
    timings = {"pool": [{"direction": d.name, "method": m, "seed": s, "seconds": r[1]}
                        for (d, m, s), r in zip(pool_jobs, pooled)], "folds": []}
    fold_jobs = [(d, system, fraction, seed, fold) for d in directions_ for system in systems for fraction in fractions
                 for seed in seeds for fold in range(len(d.splits))]
    fitted = Parallel(n_jobs=n_jobs)(
        delayed(run_fold)(d, system, fraction, seed, fold, encoders.get((d.name, POOL_METHODS.get(system), seed)),
                          settings)
        for d, system, fraction, seed, fold in fold_jobs
    )
    scores = {}
    for (d, system, fraction, seed, fold), (fold_scores, timing) in zip(fold_jobs, fitted):
        timings["folds"].append({"direction": d.name, "system": system, "fraction": fraction, "seed": seed,
                                 "fold": fold, **timing})
        for head, values in fold_scores.items():
            scores.setdefault((d.name, system, head, fraction, seed), {})[fold] = values
    aurocs = {}
    for d in directions_:
        tested = np.concatenate([test for _, test in d.splits])
        for key, per_fold in scores.items():
            if key[0] != d.name:
                continue
            pooled_scores = np.zeros(d.Y.shape)
            for fold, values in per_fold.items():
                pooled_scores[d.splits[fold][1]] = values
            aurocs[key] = macro_auroc(d.Y[tested], pooled_scores[tested])
    return aurocs, timings


# Reports.

def format_table(direction, aurocs, systems, fractions, seeds):
    header = "| system | head | " + " | ".join(f"{int(f * 100)} % labels" for f in fractions) + " |"
    lines = [f"{direction.title}; macro AUROC, mean +- sd over seeds {list(seeds)}", "", header,
             "|" + "---|" * (2 + len(fractions))]
    for system in systems:
        for head in HEADS:
            cells = []
            for fraction in fractions:
                values = [aurocs[(direction.name, system, head, fraction, seed)] for seed in seeds]
                cells.append(f"{np.mean(values):.3f} +- {np.std(values):.3f}")
            lines.append(f"| {system} | {head} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_timings(timings):
    lines = ["seconds on one core (mean over the runs):"]
    for method in sorted({t["method"] for t in timings["pool"]}):
        for direction in ("forward", "reverse"):
            runs = [t["seconds"] for t in timings["pool"] if t["method"] == method and t["direction"] == direction]
            if runs:
                lines.append(f"  pool pretraining, {method}, {direction}: {np.mean(runs):.0f} s")
    keys = sorted({(t["direction"], t["system"], t["fraction"]) for t in timings["folds"]})
    for direction, system, fraction in keys:
        runs = [t for t in timings["folds"]
                if (t["direction"], t["system"], t["fraction"]) == (direction, system, fraction)]
        lines.append(f"  one fold, {direction}, {system}, {int(fraction * 100)} % "
                     f"({np.mean([t['n_train'] for t in runs]):.0f} records): "
                     f"{np.mean([t['seconds'] for t in runs]):.1f} s")
    return "\n".join(lines)


def estimate_core_minutes(timings, directions_, seeds):
    """Core-minutes of a full run of ``directions_`` (all their splits) from the timings of one seed.

    A fold's time is taken as linear in its training records, fitted per
    system on the folds timed.
    """
    total = sum(t["seconds"] for t in timings["pool"]) * len(seeds)
    for system in {t["system"] for t in timings["folds"]}:
        runs = [t for t in timings["folds"] if t["system"] == system]
        n = np.array([t["n_train"] for t in runs], dtype=float)
        seconds = np.array([t["seconds"] for t in runs])
        slope, intercept = np.polyfit(n, seconds, 1) if len(set(n)) > 1 else (0.0, seconds.mean())
        for d in directions_:
            for train, _ in d.splits:
                for fraction in FRACTIONS:
                    n_train = max(MIN_RECORDS, math.ceil(fraction * len(train)))
                    total += (intercept + slope * n_train) * len(seeds)
    return total / 60


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 folds, seed 0, 1-5 pretraining and 2 fine-tuning epochs")
    parser.add_argument("--time-one-fold", action="store_true",
                        help="time the pool pretrainings and one fold of each system at 10 %% and 100 %% of "
                             "the labels, and estimate the core-minutes of the full run")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--directions", nargs="+", choices=("forward", "reverse"), default=["forward", "reverse"])
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help=f"default: {list(SEEDS)}; --quick: 0")
    parser.add_argument("--n-jobs", type=int, default=1, help="joblib processes, one torch thread each")
    parser.add_argument("--data-npz", type=Path, default=None, help="arrays written by --export-npz")
    parser.add_argument("--export-npz", type=Path, default=None, metavar="PATH",
                        help="write the data from ../shared to PATH and exit")
    parser.add_argument("--output", type=Path, default=None, help="write every AUROC and timing as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)

    if args.export_npz is not None:
        np.savez_compressed(args.export_npz, **load_shared())
        print(f"wrote {args.export_npz}")
        return
    n_folds = 2 if args.quick else (1 if args.time_one_fold else 10)
    seeds = args.seeds or ([0] if args.quick or args.time_one_fold else list(SEEDS))
    fractions = (FRACTIONS[0], FRACTIONS[-1]) if args.time_one_fold else FRACTIONS
    if args.quick:
        settings = Settings({"selfkd": 1, "contrastive": 5}, in_fold_epochs=1, finetune_epochs=2)
    else:
        settings = Settings({}, in_fold_epochs=None, finetune_epochs=None)
    data = load_data(args.data_npz)
    chosen = [d for d in directions(data, n_folds) if d.name in args.directions]
    print(f"systems {args.systems}, seeds {seeds}, folds {n_folds} per direction, fractions {fractions}, "
          f"{settings}, n_jobs {args.n_jobs}", flush=True)
    start = time.perf_counter()
    aurocs, timings = run(chosen, args.systems, fractions, seeds, settings, args.n_jobs)
    for direction in chosen:
        print()
        print(format_table(direction, aurocs, args.systems, fractions, seeds))
    print()
    print(format_timings(timings))
    if args.time_one_fold:
        full = [d for d in directions(data, 10) if d.name in args.directions]
        print(f"\nestimated full run ({len(SEEDS)} seeds, all folds, {len(FRACTIONS)} fractions, systems "
              f"{args.systems}): {estimate_core_minutes(timings, full, SEEDS):.0f} core-minutes")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.output is not None:
        rows = [{"direction": k[0], "system": k[1], "head": k[2], "fraction": k[3], "seed": k[4], "macro_auroc": v}
                for k, v in aurocs.items()]
        args.output.write_text(json.dumps({"aurocs": rows, "timings": timings}, indent=2))


if __name__ == "__main__":
    main()
