"""How to combine the default's members: blend rules on the probabilities saved by bench_default_quality.py.

``bench_default_quality.py --output PATH`` keeps, for every seed and fold,
each blend member's inner out-of-fold probabilities (of the training fold)
and test probabilities (the mean of its five inner models). Each rule here
combines them; its per-class thresholds are tuned on its own combination
of the inner out-of-fold probabilities, as ``MultilabelThresholdTuner``
tunes the default's, and applied to its combination of the test
probabilities. Nothing is refitted, and no rule sees a test label.

Columns: the challenge metric and macro AUROC of the predictions pooled
over the folds (ANCHORS.md's protocol), mean +- sd over the saved seeds,
and ``AUROC within folds``: the same scores ranked within each test fold
before pooling, which removes what differs between the ten folds' scales
and keeps only each fold's order of its records.

Rules: the weighted mean of the probabilities (fusion weight ``w``, the
default's is 0.5); ``w`` chosen per fold by the challenge metric on the
inner out-of-fold blend; the mean of logits; the mean of per-class
quantiles (each member's score mapped to its rank among its inner
out-of-fold scores of the class); each member's logits divided by a
temperature fitted on its inner out-of-fold probabilities (cross-entropy,
all classes at once; with ``+ class bias`` also a bias per class), then
the mean of probabilities or of logits.

``AUROC, classes with >= 4 positives`` is the pooled macro AUROC of the
classes with at least 4 positive records among the 247: below that, the
fold that tests a class's positive trains on two others at most, and its
pooled AUROC also measures how that fold's model scores a class it barely
saw, or never (``_anchor.ranking_figures``).

Usage::

    python benchmarks/bench_default_quality.py --seeds 0 1 2 --n-jobs 2 --output probabilities.npz
    python benchmarks/bench_blend_rules.py probabilities.npz
"""

import argparse

import numpy as np
from _anchor import RANKING_HEADER, ranking_figures
from _dev_data import load_data
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit

from sklearn_ecg.metrics import cinc_report
from sklearn_ecg.model_selection import apply_thresholds, tune_thresholds

FUSION, MINIROCKET = "default: fusion member", "default: minirocket member"
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def quantiles(reference, scores):
    """Each score's rank among the ``reference`` scores of its class, in (0, 1)."""
    out = np.empty_like(scores)
    for k in range(scores.shape[1]):
        out[:, k] = np.searchsorted(np.sort(reference[:, k]), scores[:, k], side="right") / (len(reference) + 1)
    return out


def _logit(p):
    return logit(np.clip(p, 1e-6, 1 - 1e-6))


def temperature(oof, Y_train, class_bias=False):
    """``scores -> a * logit(scores) (+ b per class)``, fitted by cross-entropy on the out-of-fold probabilities."""
    z = _logit(oof)

    def scaled(w, logits):
        return w[0] * logits + (w[1:] if class_bias else 0.0)

    def loss(w):
        s = scaled(w, z)
        return -(Y_train * log_expit(s) + (1 - Y_train) * log_expit(-s)).mean()

    start = np.r_[1.0, np.zeros(oof.shape[1] if class_bias else 0)]
    w = minimize(loss, start, method="L-BFGS-B", bounds=[(1e-3, None)] + [(None, None)] * (len(start) - 1)).x
    return lambda scores: scaled(w, _logit(scores))


def calibrated(space, class_bias=False):
    """Each member's temperature-scaled logits, then the mean of probabilities or of logits."""
    def combine(f, m, fo, mo, Y_train):
        maps = [temperature(oof, Y_train, class_bias) for oof in (fo, mo)]
        test, oof = [g(x) for g, x in zip(maps, (f, m))], [g(x) for g, x in zip(maps, (fo, mo))]
        if space == "logits":
            return expit(np.mean(test, axis=0)), expit(np.mean(oof, axis=0))
        return np.mean(expit(test), axis=0), np.mean(expit(oof), axis=0)
    return combine


def rules():
    """``{name: rule(fusion, minirocket, fusion_oof, minirocket_oof) -> scores}``."""
    found = {f"mean, fusion weight {w}": (lambda f, m, fo, mo, w=w: w * f + (1 - w) * m) for w in WEIGHTS}
    found["mean of logits, weight 0.5"] = lambda f, m, fo, mo: expit(0.5 * _logit(f) + 0.5 * _logit(m))
    found["mean of per-class quantiles"] = lambda f, m, fo, mo: 0.5 * quantiles(fo, f) + 0.5 * quantiles(mo, m)
    return found


def fold_arrays(stored, seed, fold):
    return [stored[f"{member}|{seed}|{fold}|{kind}"] for kind in ("test", "oof") for member in (FUSION, MINIROCKET)]


def nested_weight(f, m, fo, mo, Y_train, classes):
    """The weighted mean whose tuned thresholds score best on the inner out-of-fold blend."""
    best = max(WEIGHTS, key=lambda w: tune_thresholds(Y_train, w * fo + (1 - w) * mo, classes=classes)[1])
    return best * f + (1 - best) * m, best * fo + (1 - best) * mo


def evaluate(combine, stored, folds, seed, Y, classes):
    """Pooled challenge metric and the ranking figures of one rule and seed."""
    scores, labels, fold_scores = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int), []
    for fold, (train, test) in enumerate(folds):
        f, m, fo, mo = fold_arrays(stored, seed, fold)
        test_scores, oof = combine(f, m, fo, mo, Y[train])
        thresholds, _ = tune_thresholds(Y[train], oof, classes=classes)
        scores[test], labels[test] = test_scores, apply_thresholds(test_scores, thresholds)
        fold_scores.append(test_scores)
    return (cinc_report(Y, scores, labels, classes=classes)["challenge"], *ranking_figures(Y, folds, fold_scores))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probabilities", help="the npz written by bench_default_quality.py --output")
    parser.add_argument("--data-npz", default=None, help="the dev data as one npz (see _dev_data.py)")
    args = parser.parse_args()
    data = load_data(args.data_npz)
    Y, classes = data["physionet_y"], data["physionet_classes"]
    stored = np.load(args.probabilities)
    n_folds = len({key.split("|")[1] for key in stored.files if key.startswith("folds|")})
    folds = [(stored[f"folds|{k}|train"], stored[f"folds|{k}|test"]) for k in range(n_folds)]
    if sorted(np.concatenate([test for _, test in folds]).tolist()) != list(range(len(Y))):
        raise SystemExit("the saved folds do not cover the dev records once each: was --quick used?")
    seeds = sorted({int(key.split("|")[1]) for key in stored.files if key.startswith(f"{FUSION}|")})

    combiners = {name: (lambda f, m, fo, mo, Y_train, rule=rule: (rule(f, m, fo, mo), rule(fo, mo, fo, mo)))
                 for name, rule in rules().items()}
    combiners["weight chosen per fold on inner OOF"] = lambda f, m, fo, mo, Y_train: nested_weight(
        f, m, fo, mo, Y_train, classes)
    combiners["temperature per member, mean of probabilities"] = calibrated("probabilities")
    combiners["temperature per member, mean of logits"] = calibrated("logits")
    combiners["temperature + class bias per member, mean of probabilities"] = calibrated("probabilities", True)
    print(f"{len(Y)} records, {n_folds} folds, seeds {seeds}; mean +- sd over seeds\n")
    print("| rule | ChM | " + " | ".join(RANKING_HEADER) + " |")
    print("|---|---|" + "---|" * len(RANKING_HEADER))
    for name, combine in combiners.items():
        values = np.array([evaluate(combine, stored, folds, seed, Y, classes) for seed in seeds])
        cells = " | ".join(f"{mean:.3f} +- {sd:.3f}" for mean, sd in zip(values.mean(axis=0), values.std(axis=0)))
        print(f"| {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
