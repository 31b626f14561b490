"""
===========================================
Lead-agnostic evaluation: 12, 6, 3, 1 leads
===========================================

Random lead masking (Oh et al., CHIL 2022) zeroes each lead of every
training sample with probability 0.5, so that one model trained on 12-lead
records also serves reduced lead sets, given as 12 channels with the absent
leads zeroed at their fixed index. :class:`~sklearn_ecg.preprocessing.LeadMasker`
builds those inputs: ``LeadMasker(leads=6)`` keeps the limb leads I, II,
III, aVR, aVL and aVF, ``leads=3`` keeps I, II and V2, ``leads=1`` lead I.

Two models are trained on the same folds, with and without masking (in
pretraining and fine-tuning), and each is scored on the test records of
every fold with 12, 6, 3 and 1 leads. Three folds and tiny encoders keep
it short; the library's protocol is ten folds.
"""

# %%
# Models
# ------
from sklearn.pipeline import make_pipeline

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

data = make_synthetic_ecg(90, random_state=0)


def build(lead_mask_proba):
    tiny = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=32, lead_mask_proba=lead_mask_proba)
    branches = [
        ("time", SelfKDPretrainer(modality="time", **tiny)),
        ("spectrogram", make_pipeline(STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **tiny))),
    ]
    classifier = GatedFusionClassifier(
        branches=branches, lead_mask_proba=lead_mask_proba, hidden_size=32, max_epochs=6, random_state=0
    )
    return make_pipeline(LeadStandardizer(), classifier)


# %%
# Train once, score on every lead set
# -----------------------------------
# The lead set is applied to the test records only: the models are trained
# on full 12-lead records. Leads are zeroed after the standardisation step,
# as the training masks zero them, so that an absent lead is exactly zero
# when it reaches the classifier. The macro AUROC needs no thresholds, so it
# shows the ranking quality of each model with each lead set.
import numpy as np

from sklearn_ecg.metrics import macro_auroc
from sklearn_ecg.model_selection import MultilabelStratifiedKFold
from sklearn_ecg.preprocessing import LeadMasker

lead_sets = [12, 6, 3, 1]
auroc = {"masked": np.zeros((3, 4)), "not masked": np.zeros((3, 4))}
cv = MultilabelStratifiedKFold(3, random_state=0)
for fold, (train, test) in enumerate(cv.split(data.X, data.y)):
    for name, p in [("masked", 0.5), ("not masked", 0.0)]:
        model = build(p).fit(data.X[train], data.y[train])
        standardized = model[:-1].transform(data.X[test])
        for j, k in enumerate(lead_sets):
            X_test = LeadMasker(leads=k).fit_transform(standardized)
            auroc[name][fold, j] = macro_auroc(data.y[test], model[-1].predict_proba(X_test))

for name, values in auroc.items():
    print(f"{name:>10}:", "  ".join(f"{k:2d} leads {v:.3f}" for k, v in zip(lead_sets, values.mean(axis=0))))

# %%
# With masking, fewer leads should cost less of the 12-lead AUROC. Three
# folds of 90 synthetic records and a few epochs make for a noisy picture;
# run it on more records (or real ones) and ten folds before drawing
# conclusions.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
for name, values in auroc.items():
    ax.errorbar(lead_sets, values.mean(axis=0), yerr=values.std(axis=0), marker="o", capsize=3, label=name)
ax.set_xticks(lead_sets)
ax.invert_xaxis()
ax.set_xlabel("leads given at test time")
ax.set_ylabel("macro AUROC (3 folds)")
ax.legend(title="training")
fig.tight_layout()
plt.show()
