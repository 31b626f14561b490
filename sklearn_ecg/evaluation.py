"""Cross-validation that keeps the out-of-fold outputs, for the challenge report."""

import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .metrics import cinc_report, per_class_report
from .model_selection import MultilabelStratifiedKFold, apply_thresholds

__all__ = ["cross_val_cinc_report"]


def cross_val_cinc_report(
    estimator,
    X,
    y,
    *,
    classes,
    cv=10,
    groups=None,
    year=2020,
    test_transforms=None,
    return_gate_weights=False,
    n_jobs=None,
    verbose=0,
):
    """Cross-validate a multi-label classifier and report the challenge figures.

    Unlike :func:`sklearn.model_selection.cross_validate`, which returns one
    score per fold, this keeps every fold's out-of-fold probabilities and
    predictions, so that the figures can also be computed on all records at
    once (pooled), as the challenge papers report them, and per class.

    Parameters
    ----------
    estimator : estimator
        Multi-label classifier with ``predict_proba`` and ``predict``
        returning ``(n_records, n_classes)`` arrays. The classifiers of
        sklearn-ecg (alone or as the last step of a pipeline) expose their
        decision rule (``thresholds_`` and ``at_least_one``, see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`): their
        predictions are taken from the probabilities, so that each set of
        test records goes through the model once. Other estimators are asked
        for ``predict`` as well.
    X : array-like of shape (n_records, ...)
        Signals.
    y : array-like of shape (n_records, n_classes)
        Multi-hot labels.
    classes : sequence of str
        SNOMED-CT code of each column of ``y`` (any names with ``year=None``).
    cv : int or cross-validation generator, default=10
        An int means :class:`~sklearn_ecg.model_selection.MultilabelStratifiedKFold`
        with that many folds and ``random_state=0``.
    groups : array-like of shape (n_records,), default=None
        Passed to the splitter.
    year : {2020, 2021} or None, default=2020
        Weights of the challenge metric. None: the classes are not
        challenge classes (PTB-XL's, say), and the figures leave the
        challenge metric out (see :func:`~sklearn_ecg.metrics.cinc_report`).
    test_transforms : dict of str to transformer, default=None
        Other versions of the test records to score with each fold's fitted
        estimator, by name, e.g. reduced lead sets
        ``{"6": LeadMasker(leads=6), ...}``. Each transformer is cloned,
        fitted on the fold's training records, and transforms its test
        records; the estimator is fitted once per fold whatever their
        number.
    return_gate_weights : bool, default=False
        Also return the out-of-fold gate weights: those of the estimator's
        ``gate_weights`` method, or, for a pipeline, of its final step's on
        the test records transformed by the steps before it (see
        :meth:`~sklearn_ecg.fusion.GatedFusionClassifier.gate_weights`).
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).
    verbose : int, default=0
        Progress bar over folds when positive.

    Returns
    -------
    result : Bunch
        ``folds``: list of dicts, each fold's figures (seven, six with
        ``year=None``) plus ``fit_time`` and ``score_time``; ``pooled``: the
        figures on all out-of-fold
        outputs; ``per_class``: dict of arrays (``auroc``, ``auprc``, ``f1``,
        ``n_positive``); ``y_true``, ``y_score``, ``y_pred``: out-of-fold
        arrays; ``fold_of``: test fold of each record; ``classes``.
        With ``test_transforms``, ``test_transforms``: dict of name to a
        Bunch of ``folds`` (figures and ``score_time``), ``pooled``,
        ``per_class``, ``y_score`` and ``y_pred`` of the transformed test
        records. With ``return_gate_weights``, ``gate_weights``: array of
        shape (n_records, n_modalities) and ``modality_names``, both None
        when the estimator has no gate (e.g. ``fusion="concat"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_ecg.datasets import make_synthetic_ecg
    >>> from sklearn_ecg.evaluation import cross_val_cinc_report
    >>> data = make_synthetic_ecg(60, random_state=0)
    >>> features = data.X[:, :, ::10].reshape(60, -1)
    >>> model = MLPClassifier((16,), max_iter=500, random_state=0)
    >>> result = cross_val_cinc_report(model, features, data.y, classes=data.classes, cv=3)
    >>> sorted(result.pooled)
    ['accuracy', 'challenge', 'f2', 'g2', 'macro_auprc', 'macro_auroc', 'macro_f1']

    Scoring each fold's model also on other versions of its test records:

    >>> halved = FunctionTransformer(lambda X: X / 2)
    >>> result = cross_val_cinc_report(
    ...     model, features, data.y, classes=data.classes, cv=3, test_transforms={"halved": halved})
    >>> result.test_transforms["halved"].y_score.shape
    (60, 12)
    """
    y = np.asarray(y)
    if isinstance(cv, int):
        cv = MultilabelStratifiedKFold(cv, random_state=0)
    cv = check_cv(cv, y, classifier=True)
    transforms = dict(test_transforms or {})
    splits = list(cv.split(X, y, groups))
    outputs = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_score)(clone(estimator), X, y, train, test, transforms, return_gate_weights)
        for train, test in tqdm(splits, desc="folds", disable=not verbose)
    )
    tests = [test for _, test in splits]
    fold_of = np.full(len(y), -1)
    for fold, test in enumerate(tests):
        fold_of[test] = fold
    result = _assemble(y, tests, [output["scored"] for output in outputs], classes, year)
    for figures, output in zip(result.folds, outputs):
        figures["fit_time"] = output["fit_time"]
    result.update(fold_of=fold_of, classes=np.asarray(classes))
    if transforms:
        result.test_transforms = {
            name: _assemble(y, tests, [output["transformed"][name] for output in outputs], classes, year)
            for name in transforms
        }
    if return_gate_weights:
        result.update(_gather_gates(len(y), tests, [output["gates"] for output in outputs]))
    return result


def _fit_and_score(estimator, X, y, train, test, transforms, return_gate_weights):
    """Fit on ``train``, then score ``test`` and each transformed version of it."""
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    output = {"fit_time": time.perf_counter() - start}
    X_test = X[test]
    output["scored"] = _score(estimator, X_test)
    output["transformed"] = {
        name: _score(estimator, clone(transformer).fit(X[train]).transform(X_test))
        for name, transformer in transforms.items()
    }
    output["gates"] = _gate_weights(estimator, X_test) if return_gate_weights else None
    return output


def _score(estimator, X):
    """Probabilities, predictions and the seconds they took."""
    start = time.perf_counter()
    score = np.asarray(estimator.predict_proba(X))
    rule = _decision_rule(estimator)
    if rule is None:
        pred = np.asarray(estimator.predict(X))
    else:
        thresholds, at_least_one = rule
        pred = apply_thresholds(score, thresholds, at_least_one=at_least_one)
    return score, pred, time.perf_counter() - start


def _decision_rule(estimator):
    """``(thresholds_, at_least_one)`` of a classifier (or a pipeline's last step) that exposes them, else None."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(final, "thresholds_") and hasattr(final, "at_least_one"):
        return final.thresholds_, final.at_least_one
    return None


def _gate_weights(estimator, X):
    """(weights, modality names) of a gated estimator or pipeline; None without a gate."""
    if hasattr(estimator, "gate_weights"):
        gated = estimator
    elif isinstance(estimator, Pipeline) and hasattr(estimator[-1], "gate_weights"):
        gated = estimator[-1]
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
    else:
        return None
    weights = np.asarray(gated.gate_weights(X))
    names = getattr(gated, "modality_names_", range(weights.shape[1]))
    return weights, np.array([str(name) for name in names])


def _gather_gates(n_records, tests, gates):
    if any(gate is None for gate in gates):
        return {"gate_weights": None, "modality_names": None}
    weights = np.full((n_records, gates[0][0].shape[1]), np.nan)
    for test, (fold_weights, _) in zip(tests, gates):
        weights[test] = fold_weights
    return {"gate_weights": weights, "modality_names": gates[0][1]}


def _assemble(y, tests, scored, classes, year):
    """Out-of-fold arrays and figures from each fold's (score, pred, score_time)."""
    y_score = np.zeros(y.shape, dtype=float)
    y_pred = np.zeros_like(y)
    folds = []
    for test, (score, pred, score_time) in zip(tests, scored):
        y_score[test], y_pred[test] = score, pred
        figures = cinc_report(y[test], score, pred, classes=classes, year=year)
        folds.append({**figures, "score_time": score_time})
    return Bunch(
        folds=folds,
        pooled=cinc_report(y, y_score, y_pred, classes=classes, year=year),
        per_class=per_class_report(y, y_score, y_pred),
        y_true=y,
        y_score=y_score,
        y_pred=y_pred,
    )

