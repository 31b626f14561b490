"""
==========================================
Quickstart: cross-validate the full model
==========================================

A :class:`~sklearn.pipeline.Pipeline` of per-lead standardisation and a
:class:`~sklearn_ecg.fusion.GatedFusionClassifier` whose two branches, the
time series and its spectrogram, are pretrained without labels by
:class:`~sklearn_ecg.pretraining.SelfKDPretrainer` inside ``fit``. Because
pretraining and threshold tuning happen in ``fit``, ``cross_validate`` keeps
them inside each fold, on the training records only.

To run in seconds on one CPU core, this example uses tiny encoders, one
pretraining epoch, a few fine-tuning epochs and three folds. The library's
evaluation protocol is ten folds: ``sklearn-ecg cv`` (or
``cross_val_cinc_report(..., cv=10)``) runs it.
"""

# %%
# Data
# ----
# The embedded synthetic dataset: 12-lead records simulated from a cardiac
# dipole model, 10 s at 100 Hz, with 12 scored classes of the 2020 challenge.
# A folder of PhysioNet/CinC records loads the same way with
# :func:`~sklearn_ecg.datasets.load_physionet`.
from pathlib import Path

from sklearn_ecg.datasets import load_physionet, make_synthetic_ecg

folder = Path("physionet2020")  # a folder of NAME.hea + NAME.mat records, if you have one
data = load_physionet(folder) if folder.is_dir() else make_synthetic_ecg(120, random_state=0)
print(data.X.shape, data.y.shape)
print({name: int(n) for name, n in zip(data.class_names, data.y.sum(axis=0))})

# %%
# The model
# ---------
# Each branch is a scikit-learn estimator; the classifier clones and
# pretrains them in ``fit``, loads their encoders and fine-tunes encoders,
# gate and head together. ``threshold="tuned"`` chooses per-class decision
# thresholds on the classifier's validation split, a part of the training
# records.
from sklearn.pipeline import make_pipeline

from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

tiny = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=32)
model = make_pipeline(
    LeadStandardizer(),
    GatedFusionClassifier(
        branches=[
            ("time", SelfKDPretrainer(modality="time", **tiny)),
            ("spectrogram", make_pipeline(STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **tiny))),
        ],
        threshold="tuned",
        classes=data.classes,
        hidden_size=32,
        max_epochs=8,
        random_state=0,
    ),
)

# %%
# Cross-validation
# ----------------
# Multi-label stratified folds keep every class in every fold, and
# :func:`~sklearn_ecg.metrics.make_cinc_scorers` gives the seven figures of
# the challenge's official evaluation as scorers.
from sklearn.model_selection import cross_validate

from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelStratifiedKFold

cv = MultilabelStratifiedKFold(n_splits=3, random_state=0)  # the protocol: n_splits=10
scores = cross_validate(model, data.X, data.y, cv=cv, scoring=make_cinc_scorers(classes=data.classes))
names = [key.removeprefix("test_") for key in scores if key.startswith("test_")]
for name in names:
    print(f"{name:>12}: {scores['test_' + name].mean():.3f} +- {scores['test_' + name].std():.3f}")

# %%
# The figures, fold by fold. With so few records and epochs they say little
# about the method: ``benchmarks/bench_fusion.py`` runs the ten-fold
# protocol on the development records, beside the MiniRocket anchor.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(7, 3))
for i, name in enumerate(names):
    values = scores["test_" + name]
    ax.plot(np.full(len(values), i), values, "o", color="tab:blue", alpha=0.6)
    ax.plot([i - 0.25, i + 0.25], [values.mean()] * 2, color="black")
ax.set_xticks(range(len(names)), names, rotation=30)
ax.set_ylabel("score (3 folds)")
fig.tight_layout()
plt.show()
