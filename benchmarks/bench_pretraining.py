"""Does self-KD pretraining give better embeddings than a random encoder?

Linear probe on the 247 development records (100 Hz, first 10 s): per
class, StandardScaler + LogisticRegression on record embeddings, 10-fold
``KFold(10, shuffle=True, random_state=0)`` with predictions pooled over
the folds (the folds of ANCHORS.md). Two embedders of the same
architecture, on the same folds:

- ``self-KD``: :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`
  pretrained inside each fold on its training records only (no labels;
  the test records are never seen);
- ``random init``: the same encoder with its initial random weights.

Both embed a record as the mean of its 2.5 s window embeddings (50 %
overlap). Signals are standardised per lead with the training fold's
statistics (``LeadStandardizer``); with ``--modality spectrogram`` they then
go through ``STFTSpectrogram`` and a per-lead standardisation with a common
scale (the paper's normalisation) before the pretrainer. Binary predictions for the challenge metric: probability
>= 0.5, at least one label per record (the most probable class), no threshold
tuning, for both rows alike; AUROC and AUPRC do not depend on thresholds.

Also printed: pretraining seconds per epoch, and the collapse diagnostics
of the last epoch (teacher entropy per sample, and of the batch mean; log K
is the maximum).

Usage::

    python benchmarks/bench_pretraining.py            # full run
    python benchmarks/bench_pretraining.py --quick    # smoke run, two folds
"""

import argparse
import ast
import copy
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg._random import seeded_torch
from sklearn_ecg.datasets import load_physionet
from sklearn_ecg.metrics import challenge_metric, macro_auprc, macro_auroc
from sklearn_ecg.nn import build_encoder
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet2020-dev"


def probe_scores(Z_train, Y_train, Z_test, C):
    """Per-class logistic-regression probabilities; constant for one-label classes."""
    scores = np.empty((len(Z_test), Y_train.shape[1]))
    for k in range(Y_train.shape[1]):
        labels = Y_train[:, k]
        if labels.min() == labels.max():
            scores[:, k] = labels.mean()
            continue
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        scores[:, k] = probe.fit(Z_train, labels).predict_proba(Z_test)[:, 1]
    return scores


def at_least_one_label(scores):
    """Binary predictions: score >= 0.5, else the single most probable class."""
    predictions = (scores >= 0.5).astype(int)
    empty = predictions.sum(axis=1) == 0
    predictions[empty, scores[empty].argmax(axis=1)] = 1
    return predictions


def embedder(modality, params, seed):
    steps = [LeadStandardizer()]
    if modality == "spectrogram":
        steps += [STFTSpectrogram(), LeadStandardizer(common_scale=True)]
    return make_pipeline(*steps, SelfKDPretrainer(modality=modality, random_state=seed, **params))


def random_twin(pipeline, seed):
    """The fitted pipeline with its encoder replaced by a freshly initialised one.

    Same preprocessing, architecture and embedding code (``transform``);
    only the encoder's weights differ.
    """
    pretrainer = copy.copy(pipeline[-1])
    with seeded_torch(seed):
        encoder = build_encoder(pretrainer.encoder_kind_, pretrainer.size, pretrainer.n_leads_in_)
    pretrainer.encoder_ = encoder.eval()
    return Pipeline(pipeline.steps[:-1] + [("random", pretrainer)])


def run(X, Y, classes, modality, params, n_folds_run, seed, C):
    folds = list(KFold(10, shuffle=True, random_state=0).split(X))[:n_folds_run]
    test_index = np.concatenate([test for _, test in folds])
    scores = {"self-KD": np.zeros(Y.shape), "random init": np.zeros(Y.shape)}
    epoch_seconds, diagnostics = [], []
    for train, test in folds:
        X_train, X_test = X[train], X[test]
        pipeline = embedder(modality, params, seed).fit(X_train)
        history = pipeline[-1].history_
        epoch_seconds.append(np.mean(history[:, "dur"]))
        diagnostics.append((history[-1, "train_loss"], history[-1, "teacher_entropy"],
                            history[-1, "teacher_batch_entropy"]))
        for name, embed in [("self-KD", pipeline), ("random init", random_twin(pipeline, seed))]:
            Z_train, Z_test = embed.transform(X_train), embed.transform(X_test)
            scores[name][test] = probe_scores(Z_train, Y[train], Z_test, C)
    results = {}
    for name, s in scores.items():
        y_true, s = Y[test_index], s[test_index]
        results[name] = dict(
            auroc=macro_auroc(y_true, s),
            auprc=macro_auprc(y_true, s),
            cm=challenge_metric(y_true, at_least_one_label(s), classes=classes),
        )
    return results, float(np.mean(epoch_seconds)), np.mean(diagnostics, axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two folds, tiny encoder, one seed")
    parser.add_argument("--data", default=str(DEV_DATA))
    parser.add_argument("--modality", default="time", choices=["time", "spectrogram"])
    parser.add_argument("--size", default=None, help="encoder preset (default: small; tiny with --quick)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--folds", type=int, default=None, help="run only the first N of the 10 folds")
    parser.add_argument("--set", nargs="*", default=[], metavar="PARAM=VALUE",
                        help="other SelfKDPretrainer parameters, e.g. lr=1e-3 n_local_crops=2")
    parser.add_argument("--C", type=float, default=1.0,
                        help="inverse L2 strength of the probe (much smaller C ranks worse than chance "
                             "on the rare classes: the held-out positive is missing from the training mean)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the machine is shared; more threads fight)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message=".*all-zero lead.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn_ecg.datasets")

    size = args.size or ("tiny" if args.quick else "small")
    epochs = args.epochs or (2 if args.quick else 20)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    n_folds_run = args.folds or (2 if args.quick else 10)
    params = dict(size=size, max_epochs=epochs)
    for item in args.set:
        key, value = item.split("=", 1)
        params[key] = ast.literal_eval(value)

    data = load_physionet(args.data, fs=100, duration=10)
    X, Y = data.X, data.y
    print(f"{len(X)} records, {Y.shape[1]} classes, X {X.shape}; {args.modality} SelfKDPretrainer{params}, "
          f"{n_folds_run} of 10 folds, seeds {seeds}, probe C={args.C}, torch threads {args.threads}")

    rows, start = [], time.perf_counter()
    for seed in seeds:
        results, epoch_s, (loss, entropy, batch_entropy) = run(
            X, Y, data.classes, args.modality, params, n_folds_run, seed, args.C
        )
        for name, r in results.items():
            rows.append((seed, name, r))
        print(f"seed {seed}: {epoch_s:.2f} s/epoch; last epoch: loss {loss:.3f}, teacher entropy "
              f"{entropy:.2f}, batch entropy {batch_entropy:.2f} (log K = "
              f"{np.log(SelfKDPretrainer(**params).n_prototypes):.2f})", flush=True)

    print()
    print("| system | seed | AUROC | AUPRC | ChM (0.5, >= 1 label) |")
    print("|---|---|---|---|---|")
    for seed, name, r in rows:
        print(f"| {name} | {seed} | {r['auroc']:.3f} | {r['auprc']:.3f} | {r['cm']:.3f} |")
    for name in ["self-KD", "random init"]:
        values = np.array([[r["auroc"], r["auprc"], r["cm"]] for _, n, r in rows if n == name])
        mean, spread = values.mean(axis=0), values.std(axis=0)
        print(f"| {name} | mean +- sd | {mean[0]:.3f} +- {spread[0]:.3f} | {mean[1]:.3f} +- {spread[1]:.3f} "
              f"| {mean[2]:.3f} +- {spread[2]:.3f} |")
    print("\nreference (ANCHORS.md, same folds): MiniRocket + ridge AUROC 0.683, AUPRC 0.216, ChM 0.325")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
