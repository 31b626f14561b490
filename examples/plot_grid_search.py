"""
====================================
Grid search over steps of a pipeline
====================================

A pipeline's steps are parameters like any other: ``GridSearchCV`` can swap
a whole step (a band-pass filter or ``"passthrough"``), change how the
classifier fuses its modalities, or reach into a branch
(``classifier__time__lead_mask_proba``). Every candidate is pretrained, fine-tuned and
thresholded inside each fold, so the search never sees its test records.

Tiny encoders, few epochs and three folds keep this example to seconds on
one CPU core.
"""

# %%
# Data and pipeline
# -----------------
from sklearn.pipeline import Pipeline, make_pipeline

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.preprocessing import BandpassFilter, LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

data = make_synthetic_ecg(72, duration=5.0, random_state=0)

tiny = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=32)
pipe = Pipeline(
    [
        ("filter", BandpassFilter(fs=100)),
        ("standardize", LeadStandardizer()),
        (
            "classifier",
            GatedFusionClassifier(
                branches=[
                    ("time", SelfKDPretrainer(modality="time", **tiny)),
                    ("spectrogram", make_pipeline(STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **tiny))),
                ],
                classes=data.classes,
                hidden_size=32,
                max_epochs=3,
                random_state=0,
            ),
        ),
    ]
)

# %%
# The grid
# --------
# Four candidates: with or without the band-pass filter, gated or
# concatenated fusion. The seven challenge scorers are all computed; the
# challenge metric picks the refitted model.
from sklearn.model_selection import GridSearchCV

from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelStratifiedKFold

grid = {
    "filter": [BandpassFilter(fs=100), "passthrough"],
    "classifier__fusion": ["gate", "concat"],
}
search = GridSearchCV(
    pipe,
    grid,
    cv=MultilabelStratifiedKFold(3, random_state=0),
    scoring=make_cinc_scorers(classes=data.classes),
    refit="challenge",
)
search.fit(data.X, data.y)
print("best:", search.best_params_)

# %%
# Results
# -------
# Mean and spread over the folds of two figures per candidate: the
# challenge metric (thresholded predictions) and the macro AUROC (ranking
# only). On 72 short records and a few epochs, differences between
# candidates are mostly noise; ANCHORS.md asks for several seeds before
# calling a winner.
import matplotlib.pyplot as plt
import numpy as np

results = search.cv_results_
labels = [
    f"{'filter' if params['filter'] != 'passthrough' else 'no filter'}\n{params['classifier__fusion']}"
    for params in results["params"]
]
fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharex=True)
for ax, name in zip(axes, ["challenge", "macro_auroc"]):
    ax.errorbar(
        np.arange(len(labels)), results[f"mean_test_{name}"], yerr=results[f"std_test_{name}"], fmt="o", capsize=3
    )
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_title(name)
fig.tight_layout()
plt.show()
