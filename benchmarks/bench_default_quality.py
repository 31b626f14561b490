"""Default quality: the pipeline a user fits with no options, against the tuned MiniRocket anchor.

ANCHORS.md's protocol: the 247 ``physionet2020-dev`` records (100 Hz,
first 10 s, 24 merged scored classes of 2020), ``KFold(10, shuffle=True,
random_state=0)``, predictions pooled over the folds, every system on the
same folds in this one run, each seed its own row and a mean +- sd row.

Systems, per seed:

- ``default``: ``make_default_pipeline(classes=..., random_state=seed)``;
  ``--set`` passes other ``make_default_pipeline`` options, and nested
  parameters of the pipeline it builds (names with ``__``, e.g.
  ``classifier__estimator__fusion__pos_weight='balanced'``), to measure
  candidates.
- its members, when the default is a blend: each member's probabilities
  from the same fitted inner models, with thresholds tuned on that
  member's own inner out-of-fold probabilities;
- ``default, time encoder pretrained on the pool``, with ``--pool SEED
  ...``: the same with, as its ``pretrained`` encoders,
  ``pretrain_encoders(pool, method=..., random_state=seed)`` on the
  unlabelled pool ``ptbxl-dev`` + ``ludb-dev`` (585 records, never the
  evaluated ones); its spectrogram branch starts from random weights;
- ``previous default``: ``make_default_pipeline(pretrained=None,
  pretraining="fit", ensemble=None, blend=None)`` (self-KD inside fit, one model, thresholds on
  its 10 % validation split), with ``--previous``;
- ``MiniRocket + ridge``: the anchor (``_anchor.py``), MiniRocket seeded
  with the seed, thresholds tuned on inner 5-fold out-of-fold scores.

Every metric of METHODS.md section 3 and each system's fit time (summed
over the folds; the pool pretraining apart); then, per system, the pooled
macro AUROC beside the same with the scores ranked within each test fold
and over the classes with 4 or more positives (``_anchor.ranking_figures``):
what the models rank, apart from how their scales differ between folds.
``--n-jobs`` runs the pool pretrainings, then the (system, seed, fold) fits,
in that many processes of one torch thread each.

Usage::

    python benchmarks/bench_default_quality.py --quick               # smoke run: 2 folds, few epochs
    python benchmarks/bench_default_quality.py --seeds 0 1 2 --pool 0 1 2 --previous --n-jobs 2
"""

import argparse
import ast
import time
import warnings

import numpy as np
import torch
from _anchor import (
    HEADER,
    RANKING_HEADER,
    TUNED,
    mean_sd_rows,
    ranking_figures,
    run_anchor,
    score_cells,
    tested_records,
)
from _dev_data import load_data
from joblib import Parallel, delayed
from sklearn.model_selection import KFold

from sklearn_ecg.classes import code_names
from sklearn_ecg.metrics import cinc_report, per_class_report
from sklearn_ecg.model_selection import MultilabelStratifiedKFold, apply_thresholds, tune_thresholds
from sklearn_ecg.pipelines import make_default_pipeline, pretrain_encoders

DEFAULT, PREVIOUS, ANCHOR = "default", "previous default (one model, validation split)", "MiniRocket + ridge"
POOL = "default, time encoder pretrained on the pool"


def pretrain_pool(pool, seed, args):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    encoders = pretrain_encoders(pool, method=args.method, epochs=args.pool_epochs, random_state=seed)
    return encoders, time.perf_counter() - start


def fit_fold(system, X, Y, classes, train, test, seed, encoders, args):
    """``{row: (oof, test_proba, test_labels)}`` of one system on one fold, and its fit seconds."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    if system == DEFAULT:
        model = make_default_pipeline(classes=classes, random_state=seed, **args.set)
    elif system == POOL:
        model = make_default_pipeline(classes=classes, pretrained=encoders, random_state=seed, **args.set)
    else:
        model = make_default_pipeline(classes=classes, pretrained=None, pretraining="fit", ensemble=None, blend=None,
                                      random_state=seed, **args.previous_set)
    if system != PREVIOUS:
        model.set_params(**args.nested_set)
    start = time.perf_counter()
    model.fit(X[train], Y[train])
    fit_s = time.perf_counter() - start
    rows = {system: (None, model.predict_proba(X[test]), model.predict(X[test]))}
    if system in (DEFAULT, POOL):
        rows.update({f"{system}: {name}": value
                     for name, value in member_rows(model, X[train], Y[train], X[test]).items()})
    return rows, fit_s


def member_rows(model, X_train, Y_train, X_test):
    """Each blend member's inner out-of-fold and test probabilities, from the fitted default."""
    tuner = model[-1]
    if not hasattr(tuner, "estimators_") or not hasattr(tuner.estimators_[0], "named_estimators_"):
        return {}
    X_train, X_test = model[:-1].transform(X_train), model[:-1].transform(X_test)
    # The tuner's inner folds, drawn again from its seed.
    cv = MultilabelStratifiedKFold(tuner.cv, shuffle=True, random_state=tuner.random_state)
    splits = list(cv.split(X_train, Y_train))
    rows = {}
    for name in tuner.estimators_[0].named_estimators_:
        members = [inner.named_estimators_[name] for inner in tuner.estimators_]
        oof = np.zeros(Y_train.shape)
        for (_, inner_test), member in zip(splits, members):
            oof[inner_test] = member.predict_proba(X_train[inner_test])
        test = np.mean([member.predict_proba(X_test) for member in members], axis=0)
        rows[f"{name} member"] = (oof, test, None)
    return rows


def save_probabilities(path, tasks, results, folds, anchor_folds):
    """Every row's per-fold probabilities, for analyses after the run (keys ``row|seed|fold|kind``)."""
    arrays = {f"{ANCHOR}|{seed}|{k}|{kind}": value for seed, per_fold in anchor_folds.items()
              for k, pair in enumerate(per_fold) for kind, value in zip(("oof", "test"), pair)}
    for (_, seed, _, k), (rows, _) in zip(tasks, results):
        arrays[f"folds|{k}|train"], arrays[f"folds|{k}|test"] = folds[k]
        for row, values in rows.items():
            for kind, value in zip(("oof", "test", "labels"), values):
                if value is not None:
                    arrays[f"{row}|{seed}|{k}|{kind}"] = value
    np.savez_compressed(path, **arrays)


def pooled_predictions(fold_rows, folds, Y, classes):
    """``{row: (scores, labels)}`` pooled over the folds; a row without labels gets thresholds tuned on its oof."""
    scores, labels = {}, {}
    for (train, test), rows in zip(folds, fold_rows):
        for row, (oof, proba, predicted) in rows.items():
            scores.setdefault(row, np.zeros(Y.shape))[test] = proba
            if predicted is None:
                thresholds, _ = tune_thresholds(Y[train], oof, classes=classes)
                predicted = apply_thresholds(proba, thresholds)
            labels.setdefault(row, np.zeros(Y.shape, dtype=int))[test] = predicted
    tested = tested_records(folds)
    return {row: (scores[row][tested], labels[row][tested]) for row in scores}


def print_per_class(pooled, Y, classes):
    """AUROC, AUPRC and F1 of every class (mean over seeds) of the default's pooled predictions."""
    reports = [per_class_report(Y, scores, labels) for scores, labels in pooled]
    names = code_names()
    warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of a class without positives: NaN, as printed
    print("\nper class, default (mean over seeds of the pooled predictions):\n")
    print("| class | code | positives | AUROC | AUPRC | F1 |")
    print("|---|---|---:|---:|---:|---:|")
    for j in np.argsort(-Y.sum(axis=0)):
        cells = " | ".join(f"{np.nanmean([r[key][j] for r in reports]):.3f}" for key in ("auroc", "auprc", "f1"))
        print(f"| {names.get(classes[j], classes[j])} | {classes[j]} | {int(Y[:, j].sum())} | {cells} |")


def print_ranking(fold_scores, folds, Y):
    """Each row's pooled macro AUROC beside the same ranked within the folds and over the frequent classes."""
    figures = {}
    for (row, _), scores in fold_scores.items():
        figures.setdefault(row, []).append(ranking_figures(Y, folds, scores))
    print("\nranking (mean +- sd over seeds; see _anchor.ranking_figures):\n")
    print("| system | " + " | ".join(RANKING_HEADER) + " |")
    print("|---|" + "---|" * len(RANKING_HEADER))
    for row, values in figures.items():
        cells = " | ".join(f"{mean:.3f} +- {sd:.3f}" for mean, sd in zip(np.mean(values, 0), np.std(values, 0)))
        print(f"| {row} | {cells} |")


def print_table(rows):
    print("| system | thresholds | seed | " + " | ".join(HEADER) + " | fit s |")
    print("|---|---|---|" + "---|" * len(HEADER) + "---|")
    for (system, thresholds, seed), (report, fit_s) in rows.items():
        print(f"| {system} | {thresholds} | {seed} | {score_cells(report)} | {fit_s:.0f} |")
    for line in mean_sd_rows({key: report for key, (report, _) in rows.items()}, trailing_cells=1):
        print(line)


def parse_settings(items):
    return {key: ast.literal_eval(value) for key, value in (item.split("=", 1) for item in items)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two folds, few epochs")
    parser.add_argument("--data-npz", default=None, help="the dev data as one npz (see _dev_data.py)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--method", default="contrastive", help="pool pretraining method")
    parser.add_argument("--pool-epochs", type=int, default=None, help="None: the method's default")
    parser.add_argument("--set", nargs="*", default=[], metavar="PARAM=VALUE",
                        help="make_default_pipeline options of the default row, e.g. finetune_epochs=80, or nested "
                             "parameters of its pipeline (names with __)")
    parser.add_argument("--previous", action="store_true", help="also the previous default")
    parser.add_argument("--pool", type=int, nargs="*", default=[], metavar="SEED",
                        help="also the default whose time encoder starts from pool-pretrained encoders (same --set "
                             "options), for these seeds")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("--n-jobs", type=int, default=1, help="processes of one torch thread each")
    parser.add_argument("--output", default=None, metavar="NPZ",
                        help="also write every fold's probabilities (row|seed|fold|oof, test, labels) there")
    args = parser.parse_args()
    settings = parse_settings(args.set)
    # make_default_pipeline's options, and nested parameters of the pipeline it builds
    args.set = {key: value for key, value in settings.items() if "__" not in key}
    args.nested_set = {key: value for key, value in settings.items() if "__" in key}
    args.previous_set = {}
    if args.quick:
        args.pool_epochs = 1
        args.set.setdefault("finetune_epochs", 1)
        args.previous_set = {"pretrain_epochs": 1, "finetune_epochs": 1}
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    data = load_data(args.data_npz)
    X, Y, classes = data["physionet_X"], data["physionet_y"], data["physionet_classes"]
    pool = np.concatenate([data["ptbxl_X"], data["ludb_X"]])
    folds = list(KFold(10, shuffle=True, random_state=0).split(X))[:2 if args.quick else 10]
    print(f"{len(X)} records, {Y.shape[1]} classes; pool {len(pool)} records; {len(folds)} folds; "
          f"seeds {args.seeds}; default options {args.set}, {args.nested_set}", flush=True)

    pretrained = dict(zip(args.pool, Parallel(n_jobs=args.n_jobs)(
        delayed(pretrain_pool)(pool, seed, args) for seed in args.pool)))
    for seed, (_, seconds) in pretrained.items():
        print(f"seed {seed}: pool pretraining {seconds:.0f} s", flush=True)
    seeds = {DEFAULT: args.seeds, POOL: args.pool, PREVIOUS: args.seeds if args.previous else []}
    systems = [system for system in seeds if seeds[system]]
    tasks = [(system, seed, pretrained.get(seed, (None,))[0], k) for system in systems for seed in seeds[system]
             for k in range(len(folds))]
    results = Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(fit_fold)(system, X, Y, classes, *folds[k], seed, encoders, args)
        for system, seed, encoders, k in tasks
    )
    rows, fold_scores, anchor_folds = {}, {}, {}
    if not args.no_anchor:
        for seed in args.seeds:
            anchor = run_anchor(X, Y, classes, folds, fold_proba=anchor_folds.setdefault(seed, []), random_state=seed)
            if anchor:
                rows[(ANCHOR, TUNED, seed)] = anchor[TUNED]
                fold_scores[(ANCHOR, seed)] = [test for _, test in anchor_folds[seed]]
    if args.output:
        save_probabilities(args.output, tasks, results, folds, anchor_folds)
    tested, default_pooled = tested_records(folds), []
    for system in systems:
        for seed in seeds[system]:
            mine = [(result, fit_s) for (s, sd, _, _), (result, fit_s) in zip(tasks, results)
                    if s == system and sd == seed]
            for row in mine[0][0]:
                fold_scores[(row, seed)] = [result[row][1] for result, _ in mine]
            pooled = pooled_predictions([result for result, _ in mine], folds, Y, classes)
            fit_s = sum(seconds for _, seconds in mine)
            for row, (scores, labels) in pooled.items():
                thresholds = "tuned on its inner OOF" if row != system else "the system's own"
                rows[(row, thresholds, seed)] = (cinc_report(Y[tested], scores, labels, classes=classes), fit_s)
            if system == DEFAULT:
                default_pooled.append(pooled[DEFAULT])
    print()
    print_table(rows)
    print_ranking(fold_scores, folds, Y)
    print_per_class(default_pooled, Y[tested], classes)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
