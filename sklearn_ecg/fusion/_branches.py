"""Branches of end-to-end fine-tuning: the paper's, their checks, their fitting, their torch parts.

A branch is a :class:`~sklearn_ecg.pretraining.SelfKDPretrainer` or a
:class:`~sklearn_ecg.pretraining.ContrastivePretrainer` (signals only), or
a pipeline ending in one whose other steps have a torch counterpart (a
``to_torch`` method) that can run on every random crop: at most one
:class:`~sklearn_ecg.preprocessing.STFTSpectrogram` and any
:class:`~sklearn_ecg.preprocessing.LeadStandardizer` (before or after the
STFT). A ``ContrastivePretrainer(standardize=True)`` adds its own fitted
standardisation to the branch's front end.
"""

from dataclasses import dataclass

from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._random import SKLEARN_SEED_BITS, draw_seed
from ..preprocessing import LeadStandardizer, STFTSpectrogram
from ..pretraining import ContrastivePretrainer, SelfKDPretrainer

MODALITIES = ("time", "spectrogram")
"""The branches :func:`make_fusion_branches` can build, in the paper's gate order."""
_PRETRAINERS = (SelfKDPretrainer, ContrastivePretrainer)
_SHAPE_HINT = (
    "a SelfKDPretrainer(modality='time') or a ContrastivePretrainer, or a Pipeline ending in one "
    "whose other steps are LeadStandardizer and at most one STFTSpectrogram (then a "
    "SelfKDPretrainer(modality='spectrogram'))"
)


def make_fusion_branches(branches=MODALITIES, *, window=None, fs=100, **pretrainer_params):
    """The branches of the multimodal self-KD paper, for :class:`GatedFusionClassifier`.

    ``"time"``: a :class:`~sklearn_ecg.pretraining.SelfKDPretrainer` on the
    signals (XResNet1d). ``"spectrogram"``: a pipeline of
    :class:`~sklearn_ecg.preprocessing.STFTSpectrogram`, per-lead
    standardisation of the spectrograms with one common scale
    (:class:`~sklearn_ecg.preprocessing.LeadStandardizer`) and a
    spectrogram ``SelfKDPretrainer`` (SE-ResNet). ``GatedFusionClassifier()``
    builds these with its own ``window``, ``lead_mask_proba``, ``device`` and
    ``verbose``.

    Parameters
    ----------
    branches : sequence of {"time", "spectrogram"} or str, default=("time", "spectrogram")
        The branches to build, in the gate's order; one alone gives a
        single-modality model.
    window : int or None, default=None
        Window of the pretrainers in signal samples (the spectrogram
        pretrainer gets the frames of that many samples); None: the
        pretrainers' default, 2.5 s at 100 Hz.
    fs : float, default=100
        Sampling rate of the signals, for the STFT's frequencies.
    **pretrainer_params
        Parameters of both pretrainers, e.g. ``size="tiny"``,
        ``max_epochs=5``, ``lead_mask_proba``, ``device``.

    Returns
    -------
    branches : list of (str, estimator)
        Unfitted, ready for ``GatedFusionClassifier(branches=...)``.

    Examples
    --------
    >>> from sklearn_ecg.fusion import make_fusion_branches
    >>> branches = make_fusion_branches(size="tiny", max_epochs=3)
    >>> [name for name, _ in branches]
    ['time', 'spectrogram']
    >>> [name for name, _ in branches[1][1].steps]
    ['stftspectrogram', 'leadstandardizer', 'selfkdpretrainer']
    >>> make_fusion_branches(window=500)[1][1][-1].window  # STFT frames of 500 samples
    40
    """
    names = [branches] if isinstance(branches, str) else list(branches)
    if not names or len(set(names)) != len(names) or not set(names) <= set(MODALITIES):
        raise ValueError(
            f"branches must be distinct modalities among {MODALITIES}, at least one; got {branches!r}."
        )
    stft = STFTSpectrogram(fs=fs)
    frames = None if window is None else stft.n_frames(window)
    build = {
        "time": lambda: SelfKDPretrainer(modality="time", window=window, **pretrainer_params),
        "spectrogram": lambda: make_pipeline(
            stft,
            LeadStandardizer(common_scale=True),
            SelfKDPretrainer(modality="spectrogram", window=frames, **pretrainer_params),
        ),
    }
    return [(name, build[name]()) for name in names]


@dataclass(frozen=True)
class BranchParts:
    """A branch's pretrainer and the steps before it."""

    name: str
    pretrainer: object
    preprocessing: tuple = ()


def branch_parts(name, estimator):
    """Split a branch into its preprocessing steps and pretrainer, checking its shape.

    ``FrozenEstimator`` wrappers (of the branch or of its steps) are looked
    through: they mark steps fitted beforehand. A fitted
    ``ContrastivePretrainer``'s input standardisation is the last
    preprocessing step.
    """
    unwrapped = _unfrozen(estimator)
    if isinstance(unwrapped, Pipeline):
        steps = [_unfrozen(step) for _, step in unwrapped.steps if step not in (None, "passthrough")]
    else:
        steps = [unwrapped]
    *preprocessing, pretrainer = steps or [None]
    n_stft = sum(isinstance(step, STFTSpectrogram) for step in preprocessing)
    supported = all(hasattr(step, "to_torch") for step in preprocessing)
    if not isinstance(pretrainer, _PRETRAINERS) or not supported or n_stft > 1:
        raise TypeError(
            f"Branch {name!r} must be {_SHAPE_HINT}; got {estimator!r}. Put other signal "
            "preprocessing before the classifier in an outer pipeline."
        )
    expected = "spectrogram" if n_stft else "time"
    modality = getattr(pretrainer, "modality", "time")
    if modality != expected:
        raise ValueError(
            f"Branch {name!r} feeds {'spectrograms' if n_stft else 'signals'} to a "
            f"{type(pretrainer).__name__} that takes {modality}; it must be {_SHAPE_HINT}."
        )
    own = getattr(pretrainer, "standardizer_", None)
    return BranchParts(name, pretrainer, tuple(preprocessing) + ((own,) if own is not None else ()))


def fit_branches(branches, X, rng, *, pretrain):
    """Clones of the branches fitted on ``X`` (labels unused).

    With ``pretrain=False`` only the preprocessing steps are fitted, not the
    pretrainer; the input standardisation of an unfitted
    ``ContrastivePretrainer(standardize=True)`` becomes a
    ``LeadStandardizer`` step fitted on ``X``. A ``random_state`` left as
    None anywhere in a branch gets a seed drawn from ``rng``, so that one
    seed makes the whole fit reproducible; seeds the user set are kept.
    """
    fitted = []
    for name, estimator in branches:
        estimator = clone(estimator)
        params = estimator.get_params(deep=True)
        unset = sorted(key for key, value in params.items()
                       if (key == "random_state" or key.endswith("__random_state")) and value is None)
        estimator.set_params(**{key: draw_seed(rng, bits=SKLEARN_SEED_BITS) for key in unset})
        if pretrain:
            estimator.fit(X, None)  # FrozenEstimator.fit requires y, and ignores it
        else:
            estimator = _with_own_standardizer(estimator)
            if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
                Pipeline(estimator.steps[:-1]).fit(X)
        fitted.append((name, estimator))
    return fitted


def check_pretrained(parts, n_leads):
    """The steps of a branch are fitted, its pretrainer on ``n_leads`` leads."""
    for step in parts.preprocessing + (parts.pretrainer,):
        check_is_fitted(step)
    if parts.pretrainer.n_leads_in_ != n_leads:
        raise ValueError(
            f"Branch {parts.name!r} was pretrained on {parts.pretrainer.n_leads_in_} leads, but X "
            f"has {n_leads}."
        )


def branch_modules(parts, n_leads, *, pretrained):
    """Front end and encoder of one branch of the fused network.

    ``pretrained``: the encoder gets the pretrainer's weights, loaded
    strictly; otherwise it is a freshly initialised encoder of the same
    architecture (the "without self-KD" ablation). The front end repeats
    the fitted preprocessing steps in torch (each step's ``to_torch``).
    Call under :func:`~sklearn_ecg._random.seeded_torch`: building draws
    initial weights from torch's global generator.
    """
    pretrainer = parts.pretrainer
    if pretrained:
        encoder = pretrainer.build_pretrained_encoder()
    else:
        encoder = pretrainer.build_untrained_encoder(n_leads)
    front = [step.to_torch() for step in parts.preprocessing]
    return (nn.Sequential(*front) if front else nn.Identity()), encoder


def _with_own_standardizer(estimator):
    """``estimator``, or a pipeline in which its pretrainer's unfitted input standardisation is a step."""
    steps = estimator.steps if isinstance(estimator, Pipeline) else [("pretrainer", estimator)]
    pretrainer = steps[-1][1]
    if not (isinstance(pretrainer, ContrastivePretrainer) and pretrainer.standardize):
        return estimator
    return Pipeline([*steps[:-1], ("input_standardizer", LeadStandardizer()), steps[-1]])


def is_frozen(estimator):
    """Whether a branch was fitted beforehand (wrapped in ``FrozenEstimator``)."""
    return isinstance(estimator, FrozenEstimator)


def _unfrozen(estimator):
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
