"""Why self-KD pretraining does not pay on the dev pool: its diagnostics, and an ablation against CMSC.

Every system pretrains the time branch (XResNet1d, ``--size``) without
labels on the pool ``ptbxl-dev`` + ``ludb-dev`` (585 records, 100 Hz, first
10 s, standardised per lead with the pool's statistics), never on the
evaluated records, and is scored on the 247 ``physionet2020-dev`` records
(standardised per lead with their own statistics):

- ``probe AUROC``: per class StandardScaler + LogisticRegression on the
  record embeddings (mean over 2.5 s windows with 50 % overlap),
  ``KFold(10, shuffle=True, random_state=0)``, predictions pooled over the
  folds (ANCHORS.md's folds); macro AUROC;
- ``identification``: each record's first 5 s (gallery) against its second
  5 s (probe), top-1 by cosine similarity over the 247 records;
- ``eff. rank``: the effective rank of the centred record embeddings
  (exp of the entropy of their normalised singular values; 1 means every
  record maps to one direction, the embedding size is the maximum);
- self-KD only, last epoch: ``teacher H`` (mean entropy of the teacher's
  output, in nats; log K means uniform) and ``batch H`` (entropy of the
  batch-mean output; near 0 means one prototype for every input), and the
  training loss of the first and last epochs.

Systems: the same encoder at a random initialisation; CMSC
(``pretrain_encoders(method="contrastive")``, the pretrain-once recipe);
``SelfKDPretrainer`` with its defaults for the size (the time branch of
``make_fusion_branches``, like ``bench_label_efficiency.py``'s
``selfkd-pool``); and self-KD with one part changed at a time, each at the contrastive recipe's epochs,
to tell whether training time, the teacher's dynamics, the views or the
lead masking hold it back.

Usage::

    python benchmarks/bench_selfkd_diagnostics.py --quick                 # smoke run: 1 seed, 2 epochs
    python benchmarks/bench_selfkd_diagnostics.py --n-jobs 2 --data-npz dev.npz
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _dev_data import load_data
from bench_label_efficiency import FS, WINDOW, WINDOW_SAMPLES, probe_scores, random_embedder
from joblib import Parallel, delayed
from sklearn.model_selection import KFold

from sklearn_ecg.fusion import make_fusion_branches
from sklearn_ecg.metrics import identification_accuracy, macro_auroc
from sklearn_ecg.pipelines import pretrain_encoders
from sklearn_ecg.preprocessing import LeadStandardizer

HALF = 5 * FS
CONTRASTIVE_EPOCHS = 60  # pretrain_encoders' default for tiny and small

# Self-KD with one part changed at a time: the parameters changed from
# SelfKDPretrainer's defaults (None: the contrastive recipe's epochs).
SELFKD_VARIANTS = {
    "self-KD (its defaults)": {},
    "self-KD, {epochs} epochs": {"max_epochs": None},
    "self-KD, {epochs} epochs, teacher momentum 0.996": {"max_epochs": None, "momentum_teacher": 0.996},
    "self-KD, {epochs} epochs, centre momentum 0.99": {"max_epochs": None, "center_momentum": 0.99},
    "self-KD, {epochs} epochs, teacher temperature 0.07": {"max_epochs": None, "teacher_temp": 0.07},
    "self-KD, {epochs} epochs, 4096 prototypes": {"max_epochs": None, "n_prototypes": 4096},
    "self-KD, {epochs} epochs, no lead masking": {"max_epochs": None, "lead_mask_proba": 0.0},
}
RANDOM, CMSC = "random init", "CMSC (contrastive)"


def systems(epochs):
    """``{name: self-KD parameters}``; None for the random encoder and CMSC."""
    selfkd = {
        template.format(epochs=epochs): {key: epochs if value is None else value for key, value in params.items()}
        for template, params in SELFKD_VARIANTS.items()
    }
    return {RANDOM: None, CMSC: None, **selfkd}


def pretrain(system, params, pool, size, epochs, seed):
    """The fitted embedder of ``system`` (its ``transform`` embeds records), its seconds and diagnostics."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    diagnostics = {}
    if system == RANDOM:
        embedder = random_embedder(seed, size=size)
    elif system == CMSC:
        encoders = pretrain_encoders(pool, method="contrastive", size=size, epochs=epochs, window=WINDOW,
                                     random_state=seed)
        embedder = dict(encoders.branches)["time"]
    else:
        ((_, embedder),) = make_fusion_branches("time", window=WINDOW_SAMPLES, fs=FS, size=size, device="cpu",
                                                random_state=seed)
        embedder.set_params(**params).fit(LeadStandardizer().fit_transform(pool))
        history = embedder.history_
        diagnostics = {"teacher H": history[-1, "teacher_entropy"], "batch H": history[-1, "teacher_batch_entropy"],
                       "log K": float(np.log(embedder.n_prototypes)), "loss first": history[0, "train_loss"],
                       "loss last": history[-1, "train_loss"], "epochs": len(history)}
    return embedder, time.perf_counter() - start, diagnostics


def score(embedder, X, Y, folds):
    """Probe AUROC, identification top-1 and effective rank of ``embedder`` on the evaluated records."""
    torch.set_num_threads(1)
    Z = embedder.transform(X)
    pooled = np.zeros(Y.shape)
    for train, test in folds:
        pooled[test] = probe_scores(Z[train], Y[train], Z[test])
    halves = np.concatenate([X[:, :, :HALF], X[:, :, HALF:2 * HALF]])
    identities = np.tile(np.arange(len(X)), 2)
    gallery, probe = np.arange(len(X)), np.arange(len(X), 2 * len(X))
    top1 = identification_accuracy(embedder.transform(halves), identities, gallery=gallery, probe=probe)
    return {"probe AUROC": macro_auroc(Y, pooled), "identification": top1, "eff. rank": effective_rank(Z)}


def effective_rank(Z):
    singular = np.linalg.svd(Z - Z.mean(axis=0), compute_uv=False)
    p = singular / singular.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def run_one(system, params, pool, X, Y, folds, size, epochs, seed):
    embedder, seconds, diagnostics = pretrain(system, params, pool, size, epochs, seed)
    return {**score(embedder, X, Y, folds), **diagnostics, "seconds": seconds}


def print_table(names, seeds, results):
    columns = ["probe AUROC", "identification", "eff. rank", "epochs", "teacher H", "batch H", "loss first",
               "loss last", "seconds"]
    print("| system | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for system in names:
        cells = []
        for column in columns:
            values = np.array([results[system, seed][column] for seed in seeds if column in results[system, seed]])
            if values.size == 0:
                cells.append("")
            elif column in ("probe AUROC", "identification"):
                cells.append(f"{values.mean():.3f} ± {values.std():.3f}")
            else:
                cells.append(f"{values.mean():.3g}")
        print(f"| {system} | " + " | ".join(cells) + " |")
    log_k = {results[s, seeds[0]].get("log K") for s in names} - {None}
    print(f"\nmean ± sd over seeds {seeds}; log K (uniform teacher) = "
          + ", ".join(f"{value:.2f}" for value in sorted(log_k)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 2 epochs, 3 systems")
    parser.add_argument("--data-npz", default=None, help="the dev data as one npz (see _dev_data.py)")
    parser.add_argument("--size", default="tiny", choices=["tiny", "small"])
    parser.add_argument("--epochs", type=int, default=None, help=f"default {CONTRASTIVE_EPOCHS}; --quick: 2")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2; --quick: 0")
    parser.add_argument("--n-jobs", type=int, default=1, help="processes of one torch thread each")
    args = parser.parse_args()
    epochs = args.epochs or (2 if args.quick else CONTRASTIVE_EPOCHS)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    variants = systems(epochs)
    if args.quick:
        variants = dict(list(variants.items())[:3])

    data = load_data(args.data_npz)
    pool = np.concatenate([data["ptbxl_X"], data["ludb_X"]])
    X, Y = LeadStandardizer().fit_transform(data["physionet_X"]), data["physionet_y"]
    folds = list(KFold(10, shuffle=True, random_state=0).split(X))
    print(f"pool {len(pool)} records; evaluated {len(X)} records, {Y.shape[1]} classes; {args.size} XResNet1d, "
          f"{epochs} epochs where not the defaults, seeds {seeds}, n_jobs {args.n_jobs}", flush=True)
    start = time.perf_counter()
    jobs = [(system, seed) for seed in seeds for system in variants]
    outputs = Parallel(n_jobs=args.n_jobs)(
        delayed(run_one)(system, variants[system], pool, X, Y, folds, args.size, epochs, seed)
        for system, seed in jobs
    )
    print_table(list(variants), seeds, dict(zip(jobs, outputs)))
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
