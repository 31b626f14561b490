"""Gated fusion of self-KD pretrained encoders against the MiniRocket anchor.

On the 247 development records (100 Hz, first 10 s, 24 merged scored
classes of 2020), 10-fold ``KFold(10, shuffle=True, random_state=0)`` with
predictions pooled over the folds: the protocol and folds of ANCHORS.md.
Every system sees the same folds in one run:

- ``fusion``: ``LeadStandardizer`` then
  :class:`~sklearn_ecg.fusion.GatedFusionClassifier` with a time-series
  branch (XResNet1d) and a spectrogram branch (STFT, spectrogram
  standardisation, SE-ResNet), both pretrained by self-KD inside each fold
  on its training records only, then fine-tuned end to end with the gate
  (random 2.5 s crops, lead masking, record = mean of 50 %-overlap window
  probabilities), as a cross-fitted ensemble
  (``MultilabelThresholdTuner(cv=5, ensemble=True)``, what
  ``make_default_pipeline(ensemble=5)`` builds): five models, each
  pretrained and fine-tuned on four fifths of the training fold for all
  its epochs (no validation split, no early stopping), whose out-of-fold
  probabilities tune the thresholds and whose mean probability scores the
  test fold. Thresholds: 0.5, or those tuned. Default settings: tiny
  encoders, 5 pretraining epochs with 2 local crops, 50 fine-tuning epochs
  (lr 3e-3, cosine decay). About 2.5 minutes per outer fold on one CPU
  core (25 minutes per seed). ``--ensemble 0``: one model with early
  stopping (patience 10) on a 20 % validation split that also tunes its
  thresholds, up to 40 epochs. Torch slows down many times over when
  other processes share the cores: give each process its own core
  (``--threads 1``, ``OMP_NUM_THREADS=1``); ``--n-jobs 2`` runs two seeds
  at a time in separate processes, one core each.
- ``MiniRocket + ridge``: the anchor of ANCHORS.md (aeon's MiniRocket with
  random_state=0, StandardScaler, RidgeCV(alphas=logspace(-1, 4, 12)) on
  targets +-1; scores sigmoid(3 x decision)). Thresholds: decision > 0, or
  per-class thresholds tuned on inner 5-fold out-of-fold scores of the
  training fold (grid 0.05-0.95, two passes of coordinate ascent on the
  challenge metric: MultilabelThresholdTuner). MiniRocket is fitted once
  per outer fold on its training records (it uses no labels), and only the
  ridge is refitted in the inner folds.

``--shrinkage 0.5`` (the default; 0 turns it off) adds, for each system
tuned on inner out-of-fold probabilities (the anchor, the ensemble, the
blend), a row whose thresholds come from the same probabilities shrunk
halfway toward the best threshold common to all classes
(``tune_thresholds(shrinkage=0.5)``), on the logit scale.

``fusion + MiniRocket`` (with the ensemble, when the anchor runs): the
mean of the two systems' probabilities, ANCHORS.md's cheap blend, with
thresholds tuned on the mean of their inner out-of-fold probabilities: the
blend of ``MultilabelThresholdTuner(MultilabelVotingClassifier([...]))``,
computed from the two systems' fitted models instead of training the fused
model twice (so the two systems' inner folds differ for seeds other than 0).

Every prediction gives each record at least one label (its most probable
class). Fit times are summed over the folds (MiniRocket's counted in both
anchor rows). Needs ``aeon`` for the anchor; without it the anchor rows
are skipped.

Usage::

    python benchmarks/bench_fusion.py            # full run
    python benchmarks/bench_fusion.py --quick    # smoke run: two folds, few epochs
"""

import argparse
import ast
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _anchor import HEADER, mean_sd_rows, run_anchor, score_cells, tested_records
from _anchor import TUNED as ANCHOR_TUNED
from joblib import Parallel, delayed
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from sklearn_ecg.datasets import load_physionet
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.metrics import cinc_report
from sklearn_ecg.model_selection import MultilabelThresholdTuner, apply_thresholds, tune_thresholds
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet2020-dev"
TUNED = {False: "tuned on validation split", True: "tuned on inner {}-fold OOF, ensemble"}
ANCHOR = "MiniRocket + ridge"
BLEND = "fusion + MiniRocket", "mean probability, tuned on both inner OOF"


def fusion_model(args, seed, classes):
    pretrain = dict(size=args.size, max_epochs=args.pretrain_epochs, n_local_crops=args.local_crops,
                    batch_size=64)
    branches = [
        ("time", SelfKDPretrainer(modality="time", **pretrain)),
        ("spectrogram", make_pipeline(STFTSpectrogram(), LeadStandardizer(common_scale=True),
                                      SelfKDPretrainer(modality="spectrogram", **pretrain))),
    ]
    params = dict(branches=branches, max_epochs=args.epochs, threshold="tuned", validation_fraction=0.2,
                  random_state=seed, device="cpu", classes=classes)
    if args.ensemble:
        # As make_default_pipeline(ensemble=k): each inner model trains on
        # all its records for all its epochs.
        params.update(threshold=0.5, validation_fraction=None, n_iter_no_change=None)
    params.update(args.set)
    if not args.ensemble:
        return make_pipeline(LeadStandardizer(), GatedFusionClassifier(**params))
    # Thresholds tuned on inner out-of-fold probabilities, as the anchor's,
    # and the inner folds' models averaged (no refit).
    classifier = GatedFusionClassifier(**params)
    tuner = MultilabelThresholdTuner(classifier, cv=args.ensemble, ensemble=True, classes=classes,
                                     random_state=seed)
    return make_pipeline(LeadStandardizer(), tuner)


def run_fusion(args, X, Y, classes, folds, seed, anchor_proba=()):
    """Rows ``{(system, thresholds): (report, fit_s)}`` of the fused model (and its blend) for one seed."""
    # Set here, in the process that trains: a worker of --n-jobs starts afresh.
    torch.set_num_threads(args.threads)
    quiet_loader_warnings()
    proba, tuned = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int)
    fold_proba, fit_s, epochs = [], 0.0, []
    for k, (train, test) in enumerate(folds):
        model = fusion_model(args, seed, classes)
        start = time.perf_counter()
        model.fit(X[train], Y[train])
        fit_s += time.perf_counter() - start
        proba[test] = model.predict_proba(X[test])
        tuned[test] = model.predict(X[test])
        epochs.append(len(getattr(model[-1], "estimator_", model[-1]).history_))
        if args.ensemble:
            fold_proba.append((model[-1].oof_proba_, proba[test]))
        print(f"  fusion seed {seed} fold {k}: {time.perf_counter() - start:.0f} s, "
              f"{epochs[-1]} fine-tuning epochs", flush=True)
    tested = tested_records(folds)

    def row(scores, labels):
        return cinc_report(Y[tested], scores[tested], labels[tested], classes=classes), fit_s

    tuned_name = TUNED[bool(args.ensemble)].format(args.ensemble)
    rows = {("fusion", "0.5"): row(proba, apply_thresholds(proba, 0.5)), ("fusion", tuned_name): row(proba, tuned)}
    if args.ensemble and args.shrinkage:
        rows[("fusion", shrunk(tuned_name, args.shrinkage))] = (
            tuned_report(fold_proba, folds, Y, classes, args.shrinkage), fit_s
        )
    if args.ensemble and anchor_proba:
        blended = [((oof + anchor_oof) / 2, (test + anchor_test) / 2)
                   for (oof, test), (anchor_oof, anchor_test) in zip(fold_proba, anchor_proba)]
        for shrinkage in dict.fromkeys([0.0, args.shrinkage]):
            rows[(BLEND[0], shrunk(BLEND[1], shrinkage))] = (tuned_report(blended, folds, Y, classes, shrinkage), fit_s)
    return rows


def tuned_report(fold_proba, folds, Y, classes, shrinkage):
    """cinc_report of the test folds from per-fold ``(oof, test)`` probabilities, thresholds tuned on the oof."""
    scores, labels = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int)
    for (train, test), (oof, test_proba) in zip(folds, fold_proba):
        thresholds, _ = tune_thresholds(Y[train], oof, shrinkage=shrinkage, classes=classes)
        scores[test], labels[test] = test_proba, apply_thresholds(test_proba, thresholds)
    tested = tested_records(folds)
    return cinc_report(Y[tested], scores[tested], labels[tested], classes=classes)


def shrunk(thresholds, shrinkage):
    """A thresholds label, with the shrinkage when there is one."""
    return f"{thresholds}, shrinkage {shrinkage:g}" if shrinkage else thresholds


def quiet_loader_warnings():
    """The dev records' known quirks, reported once by the loader, not per fold."""
    warnings.filterwarnings("ignore", message=".*all-zero lead.*")
    warnings.filterwarnings("ignore", message=".*were skipped.*")


def print_table(rows):
    print("| system | thresholds | seed | " + " | ".join(HEADER) + " | fit s |")
    print("|---|---|---|" + "---|" * len(HEADER) + "---|")
    for (system, thresholds, seed), (report, fit_s) in rows.items():
        print(f"| {system} | {thresholds} | {seed} | {score_cells(report)} | {fit_s:.0f} |")
    for line in mean_sd_rows({key: report for key, (report, _) in rows.items()}, trailing_cells=1):
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two folds, few epochs")
    parser.add_argument("--data", default=str(DEV_DATA))
    parser.add_argument("--size", default="tiny", help="encoder preset (tiny, small or paper)")
    parser.add_argument("--pretrain-epochs", type=int, default=None)
    parser.add_argument("--local-crops", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (at most)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--folds", type=int, default=None, help="run only the first N of the 10 folds")
    parser.add_argument("--set", nargs="*", default=[], metavar="PARAM=VALUE",
                        help="other GatedFusionClassifier parameters, e.g. lr=3e-3 pos_weight='balanced'")
    parser.add_argument("--ensemble", type=int, default=5, metavar="K",
                        help="wrap the classifier in MultilabelThresholdTuner(cv=K, ensemble=True) "
                             "(default 5); 0: one model, thresholds tuned on its validation split")
    parser.add_argument("--shrinkage", type=float, default=0.5,
                        help="also report the ensembles' thresholds shrunk this far toward a common one "
                             "(tune_thresholds(shrinkage=...)); 0: no such rows")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--n-jobs", type=int, default=1, help="seeds run at a time, in separate processes")
    args = parser.parse_args()
    args.pretrain_epochs = args.pretrain_epochs or (1 if args.quick else 5)
    args.epochs = args.epochs or (2 if args.quick else 50 if args.ensemble else 40)
    args.folds = args.folds or (2 if args.quick else 10)
    args.set = {key: ast.literal_eval(value) for key, value in (item.split("=", 1) for item in args.set)}
    quiet_loader_warnings()

    start = time.perf_counter()
    data = load_physionet(args.data, fs=100, duration=10.0)
    X, Y, classes = data.X, data.y, data.classes
    folds = list(KFold(10, shuffle=True, random_state=0).split(X))[:args.folds]
    print(f"{len(X)} records, {Y.shape[1]} classes, X {X.shape}; {args.folds} of 10 folds; encoders "
          f"{args.size}, {args.pretrain_epochs} pretraining epochs, up to {args.epochs} fine-tuning "
          f"epochs; extra parameters {args.set}", flush=True)

    rows, anchor_proba, anchor_fit_s = {}, [], 0.0
    if not args.no_anchor:
        for thresholds, result in run_anchor(X, Y, classes, folds, fold_proba=anchor_proba).items():
            rows[(ANCHOR, thresholds, 0)] = result
            anchor_fit_s = result[1]  # the tuned row's, which the blend uses
        if anchor_proba and args.shrinkage:
            report = tuned_report(anchor_proba, folds, Y, classes, args.shrinkage)
            rows[(ANCHOR, shrunk(ANCHOR_TUNED, args.shrinkage), 0)] = (report, anchor_fit_s)
    per_seed = Parallel(n_jobs=args.n_jobs)(
        delayed(run_fusion)(args, X, Y, classes, folds, seed, anchor_proba) for seed in args.seeds
    )
    for seed, results in zip(args.seeds, per_seed):
        for (system, thresholds), (report, fit_s) in results.items():
            rows[(system, thresholds, seed)] = (report, fit_s + (anchor_fit_s if system == BLEND[0] else 0.0))
    if args.folds < 10:
        print(f"(scores over the {len(tested_records(folds))} test records of {args.folds} folds only)")
    print()
    print_table(rows)
    print("\nreference (ANCHORS.md, same folds): MiniRocket + ridge ChM 0.325 / AUROC 0.683 (decision > 0), "
          "ChM 0.377 (tuned)")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
