"""Branches of end-to-end fine-tuning: their checks, their fitting, their torch parts.

A branch is a :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`, or a
pipeline ending in one whose other steps have a torch counterpart (a
``to_torch`` method) that can run on every random crop: at most one
:class:`~sklearn_ecg.preprocessing.STFTSpectrogram` and any
:class:`~sklearn_ecg.preprocessing.LeadStandardizer` (before or after the
STFT).
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..preprocessing import STFTSpectrogram
from ..pretraining import SelfKDPretrainer

_SHAPE_HINT = (
    "a SelfKDPretrainer(modality='time'), or a Pipeline ending in a SelfKDPretrainer whose other "
    "steps are LeadStandardizer and at most one STFTSpectrogram (then modality='spectrogram')"
)


@dataclass(frozen=True)
class BranchParts:
    """A branch's pretrainer and the steps before it."""

    name: str
    pretrainer: SelfKDPretrainer
    preprocessing: tuple = ()


def branch_parts(name, estimator):
    """Split a branch into its preprocessing steps and pretrainer, checking its shape.

    ``FrozenEstimator`` wrappers (of the branch or of its steps) are looked
    through: they mark steps fitted beforehand.
    """
    unwrapped = _unfrozen(estimator)
    if isinstance(unwrapped, Pipeline):
        steps = [_unfrozen(step) for _, step in unwrapped.steps if step not in (None, "passthrough")]
    else:
        steps = [unwrapped]
    *preprocessing, pretrainer = steps or [None]
    n_stft = sum(isinstance(step, STFTSpectrogram) for step in preprocessing)
    supported = all(hasattr(step, "to_torch") for step in preprocessing)
    if not isinstance(pretrainer, SelfKDPretrainer) or not supported or n_stft > 1:
        raise TypeError(
            f"Branch {name!r} must be {_SHAPE_HINT}; got {estimator!r}. Put other signal "
            "preprocessing before the classifier in an outer pipeline."
        )
    expected = "spectrogram" if n_stft else "time"
    if pretrainer.modality != expected:
        raise ValueError(
            f"Branch {name!r} feeds {'spectrograms' if n_stft else 'signals'} to a "
            f"SelfKDPretrainer(modality={pretrainer.modality!r}); it must be {_SHAPE_HINT}."
        )
    return BranchParts(name, pretrainer, tuple(preprocessing))


def fit_branches(branches, X, rng, *, pretrain):
    """Clones of the branches fitted on ``X`` (labels unused).

    With ``pretrain=False`` only the preprocessing steps are fitted, not the
    pretrainer. A ``random_state`` left as None anywhere in a branch gets a
    seed drawn from ``rng``, so that one seed makes the whole fit
    reproducible; seeds the user set are kept.
    """
    fitted = []
    for name, estimator in branches:
        estimator = clone(estimator)
        params = estimator.get_params(deep=True)
        unset = sorted(key for key, value in params.items()
                       if (key == "random_state" or key.endswith("__random_state")) and value is None)
        estimator.set_params(**{key: rng.randint(np.iinfo(np.int32).max) for key in unset})
        if pretrain:
            estimator.fit(X, None)  # FrozenEstimator.fit requires y, and ignores it
        elif isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
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


def _unfrozen(estimator):
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
