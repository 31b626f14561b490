"""The MiniRocket + ridge anchor of ANCHORS.md, and the score columns of the tables comparing with it.

aeon's MiniRocket (random_state=0), then StandardScaler and
RidgeCV(alphas=logspace(-1, 4, 12)) on targets +-1; scores
sigmoid(3 x decision). Two threshold rules: decision > 0, or per-class
thresholds tuned on inner 5-fold out-of-fold scores of the training fold
(grid 0.05-0.95, two passes of coordinate ascent on the challenge metric:
MultilabelThresholdTuner). MiniRocket is fitted once per outer fold on its
training records (it uses no labels), and only the ridge is refitted in the
inner folds.

aeon is not a dependency of sklearn-ecg (its pins clash with the
project's); install it beside the environment, e.g. ``pip install
--target /tmp/aeon_target aeon`` and run with ``PYTHONPATH=/tmp/aeon_target``.
Without it :func:`run_anchor` prints a note and returns no rows.

:func:`ranking_figures` splits a pooled macro AUROC into what the folds'
models rank and what differs between their scales.
"""

import time

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg.metrics import cinc_report, macro_auroc
from sklearn_ecg.model_selection import MultilabelThresholdTuner, apply_thresholds

PLAIN, TUNED = "decision > 0", "tuned on inner 5-fold OOF"
# The metrics of METHODS.md section 3, as cinc_report names them and as table headers.
METRICS = ("challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2")
HEADER = ("ChM", "AUROC", "AUPRC", "Acc", "F1", "F2", "G2")
# With fewer positive records than this among the 247, the fold that tests a
# class's positive trains on at most two others (on none, for one positive).
FREQUENT_CLASS_POSITIVES = 4
RANKING_HEADER = ("AUROC", "AUROC within folds", f"AUROC, classes with >= {FREQUENT_CLASS_POSITIVES} positives")


def score_cells(report):
    """The METRICS of one cinc_report as table cells."""
    return " | ".join(f"{report[m]:.3f}" for m in METRICS)


def mean_sd_cells(reports):
    """Mean +- standard deviation of the METRICS over several cinc_reports (seeds)."""
    values = np.array([[report[m] for m in METRICS] for report in reports])
    return " | ".join(f"{m:.3f} +- {s:.3f}" for m, s in zip(values.mean(axis=0), values.std(axis=0)))


def mean_sd_rows(reports, trailing_cells=0):
    """Table rows of mean +- sd over seeds, for each system run with more than one seed.

    ``reports`` maps ``(system, thresholds, seed)`` to a cinc_report;
    ``trailing_cells`` empty cells close each row (the table's other columns).
    """
    per_system = {}
    for (system, thresholds, _), report in reports.items():
        per_system.setdefault((system, thresholds), []).append(report)
    return [
        f"| {system} | {thresholds} | mean +- sd | {mean_sd_cells(runs)} |" + " |" * trailing_cells
        for (system, thresholds), runs in per_system.items()
        if len(runs) > 1
    ]


class RidgeScores(ClassifierMixin, BaseEstimator):
    """The anchor's classifier on MiniRocket features: one ridge for all classes.

    StandardScaler + RidgeCV on targets +-1; ``predict_proba`` is
    sigmoid(3 x decision), so that 0.5 is decision 0.
    """

    def fit(self, X, Y):
        self.model_ = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-1, 4, 12)))
        self.model_.fit(X, 2.0 * Y - 1.0)
        self.classes_ = np.arange(Y.shape[1])
        return self

    def predict_proba(self, X):
        return expit(3.0 * self.model_.predict(X))

    def predict(self, X):
        return apply_thresholds(self.predict_proba(X), 0.5)


def tested_records(folds):
    """The records scored: those of the test folds run."""
    return np.sort(np.concatenate([test for _, test in folds]))


def ranking_figures(Y, folds, fold_scores):
    """Pooled macro AUROC; the same of the scores ranked within each test fold; pooled over the frequent classes.

    Ranking within the folds keeps each fold model's order of its records
    and removes what differs between the models' scales. The frequent
    classes have ``FREQUENT_CLASS_POSITIVES`` or more positives in ``Y``;
    for the others, the fold that tests a positive trains on two others at
    most, and a pooled AUROC also measures how that fold's model scores a
    class it barely saw, or never.
    """
    scores, ranked = np.zeros(Y.shape), np.zeros(Y.shape)
    for (_, test), fold in zip(folds, fold_scores):
        scores[test] = fold
        ranked[test] = (np.argsort(np.argsort(fold, axis=0), axis=0) + 0.5) / len(test)
    tested = tested_records(folds)
    Y, scores, ranked = Y[tested], scores[tested], ranked[tested]
    frequent = Y.sum(axis=0) >= FREQUENT_CLASS_POSITIVES
    return macro_auroc(Y, scores), macro_auroc(Y, ranked), macro_auroc(Y[:, frequent], scores[:, frequent])


def run_anchor(X, Y, classes, folds, inference=None, fold_proba=None, random_state=0):
    """Cross-validate the anchor with both threshold rules on the same folds.

    Parameters
    ----------
    X : ndarray of shape (n_records, n_leads, n_times)
    Y : ndarray of shape (n_records, n_classes)
    classes : sequence of str
        SNOMED-CT codes of Y's columns.
    folds : list of (train, test) index arrays
    inference : dict or None
        If a dict, filled per row with ``(seconds, model)``: the time to
        label the test records from their signals (MiniRocket transform and
        prediction), summed over the folds, and the model fitted on the
        last fold, a Pipeline from signals to labels.
    fold_proba : list or None
        If a list, gets per fold ``(oof_proba, test_proba)``: the tuned
        anchor's out-of-fold probabilities of the training records and its
        probabilities of the test records, for blends with other systems.
    random_state : int, default=0
        Seed of MiniRocket (ANCHORS.md: 0) and of the inner folds.

    Returns
    -------
    rows : dict
        ``{PLAIN: (report, fit_s), TUNED: (report, fit_s)}`` with the
        cinc_report of the pooled test predictions and the fit seconds
        summed over the folds (MiniRocket's counted in both); empty when
        aeon is missing.
    """
    try:
        from aeon.transformations.collection.convolution_based import MiniRocket
    except ImportError:
        print("aeon is not installed: the MiniRocket anchor rows are skipped.")
        return {}
    proba, plain, tuned = np.zeros(Y.shape), np.zeros(Y.shape, dtype=int), np.zeros(Y.shape, dtype=int)
    rocket_s, ridge_s, tune_s = 0.0, 0.0, 0.0
    predict_s = {PLAIN: 0.0, TUNED: 0.0}
    for train, test in folds:
        start = time.perf_counter()
        rocket = MiniRocket(random_state=random_state).fit(X[train])
        F_train = rocket.transform(X[train])
        rocket_s += time.perf_counter() - start
        start = time.perf_counter()
        ridge = RidgeScores().fit(F_train, Y[train])
        ridge_s += time.perf_counter() - start
        start = time.perf_counter()
        tuner = MultilabelThresholdTuner(RidgeScores(), cv=5, classes=classes, random_state=random_state)
        tuner.fit(F_train, Y[train])
        tune_s += time.perf_counter() - start
        models = {PLAIN: _pipeline(rocket, ridge), TUNED: _pipeline(rocket, tuner)}
        for key, labels in ((PLAIN, plain), (TUNED, tuned)):
            start = time.perf_counter()
            labels[test] = models[key].predict(X[test])
            predict_s[key] += time.perf_counter() - start
        proba[test] = models[PLAIN].predict_proba(X[test])
        if fold_proba is not None:
            fold_proba.append((tuner.oof_proba_, proba[test]))
    if inference is not None:
        inference.update({key: (predict_s[key], models[key]) for key in models})
    t = tested_records(folds)
    return {
        PLAIN: (cinc_report(Y[t], proba[t], plain[t], classes=classes), rocket_s + ridge_s),
        TUNED: (cinc_report(Y[t], proba[t], tuned[t], classes=classes), rocket_s + tune_s),
    }


def _pipeline(rocket, classifier):
    """Fitted MiniRocket and a fitted classifier as one signals-to-labels model."""
    return Pipeline([("minirocket", rocket), ("classifier", classifier)])
