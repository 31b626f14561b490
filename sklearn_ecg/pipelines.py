"""The library's default full pipeline, as the command line runs it."""

from numbers import Integral

from sklearn.pipeline import Pipeline

from .fusion import GatedFusionClassifier, make_fusion_branches
from .model_selection import MultilabelThresholdTuner
from .preprocessing import LeadStandardizer

__all__ = ["make_default_pipeline"]

# Epochs per size preset: enough to learn on a few hundred records, few
# enough for ten folds on a 2-core CPU with the tiny preset.
_EPOCHS = {"tiny": (8, 30), "small": (20, 40), "paper": (100, 100)}


def make_default_pipeline(
    *,
    classes=None,
    fs=100,
    window=2.5,
    size="tiny",
    pretrain_epochs=None,
    finetune_epochs=None,
    branches=("time", "spectrogram"),
    fusion="gate",
    pretraining="fit",
    lead_mask_proba=0.5,
    ensemble=None,
    tuning_scoring="challenge",
    year=2020,
    device="auto",
    verbose=0,
    random_state=None,
):
    """Build the full pipeline of the multimodal self-KD method.

    Per-lead standardisation, then a :class:`GatedFusionClassifier` with two
    branches, each pretrained by self-knowledge distillation inside ``fit``:
    the time series (XResNet1d) and its STFT spectrogram (SE-ResNet), fused
    by the gate and fine-tuned end to end with random lead masking;
    per-class thresholds are tuned on the classifier's validation split, or,
    with ``ensemble``, on out-of-fold probabilities of an inner
    cross-validation whose models are averaged.

    Parameters
    ----------
    classes : array-like of str, default=None
        SNOMED-CT codes of the target columns (for threshold tuning on the
        challenge metric), or any names with another ``tuning_scoring``.
    fs : int, default=100
        Sampling rate of the signals in Hz.
    window : float, default=2.5
        Window length in seconds, for training crops and prediction windows.
    size : {"tiny", "small", "paper"}, default="tiny"
        Encoder size preset.
    pretrain_epochs, finetune_epochs : int, default=None
        Epochs of self-KD pretraining and of fine-tuning; None: the size
        preset's defaults.
    branches : sequence of {"time", "spectrogram"}, default=("time", "spectrogram")
        Modalities of the classifier, in the gate's order (the branches of
        :func:`~sklearn_ecg.fusion.make_fusion_branches`). One of them alone
        gives a single-modality model (ablation); its gate then has one
        weight, always 1, and ``fusion="concat"`` is the plain model.
    fusion : {"gate", "concat"}, default="gate"
        How the modalities are fused.
    pretraining : {"fit"} or None, default="fit"
        None trains the encoders from random weights (ablation).
    lead_mask_proba : float, default=0.5
        Random lead masking probability, in pretraining and fine-tuning.
    ensemble : int or None, default=None
        None: one classifier, trained with early stopping on a 10 %
        validation split that also tunes its thresholds. An int ``k >= 2``:
        a :class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner`
        with ``cv=k, ensemble=True`` around a classifier trained on all of
        its records for all its epochs (no validation split, no early
        stopping); thresholds are tuned on the inner out-of-fold
        probabilities and the ``k`` inner models' probabilities are
        averaged. About ``k`` times the training cost, and on the 247
        development records clearly better (``benchmarks/bench_fusion.py``).
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
    >>> pipe = make_default_pipeline(size="tiny", random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['standardize', 'classifier']
    >>> make_default_pipeline(ensemble=5, random_state=0)[-1].cv
    5
    >>> time_only = make_default_pipeline(branches=["time"], fusion="concat", pretraining=None)
    >>> [name for name, _ in time_only[-1].branches]
    ['time']
    """
    default_pretrain, default_finetune = _EPOCHS[size]
    samples = int(round(window * fs))
    branches = make_fusion_branches(
        branches,
        window=samples,
        fs=fs,
        size=size,
        max_epochs=pretrain_epochs or default_pretrain,
        lead_mask_proba=lead_mask_proba,
        device=device,
        verbose=verbose,
    )
    classifier = GatedFusionClassifier(
        branches=branches,
        fusion=fusion,
        pretraining=pretraining,
        window=samples,
        lead_mask_proba=lead_mask_proba,
        threshold="tuned",
        tuning_scoring=tuning_scoring,
        classes=classes,
        year=year,
        max_epochs=finetune_epochs or default_finetune,
        device=device,
        verbose=verbose,
        random_state=random_state,
    )
    if ensemble is not None:
        classifier = _cross_fitted_ensemble(classifier, ensemble, random_state)
    return Pipeline([("standardize", LeadStandardizer()), ("classifier", classifier)])


def _cross_fitted_ensemble(classifier, k, random_state):
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 2:
        raise ValueError(f"ensemble must be None or an int >= 2 (inner folds); got {k!r}.")
    # Every inner model learns from all of its records: on a few hundred
    # records, early stopping on a held-out tenth stops too early.
    classifier.set_params(threshold=0.5, validation_fraction=None, n_iter_no_change=None)
    return MultilabelThresholdTuner(
        classifier, cv=k, ensemble=True, scoring=classifier.tuning_scoring, classes=classifier.classes,
        year=classifier.year, random_state=random_state,
    )

