"""The library's default full pipeline, as the command line runs it, and its pretrained start."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

from sklearn.pipeline import Pipeline

from .ensemble import MultilabelVotingClassifier
from .fusion import GatedFusionClassifier, make_fusion_branches
from .leads import LEAD_NAMES
from .linear_model import MiniRocketRidgeClassifier
from .model_selection import MultilabelThresholdTuner
from .preprocessing import LeadStandardizer
from .pretraining import ContrastivePretrainer, PretrainedEncoders, load_encoders

__all__ = ["BLENDS", "PRETRAINING_METHODS", "make_default_pipeline", "pretrain_encoders"]

# Epochs per size preset (pretraining, fine-tuning): enough to learn on a
# few hundred records, few enough for ten folds on a 2-core CPU with the
# tiny preset.
_EPOCHS = {"tiny": (8, 50), "small": (20, 40), "paper": (100, 100)}
_DEFAULT_SIZE = "tiny"
_MODALITIES = ("time", "spectrogram")  # the default branches, in the gate's order


@dataclass(frozen=True)
class _Method:
    """A pretraining method: how to build its unfitted branches, and its epochs per size preset.

    ``build(window, fs, **params)`` takes the window in samples, the
    sampling rate and the pretrainers' ``size``, ``max_epochs``,
    ``lead_mask_proba``, ``device`` and ``verbose``.
    """

    build: Callable
    epochs: dict


def _self_kd_branches(window, fs, **params):
    return make_fusion_branches(_MODALITIES, window=window, fs=fs, **params)


def _contrastive_branches(window, fs, **params):
    # CMSC on the library's XResNet1d with a projection head (the objective
    # that learned on the development pool); consecutive windows of a record
    # are its positive pairs. The records come standardised.
    return [("time", ContrastivePretrainer(objective="cmsc", encoder="xresnet1d", segment_length=window,
                                           standardize=False, **params))]


# One entry per pretraining method.
_METHODS = {
    "selfkd": _Method(_self_kd_branches, {size: epochs[0] for size, epochs in _EPOCHS.items()}),
    # A contrastive epoch is one pass over the pairs, far cheaper than a self-KD one.
    "contrastive": _Method(_contrastive_branches, {"tiny": 60, "small": 60, "paper": 200}),
}
PRETRAINING_METHODS = tuple(_METHODS)
"""Names of the methods of :func:`pretrain_encoders`."""

BLENDS = ("minirocket",)
"""Models that :func:`make_default_pipeline` can blend with the fused model."""


def pretrain_encoders(
    X,
    *,
    method="selfkd",
    fs=100,
    window=2.5,
    size=_DEFAULT_SIZE,
    epochs=None,
    leads=LEAD_NAMES,
    sources=(),
    lead_mask_proba=0.5,
    device="auto",
    verbose=0,
    random_state=None,
):
    """Pretrain the default pipeline's branches once, without labels, for reuse.

    The records are standardised per lead with their own statistics (as the
    default pipeline standardises its training records), then each branch of
    the method is pretrained on them. The result starts
    ``make_default_pipeline(pretrained=...)`` in every later fit and fold,
    which then fine-tunes without pretraining again; it is saved by
    :func:`~sklearn_ecg.pretraining.save_encoders`.

    Parameters
    ----------
    X : array-like of shape (n_records, n_leads, n_times)
        Unlabelled signals at ``fs`` Hz, e.g. a pool of several databases
        (:func:`~sklearn_ecg.datasets.load_folders` with ``labels=None``).
    method : {"selfkd", "contrastive"}, default="selfkd"
        ``"selfkd"``: the time and spectrogram branches of
        :func:`~sklearn_ecg.fusion.make_fusion_branches`, each pretrained by
        self-knowledge distillation
        (:class:`~sklearn_ecg.pretraining.SelfKDPretrainer`).
        ``"contrastive"``: the time branch (XResNet1d), pretrained by
        contrastive multi-segment coding
        (:class:`~sklearn_ecg.pretraining.ContrastivePretrainer` with
        ``objective="cmsc"``): consecutive windows of a record are positive
        pairs, with random lead masking.
    fs : float, default=100
        Sampling rate of ``X`` in Hz.
    window : float, default=2.5
        Window of the pretraining crops, in seconds: the ``window`` of the
        pipelines that start from these encoders.
    size : {"tiny", "small", "paper"}, default="tiny"
        Encoder size preset.
    epochs : int, default=None
        Pretraining epochs; None: the method's default for the size preset
        (self-KD: 8, 20, 100; contrastive: 60, 60, 200).
    leads : sequence of str, default=LEAD_NAMES
        Names of the leads of ``X``, in order.
    sources : sequence of str, default=()
        Names of the data (e.g. folders), kept in the encoders' header.
    lead_mask_proba : float, default=0.5
        Random lead masking probability of the pretraining views.
    device : str, default="auto"
        Torch device.
    verbose : int, default=0
        Training output of the pretrainers.
    random_state : int, RandomState instance or None, default=None
        Seeds every branch.

    Returns
    -------
    encoders : :class:`~sklearn_ecg.pretraining.PretrainedEncoders`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.pipelines import make_default_pipeline, pretrain_encoders
    >>> pool = np.random.default_rng(0).normal(size=(16, 12, 300)).astype(np.float32)
    >>> encoders = pretrain_encoders(pool, size="tiny", epochs=1, random_state=0)
    >>> encoders.modalities
    ('time', 'spectrogram')
    >>> make_default_pipeline(pretrained=encoders, ensemble=None, blend=None)[-1].pretraining
    'prefit'
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {PRETRAINING_METHODS}, got {method!r}.")
    if size not in _EPOCHS:
        raise ValueError(f"size must be one of {tuple(_EPOCHS)}, got {size!r}.")
    branches = _METHODS[method].build(
        int(round(window * fs)), fs, size=size, max_epochs=epochs or _METHODS[method].epochs[size],
        lead_mask_proba=lead_mask_proba, device=device, verbose=verbose,
    )
    return PretrainedEncoders.pretrain(branches, X, method=method, size=size, fs=fs, window=window, leads=leads,
                                       sources=sources, random_state=random_state)


def make_default_pipeline(
    *,
    classes=None,
    fs=100,
    window=2.5,
    size=None,
    pretrain_epochs=None,
    finetune_epochs=None,
    branches=None,
    fusion="gate",
    pretraining=None,
    pretrained=None,
    lead_mask_proba=0.5,
    ensemble=5,
    blend="minirocket",
    tuning_scoring="challenge",
    year=2020,
    device="auto",
    verbose=0,
    random_state=None,
):
    """Build the library's default pipeline: gated fusion and MiniRocket, blended and cross-fitted.

    Per-lead standardisation, then, by default, a cross-fitted ensemble
    (:class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner` with
    ``cv=5, ensemble=True``) of a blend
    (:class:`~sklearn_ecg.ensemble.MultilabelVotingClassifier`) of two
    models: a :class:`~sklearn_ecg.fusion.GatedFusionClassifier`, the time
    series and its STFT spectrogram fused by a learned gate, trained end to
    end with random lead masking, and a
    :class:`~sklearn_ecg.linear_model.MiniRocketRidgeClassifier`. Each of the
    five inner models trains on four fifths of the records; their
    out-of-fold probabilities tune the per-class thresholds on the challenge
    metric, and their mean probability predicts. On the development records
    this is what beat the tuned MiniRocket anchor (the user guide's "default
    pipeline" page and ``benchmarks/bench_default_quality.py``).

    The encoders start from random weights by default: on the development
    records, neither self-KD pretraining inside ``fit`` nor a time encoder
    pretrained contrastively on 585 other, unlabelled records did better
    once fine-tuned. The paper's model, both branches pretrained by
    self-knowledge distillation inside ``fit``, is ``pretraining="fit",
    blend=None``; with ``ensemble=None`` too, it is one model whose
    thresholds are tuned on its validation split. ``pretrained`` starts
    branches from encoders pretrained beforehand (:func:`pretrain_encoders`,
    ``sklearn-ecg pretrain``).

    Parameters
    ----------
    classes : array-like of str, default=None
        SNOMED-CT codes of the target columns (for threshold tuning on the
        challenge metric), or any names with another ``tuning_scoring``.
    fs : int, default=100
        Sampling rate of the signals in Hz.
    window : float, default=2.5
        Window length in seconds, for training crops and prediction windows.
    size : {"tiny", "small", "paper"}, default=None
        Encoder size preset; None: ``"tiny"``, or the size of the
        ``pretrained`` encoders (another size is an error then).
    pretrain_epochs, finetune_epochs : int, default=None
        Epochs of self-KD pretraining (with ``pretraining="fit"``) and of
        fine-tuning; None: the size preset's defaults.
    branches : sequence of {"time", "spectrogram"}, default=None
        Modalities of the classifier, in the gate's order (the branches of
        :func:`~sklearn_ecg.fusion.make_fusion_branches`); None: time and
        spectrogram. A branch the ``pretrained`` encoders have starts from
        them; the others are built as :func:`make_fusion_branches` builds
        them. One of them alone gives a single-modality model (ablation);
        its gate then has one weight, always 1, and ``fusion="concat"`` is
        the plain model.
    fusion : {"gate", "concat"}, default="gate"
        How the modalities are fused.
    pretraining : {"fit"} or None, default=None
        What ``fit`` does to the branches that do not start from
        ``pretrained`` encoders: ``"fit"`` pretrains them by self-KD on the
        training records (the paper's recipe); None starts them from random
        weights.
    pretrained : str, path-like, PretrainedEncoders or None, default=None
        Encoders pretrained beforehand: an encoders file (of
        :func:`~sklearn_ecg.pretraining.save_encoders` or ``sklearn-ecg
        pretrain``) or :class:`~sklearn_ecg.pretraining.PretrainedEncoders` (of
        :func:`pretrain_encoders`). The classifier takes them as frozen
        branches (``pretraining="prefit"`` with
        :class:`~sklearn.frozen.FrozenEstimator`): every fit, also of the
        clones that ``cross_validate`` and ``GridSearchCV`` make, loads their
        weights and fine-tunes them with the labels, without pretraining
        again. Their sampling rate and window must be ``fs`` and ``window``
        (a ValueError names what differs); the lead count is checked by
        ``fit``. None: no branch starts from pretrained encoders (see
        ``pretraining``), for any sampling rate and window.
    lead_mask_proba : float, default=0.5
        Random lead masking probability, in pretraining and fine-tuning.
    ensemble : int or None, default=5
        An int ``k >= 2``: a
        :class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner`
        with ``cv=k, ensemble=True`` around the model, each of whose ``k``
        inner models trains on all of its records for all its epochs (no
        validation split, no early stopping); thresholds are tuned on the
        inner out-of-fold probabilities and the inner models' probabilities
        are averaged. About ``k`` times the training of one model, and on
        the 247 development records clearly better
        (``benchmarks/bench_fusion.py``). None: one classifier, trained with
        early stopping on a 10 % validation split that also tunes its
        thresholds (not with ``blend``).
    blend : {"minirocket"} or None, default="minirocket"
        ``"minirocket"``: the mean probability of the fused model and a
        :class:`~sklearn_ecg.linear_model.MiniRocketRidgeClassifier`
        (:class:`~sklearn_ecg.ensemble.MultilabelVotingClassifier`, members
        ``"fusion"`` and ``"minirocket"``), whose thresholds are tuned on
        the blend's out-of-fold probabilities (needs ``ensemble``). The two
        err differently. None: the fused model alone.
    tuning_scoring : {"challenge", "f2", "g2", "macro_f1", "accuracy"}, default="challenge"
        Metric the per-class thresholds maximise. Classes that are not
        challenge codes (PTB-XL's, say) need another than ``"challenge"``.
    year : {2020, 2021}, default=2020
        Challenge year of ``classes``, whose weights the challenge metric
        uses.
    device : str, default="auto"
        Torch device.
    verbose : int, default=0
        Training output of the torch steps.
    random_state : int, RandomState instance or None, default=None
        Seeds every step.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_ecg.pipelines import make_default_pipeline
    >>> pipe = make_default_pipeline(random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['standardize', 'classifier']
    >>> tuner = pipe[-1]
    >>> tuner.cv, [name for name, _ in tuner.estimator.estimators]
    (5, ['fusion', 'minirocket'])
    >>> paper = make_default_pipeline(pretrained=None, pretraining="fit", blend=None, ensemble=None)
    >>> paper[-1].pretraining, [name for name, _ in paper[-1].branches]
    ('fit', ['time', 'spectrogram'])
    """
    samples = int(round(window * fs))
    fresh = dict(window=samples, fs=fs, lead_mask_proba=lead_mask_proba, device=device, verbose=verbose)
    if pretrained is None:
        size = size or _DEFAULT_SIZE
        branch_list = make_fusion_branches(_MODALITIES if branches is None else branches, size=size,
                                           max_epochs=pretrain_epochs or _EPOCHS[size][0], **fresh)
    else:
        encoders = _pretrained_encoders(pretrained)
        names = _MODALITIES if branches is None else tuple(_names(branches))
        others = [name for name in names if name not in encoders.modalities]
        _check_pretrained_options(encoders, size=size, pretrain_epochs=pretrain_epochs,
                                  pretrains=bool(others) and pretraining == "fit")
        encoders.check_compatible(fs=fs, window=window)
        size = encoders.size
        branch_list = _pretrained_branches(encoders, names, others, pretrain_epochs or _EPOCHS[size][0], fresh)
        pretraining = pretraining if others else "prefit"
    classifier = GatedFusionClassifier(
        branches=branch_list,
        fusion=fusion,
        pretraining=pretraining,
        window=samples,
        lead_mask_proba=lead_mask_proba,
        threshold="tuned",
        tuning_scoring=tuning_scoring,
        classes=classes,
        year=year,
        max_epochs=finetune_epochs or _EPOCHS[size][1],
        device=device,
        verbose=verbose,
        random_state=random_state,
    )
    model = classifier if blend is None else _blend(classifier, blend, ensemble, random_state)
    if ensemble is not None:
        model = _cross_fitted_ensemble(model, classifier, ensemble, random_state)
    return Pipeline([("standardize", LeadStandardizer()), ("classifier", model)])


def _pretrained_encoders(pretrained):
    if isinstance(pretrained, PretrainedEncoders):
        return pretrained
    if isinstance(pretrained, (str, os.PathLike)):
        return load_encoders(pretrained)
    raise TypeError(
        f"pretrained must be None, an encoders file or PretrainedEncoders; got {type(pretrained).__name__}."
    )


def _pretrained_branches(encoders, names, others, pretrain_epochs, fresh):
    """The encoders' frozen branches, and fresh ones of their size for the ``others`` they lack, in order."""
    covered = [name for name in names if name not in others]
    branches = dict(encoders.frozen_branches(covered) if covered else [])
    if others:
        branches.update(make_fusion_branches(others, size=encoders.size, max_epochs=pretrain_epochs, **fresh))
    return [(name, branches[name]) for name in names]


def _check_pretrained_options(encoders, *, size, pretrain_epochs, pretrains):
    """Options that contradict starting from ``encoders`` (``pretrains``: some other branch is pretrained in fit)."""
    if size is not None and size != encoders.size:
        raise ValueError(f"size={size!r}, but the pretrained encoders are {encoders.size!r}; leave size=None "
                         "to take theirs, or pass pretrained=None to build encoders of that size.")
    if pretrain_epochs is not None and not pretrains:
        raise ValueError("pretrain_epochs is for self-KD pretraining inside fit (pretraining='fit' of the branches "
                         "the pretrained encoders lack, or pretrained=None); here no branch is pretrained in fit.")


def _names(branches):
    return [branches] if isinstance(branches, str) else list(branches)


def _blend(classifier, blend, ensemble, random_state):
    if blend not in BLENDS:
        raise ValueError(f"blend must be None or one of {BLENDS}; got {blend!r}.")
    if ensemble is None:
        raise ValueError(f"blend={blend!r} needs ensemble: the blend's thresholds are tuned on its out-of-fold "
                         "probabilities. Pass ensemble=5, or blend=None.")
    return MultilabelVotingClassifier([
        ("fusion", classifier),
        ("minirocket", MiniRocketRidgeClassifier(random_state=random_state)),
    ])


def _cross_fitted_ensemble(model, classifier, k, random_state):
    """``model`` in a tuner whose inner models are averaged; ``classifier`` is its fused model."""
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 2:
        raise ValueError(f"ensemble must be None or an int >= 2 (inner folds); got {k!r}.")
    # Every inner model learns from all of its records: on a few hundred
    # records, early stopping on a held-out tenth stops too early.
    classifier.set_params(threshold=0.5, validation_fraction=None, n_iter_no_change=None)
    return MultilabelThresholdTuner(
        model, cv=k, ensemble=True, scoring=classifier.tuning_scoring, classes=classifier.classes,
        year=classifier.year, random_state=random_state,
    )
